"""The case page and the list at work (issue 14): the checklist that builds the one notice
of missing material, previews of what an action writes (the referral letter with exactly
the fields the authority's rule allows, the interim reply), bulk actions on the selected
cases, and the keyboard shortcuts. Over HTTP (starlette's TestClient) on SQLite and
PostgreSQL with mail delivered to the aiosmtpd server, and in Chromium (Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import func, select
from starlette.testclient import TestClient

from casework.models import Case, MaterialRequest, Referral, TimelineEvent
from casework.status import CaseStatus
from notifications.models import OutboxMail
from routing import commands
from tests.fixtures.web import SECRET, Site, csrf_of
from tests.test_web_browser import Live, live, mails_to  # noqa: F401 - the live fixture
from web.forms import form_of, given_of, texts_from
from web.models import CaseView

RUDE = "12月2日接线员态度粗暴，和我争吵。"
NO_DATE = "接线员态度粗暴，和我争吵。"
NAMES_LINA = "12月2日李娜态度粗暴，和我争吵。"
PROJECT = "12月1日申请药品援助项目，审核一直拖延，没有答复。"
PATIENT = "patient@example.cn"


@pytest.fixture
def site(tmp_path: Path, db_url: str, smtp_server: Any,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """The console with mail going to the aiosmtpd server."""
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    built = Site(tmp_path, db_url, smtp=smtp_server)
    try:
        yield built
    finally:
        built.app.close()


def handler_of(site: Site, ref: str) -> str:
    handler = site.case(ref).assignments[-1].handler
    assert handler is not None
    return handler


def post_form(client: TestClient, page_path: str, target: str,
              data: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    token = csrf_of(client.get(page_path).text)
    answer: Response = client.post(target, data={"csrf_token": token, **data}, headers=headers)
    return answer


def delivered(site: Site, smtp: Any, address: str) -> list[EmailMessage]:
    """The mail the outbox sent to ``address`` (through the SMTP server)."""
    site.app.send_outbox()
    return [m.message for m in mails_to(smtp, address)]


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def outbox_count(site: Site) -> int:
    with site.app.session_factory() as session:
        return int(session.scalar(select(func.count(OutboxMail.id))) or 0)


# -- the checklist that builds the one notice ---------------------------------------------


def test_the_checklist_offers_the_categorys_material_and_sends_one_notice(
        site: Site, smtp_server: Any) -> None:
    ref = site.mail(RUDE)  # complete: contact and date are there
    site.add_people()
    client = site.signed_in(handler_of(site, ref))
    page = client.get(f"/cases/{ref}").text
    for key in ("contact", "event_date", "service", "documents"):
        assert f'name="items" value="{key}"' in page
    # Nothing required is missing, so nothing is ticked; required ones read "present".
    assert 'value="contact" checked' not in page and "已有" in page
    before = len(mails_to(smtp_server, PATIENT))
    answer = post_form(client, f"/cases/{ref}", f"/cases/{ref}/act/request-material",
                       {"items": ["documents", "通话录音\n 缴费单据 \n"]})
    assert answer.status_code == 303, answer.text
    with site.app.session_factory() as session:
        (request,) = session.scalars(select(MaterialRequest))
        assert request.items == ["documents", "通话录音", "缴费单据"]
    mails = delivered(site, smtp_server, PATIENT)[before:]
    assert len(mails) == 1  # all of them in one notice
    text = body_of(mails[0])
    for words in ("相关证明材料", "通话录音", "缴费单据"):
        assert words in text
    assert site.case(ref).status is CaseStatus.AWAITING_MATERIAL


def test_ticked_boxes_and_typed_lines_read_as_one_list() -> None:
    from starlette.datastructures import FormData

    action = commands.action_named("request-material")
    (field,) = form_of(action).fields
    assert field.kind == "items"
    sent = FormData([("items", "documents"), ("items", "contact"),
                     ("items", "通话录音\n\n 缴费单据；发票 ")])
    texts = texts_from(action, given_of(sent))
    assert action.values_from_text(texts) == {
        "items": ["documents", "contact", "通话录音", "缴费单据", "发票"]}


def test_the_checklist_ticks_what_is_missing_and_warns_before_a_second_notice(
        site: Site) -> None:
    ref = site.mail(NO_DATE)  # intake asked for the date already (notice 1)
    site.add_people()
    page = site.signed_in(handler_of(site, ref)).get(f"/cases/{ref}").text
    assert 'value="event_date" checked' in page and 'value="contact" checked' not in page
    assert "本案已发过 1 次补充材料通知" in page and "记为违诺" in page
    english = site.signed_in(handler_of(site, ref))
    english.get("/lang/en")
    assert "has had 1 notice(s) of missing material" in english.get(f"/cases/{ref}").text


# -- previews ------------------------------------------------------------------------------


def _opened_by_hand(site: Site) -> str:
    client = site.signed_in("liuyang")
    answer = post_form(client, "/new", "/new", {
        "channel": "phone", "name": "赵六", "phone": "13800001234", "email": PATIENT,
        "subject": "电话投诉", "text": RUDE, "consent": "no"})
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"].split("/cases/")[1].split("?")[0])


def test_the_referral_letter_preview_is_the_letter_with_only_the_fields_the_rule_allows(
        site: Site, smtp_server: Any) -> None:
    site.add_people()
    ref = _opened_by_hand(site)
    client = site.signed_in(handler_of(site, ref))
    page = client.get(f"/cases/{ref}").text
    previewed = {a.name for a in commands.ACTIONS if a.previewed}
    assert {"refer", "reply", "request-material"} <= previewed
    for action in commands.ACTIONS:
        if not action.creates_case and action.may("handler"):
            assert (f"/cases/{ref}/preview/{action.name}\"" in page) == action.previewed
    queued, status = outbox_count(site), site.case(ref).status
    # civil_affairs may have the name and the email, never the phone.
    civil = post_form(client, f"/cases/{ref}", f"/cases/{ref}/preview/refer",
                      {"target": "civil_affairs"})
    assert civil.status_code == 200 and "<html" in civil.text  # a page without JavaScript
    assert "赵六" in civil.text and PATIENT in civil.text and "13800001234" not in civil.text
    assert "按预览执行" in civil.text
    health = post_form(client, f"/cases/{ref}", f"/cases/{ref}/preview/refer",
                       {"target": "health_commission"}, headers={"HX-Request": "true"})
    assert health.status_code == 200 and "<html" not in health.text  # the htmx fragment
    assert "13800001234" in health.text
    # Nothing of a preview remains: no mail, no referral, the same status.
    assert outbox_count(site) == queued and site.case(ref).status == status
    with site.app.session_factory() as session:
        assert session.scalar(select(func.count(Referral.id))) == 0
    # Sent for real: the authority's letter is the one previewed.
    letter_preview = civil.text
    done = post_form(client, f"/cases/{ref}", f"/cases/{ref}/act/refer",
                     {"target": "civil_affairs"})
    assert done.status_code == 303
    address = site.app.desk.config.authorities["civil_affairs"].email  # type: ignore[union-attr]
    (letter,) = delivered(site, smtp_server, address)
    sent = body_of(letter)
    assert "13800001234" not in sent and "赵六" in sent
    for line in (x.strip() for x in sent.splitlines()):
        if line and "http" not in line:
            assert _escaped(line) in letter_preview, line


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
        .replace('"', "&#34;").replace("'", "&#39;")


def test_the_interim_reply_is_previewed_then_sent_as_previewed(site: Site,
                                                               smtp_server: Any) -> None:
    ref = site.mail(RUDE)
    site.add_people()
    client = site.signed_in(handler_of(site, ref))
    reply = "您好，我们已调取当天的通话录音，预计下周给您答复。"
    queued = outbox_count(site)
    shown = post_form(client, f"/cases/{ref}", f"/cases/{ref}/preview/reply",
                      {"text": reply})
    assert shown.status_code == 200 and reply in shown.text and PATIENT in shown.text
    assert outbox_count(site) == queued
    with site.app.session_factory() as session:
        assert session.scalar(select(func.count(TimelineEvent.id)).where(
            TimelineEvent.kind == "interim_reply")) == 0
        # Looking is recorded, as any view of the case (the preview shows the address).
        assert session.scalar(select(func.count(CaseView.id)).where(
            CaseView.what == "preview:reply")) == 1
    # The preview page's button posts exactly what was previewed.
    token = csrf_of(shown.text)
    sent = client.post(f"/cases/{ref}/act/reply", data={"csrf_token": token, "text": reply})
    assert sent.status_code == 303
    replies = [m for m in delivered(site, smtp_server, PATIENT) if reply in body_of(m)]
    assert len(replies) == 1
    empty = post_form(client, f"/cases/{ref}", f"/cases/{ref}/preview/reply", {"text": " "},
                      headers={"HX-Request": "true"})
    assert empty.status_code == 200 and "未执行" in empty.text


def test_a_preview_follows_the_actions_role_rule_and_hides_an_excluded_case(
        site: Site) -> None:
    ref = site.mail(NAMES_LINA)
    site.add_people()
    outsider = site.signed_in("chenjing")
    answer = post_form(outsider, "/", f"/cases/{ref}/preview/reply", {"text": "x"})
    assert answer.status_code == 403
    named = site.signed_in("lina")
    assert post_form(named, "/", f"/cases/{ref}/preview/reply",
                     {"text": "x"}).status_code == 404


# -- bulk actions --------------------------------------------------------------------------


def test_bulk_actions_run_case_by_case_under_each_cases_rules(site: Site,
                                                               smtp_server: Any) -> None:
    first, second = site.mail(RUDE), site.mail(RUDE)
    project = site.mail(PROJECT)
    site.add_people()
    assert site.case(project).department == "projects"
    boss = site.signed_in("wangfang")  # supervises the service department only
    listing = boss.get("/cases").text
    assert 'action="/cases/bulk"' in listing and f'name="ref" value="{first}"' in listing
    chosen = boss.get("/cases/bulk", params={"action": "note",
                                             "ref": [first, second, "LO-2025-999999"]})
    assert chosen.status_code == 200 and first in chosen.text and second in chosen.text
    assert "另有 1 个编号未找到" in chosen.text
    done = post_form(boss, "/cases", "/cases/bulk", {
        "action": "note", "text": "已电话联系投诉人",
        "ref": [first, second, project, "LO-2025-999999"]})
    assert done.status_code == 200 and "已执行 2 件，未执行 2 件" in done.text
    assert "您在本案中没有执行此操作的权限" in done.text and "未找到" in done.text
    for ref in (first, second):
        notes = [e for e in site.case(ref).events if e.kind == "note"]
        assert [(e.actor, e.details["text"]) for e in notes] == [("web:wangfang",
                                                                  "已电话联系投诉人")]
    assert not [e for e in site.case(project).events if e.kind == "note"]

    before = len(mails_to(smtp_server, "wang.fang@oasis.example.org"))
    moved = post_form(boss, "/cases", "/cases/bulk", {
        "action": "reassign", "target": "王芳", "ref": [first, second]})
    assert "已执行 2 件，未执行 0 件" in moved.text
    assert {handler_of(site, r) for r in (first, second)} == {"wangfang"}
    told = delivered(site, smtp_server, "wang.fang@oasis.example.org")[before:]
    assert sorted(r for r in (first, second) if any(r in str(m["Subject"]) for m in told)) \
        == sorted([first, second])

    merged = post_form(boss, "/cases", "/cases/bulk", {
        "action": "merge", "target": first, "ref": [first, second]})
    assert "已执行 1 件，未执行 1 件" in merged.text and "同一案件" in merged.text
    assert site.case(second).status is CaseStatus.CLOSED
    assert site.case(first).status is not CaseStatus.CLOSED


def test_a_case_one_is_excluded_from_is_never_listed_or_touched_in_bulk(site: Site) -> None:
    hidden = site.mail(NAMES_LINA)
    mine = site.mail(RUDE)
    site.add_people()
    lina = site.signed_in("lina")
    listing = lina.get("/cases").text
    assert hidden not in listing and f'value="{mine}"' in listing
    chosen = lina.get("/cases/bulk", params={"action": "note", "ref": [hidden]})
    assert chosen.status_code == 400 and hidden not in chosen.text.split("<main")[1]
    done = post_form(lina, "/cases", "/cases/bulk", {
        "action": "note", "text": "看看", "ref": [hidden, "LO-2025-999999"]})
    rows = done.text.split("<tbody>")[1]
    assert rows.count("未找到") == 2 and "已执行 0 件" in done.text
    assert not [e for e in site.case(hidden).events if e.kind == "note"]
    with site.app.session_factory() as session:
        assert session.scalar(select(func.count(Case.id))) == 2


def test_an_auditor_has_no_bulk_actions(site: Site) -> None:
    ref = site.mail(RUDE)
    site.add_people({"zhangwei": ["auditor"]})
    auditor = site.signed_in("zhangwei")
    assert 'action="/cases/bulk"' not in auditor.get("/cases").text
    assert auditor.get("/cases/bulk", params={"action": "note", "ref": ref}).status_code == 403
    answer = post_form(auditor, "/cases", "/cases/bulk", {"action": "note", "text": "x",
                                                           "ref": ref})
    assert answer.status_code == 403
    assert not [e for e in site.case(ref).events if e.kind == "note"]


# -- keyboard shortcuts --------------------------------------------------------------------


def test_the_shortcuts_are_listed_on_a_page_and_every_page_carries_their_script(
        site: Site) -> None:
    site.add_people()
    client = site.signed_in("zhangwei")
    page = client.get("/shortcuts")
    assert page.status_code == 200
    for keys in ("g w", "g c", "/", "j", "k", "o", "x", "?"):
        assert f'data-keys="{keys}"' in page.text
    assert "列表中的下一件" in page.text
    home = client.get("/").text
    assert '<script src="/static/shortcuts.js" defer></script>' in home
    assert '<dialog id="shortcuts"' in home and 'href="/shortcuts"' in home
    script = client.get("/static/shortcuts.js")
    assert script.status_code == 200 and "isContentEditable" in script.text
    client.get("/lang/en")
    assert "next case in the list" in client.get("/shortcuts").text


# -- in the browser ------------------------------------------------------------------------


@pytest.mark.browser
def test_in_the_browser_the_checklist_is_previewed_then_sent(live: Live,  # noqa: F811
                                                             smtp_server: Any) -> None:
    ref = live.run(live.site.mail, RUDE, name="赵六")
    live.site.add_people()
    page = live.page(handler_of(live.site, ref))
    page.goto(f"{live.url}/cases/{ref}")
    page.locator("#action-request-material summary").click()
    page.get_by_label("相关证明材料（如申请表、收据、照片）").check()
    page.get_by_label("其他材料（每行一项）").fill("通话录音")
    page.locator("#action-request-material").get_by_role("button", name="预览").click()
    shown = page.locator("#preview-request-material .mail-text")
    shown.wait_for()
    assert "通话录音" in shown.inner_text() and "相关证明材料" in shown.inner_text()
    assert page.url.endswith(f"/cases/{ref}")  # swapped in place, nothing sent
    page.get_by_role("button", name="执行：补充材料").click()
    page.wait_for_url(f"**/cases/{ref}?done=request-material*")
    before = len(mails_to(smtp_server, PATIENT))
    live.run(live.site.app.send_outbox)
    notices = [m for m in mails_to(smtp_server, PATIENT)[before:]
               if "通话录音" in body_of(m.message)]
    assert len(notices) == 1
    page.context.close()


@pytest.mark.browser
def test_in_the_browser_a_selection_gets_a_note_in_bulk(live: Live) -> None:  # noqa: F811
    first = live.run(live.site.mail, RUDE)
    second = live.run(live.site.mail, RUDE)
    live.site.add_people()
    page = live.page("wangfang", width=390)
    page.goto(f"{live.url}/cases")
    page.get_by_label(f"选择 {first}").check()
    page.get_by_label(f"选择 {second}").check()
    page.get_by_label("对选中的案件").select_option("note")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/cases/bulk?*")
    page.get_by_label("文字").fill("批量备注")
    page.get_by_role("button", name="执行：备注").click()
    assert page.get_by_role("status").inner_text() == "已执行 2 件，未执行 0 件。"
    for ref in (first, second):
        assert any(e.kind == "note" for e in live.site.case(ref).events)
    page.context.close()


@pytest.mark.browser
def test_in_the_browser_the_shortcuts_move_open_and_stay_out_of_fields(
        live: Live) -> None:  # noqa: F811
    refs = {live.run(live.site.mail, RUDE), live.run(live.site.mail, RUDE)}
    live.site.add_people()
    page = live.page("wangfang")
    page.keyboard.press("g")
    page.keyboard.press("c")
    page.wait_for_url(f"{live.url}/cases")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("jk")  # typed into the search box, not taken as shortcuts
    assert page.locator("#q").input_value() == "jk"
    assert page.locator("tr.cursor").count() == 0
    # The search box searches as one types (htmx): let that list come before moving in it.
    page.wait_for_url("**q=jk*")
    page.locator("#q").fill("")
    page.wait_for_url(lambda url: "q=jk" not in url)
    page.wait_for_load_state("networkidle")
    page.locator("h1").click()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    rows = page.locator("table.cases tbody tr")
    assert "cursor" in (rows.nth(0).get_attribute("class") or "")
    page.keyboard.press("x")
    assert rows.nth(0).locator("input[type=checkbox]").is_checked()
    rows.nth(1).locator("input[type=checkbox]").click()  # a box in focus: still shortcuts
    page.keyboard.press("j")
    assert "cursor" in (rows.nth(1).get_attribute("class") or "")
    page.keyboard.press("k")
    assert "cursor" in (rows.nth(0).get_attribute("class") or "")
    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    assert "列表中的下一件" in page.locator("#shortcuts").inner_text()
    page.keyboard.press("Escape")
    assert not page.locator("#shortcuts").is_visible()
    newest = rows.nth(0).locator("a").inner_text()
    page.locator("h1").click()
    page.keyboard.press("o")
    page.wait_for_url(f"**/cases/{newest}")
    assert newest in refs
    page.context.close()


@pytest.mark.browser
def test_without_javascript_the_referral_preview_is_a_page_that_sends_it(
        live: Live, smtp_server: Any) -> None:  # noqa: F811
    live.site.add_people()
    ref = live.run(_opened_by_hand, live.site)
    context = live.browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live.url}/sign-in")
    page.get_by_label("工号或邮箱").fill(handler_of(live.site, ref))
    page.get_by_label("密码").fill("correct horse battery")
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live.url}/cases/{ref}")
    page.locator("#action-refer summary").click()
    page.locator("#refer-target").fill("civil_affairs")
    page.locator("#action-refer").get_by_role("button", name="预览").click()
    page.wait_for_url(f"**/cases/{ref}/preview/refer")
    assert page.locator(".mail-preview").count() == 2  # the letter, and the complainant told
    address = live.site.app.desk.config.authorities["civil_affairs"].email  # type: ignore[union-attr]
    letter = page.locator(".mail-preview", has_text=address).locator(".mail-text").inner_text()
    assert "赵六" in letter and "13800001234" not in letter
    page.get_by_role("button", name="按预览执行：移送").click()
    page.wait_for_url(f"**/cases/{ref}?done=refer*")
    assert live.site.case(ref).status is CaseStatus.REFERRED
    context.close()


def test_these_words_take_the_place_of_none_of_the_consoles() -> None:
    """``web.i18n`` takes the words of this part in with ``TEXT.update``: a key already in
    its own table would be replaced without a word, so none may be."""
    import ast

    from web import i18n
    from web.words_casework import WORDS

    tree = ast.parse(Path(i18n.__file__).read_text(encoding="utf-8"))
    table = next(node.value for node in ast.walk(tree) if isinstance(node, ast.AnnAssign)
                 and isinstance(node.target, ast.Name) and node.target.id == "TEXT")
    assert isinstance(table, ast.Dict)
    own = {key.value for key in table.keys if isinstance(key, ast.Constant)}
    assert len(own) > 100 and not own & set(WORDS)
