"""The privacy page (issue 17): a person's copy, correction and erasure from the console,
each with its confirmation step and CSRF, written to the privacy register and the account
log as the CLI writes them; directors and administrators act, an auditor reads. Over
HTTP on SQLite and PostgreSQL, then in Chromium at desktop and phone widths."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import select
from starlette.testclient import TestClient

from casework.models import Case, Party
from casework.status import CaseStatus
from casework.transitions import transition
from privacy.models import PrivacyAction
from privacy.redact import ERASED
from tests.fixtures.web import SECRET, Site, csrf_of
from tests.test_web_browser import Live
from web.models import AccountEvent
from web.serve import Background

PEOPLE = {"sunli": ["director"], "zhaolei": ["administrator"], "zhangwei": ["handler"],
          "chenjing": ["auditor"]}
PATIENT = "wang.fang@example.cn"
WORDS = "我母亲在瑞金医院的救助款迟迟未发放"


@pytest.fixture
def site(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    made = Site(tmp_path, db_url)
    made.add_people(PEOPLE)
    try:
        yield made
    finally:
        made.app.close()


def post(client: TestClient, path: str, **data: str) -> Response:
    token = csrf_of(client.get("/privacy").text)
    answer: Response = client.post(path, data={"csrf_token": token, **data})
    return answer


def close_case(site: Site, reference: str) -> None:
    with site.app.session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        transition(case, CaseStatus.CLOSED, actor="test", at=site.clock.now(), reason="done")


def register(site: Site) -> list[PrivacyAction]:
    with site.app.session_factory() as session:
        return list(session.scalars(select(PrivacyAction).order_by(PrivacyAction.id)))


def account_log(site: Site) -> list[tuple[str, str, str]]:
    with site.app.session_factory() as session:
        return [(e.actor, e.staff_id, e.action) for e in session.scalars(
            select(AccountEvent).order_by(AccountEvent.id))]


def test_who_may_see_and_act(site: Site) -> None:
    for staff, code in (("zhangwei", 403), ("chenjing", 200), ("sunli", 200),
                        ("zhaolei", 200)):
        assert site.signed_in(staff).get("/privacy").status_code == code, staff
    auditor = site.signed_in("chenjing")
    assert 'action="/privacy/erase"' not in auditor.get("/privacy").text
    token = csrf_of(auditor.get("/privacy").text)
    refused = auditor.post("/privacy/erase", data={"csrf_token": token, "email": PATIENT,
                                                   "confirm": "yes"})
    assert refused.status_code == 403
    handler = site.signed_in("zhangwei")
    assert 'href="/privacy"' not in handler.get("/").text
    # Without the CSRF token nothing runs, for anyone.
    director = site.signed_in("sunli")
    assert director.post("/privacy/erase", data={"email": PATIENT, "confirm": "yes"}
                         ).status_code == 403
    assert register(site) == []


def test_an_erasure_shows_its_dry_run_then_erases_when_confirmed(site: Site) -> None:
    ended = site.mail(WORDS, sender=PATIENT, name="王芳")
    close_case(site, ended)
    still_open = site.mail("新的投诉：药费报销没有回音", sender=PATIENT, name="王芳")
    director = site.signed_in("sunli")
    preview = post(director, "/privacy/erase", email=PATIENT.upper())
    assert preview.status_code == 200
    assert ended in preview.text and still_open in preview.text
    assert "案件尚未办结" in preview.text and 'name="confirm" value="yes"' in preview.text
    # The step before confirming changed nothing but the register's dry run.
    assert WORDS in site.case(ended).subject + "".join(
        m.body_text for m in _messages(site, ended))
    assert [(r.action, r.dry_run) for r in register(site)] == [("erase", True)]
    done = post(director, "/privacy/erase", email=PATIENT, confirm="yes")
    assert done.status_code == 303 and done.headers["location"] == "/privacy?done=erase"
    assert all(WORDS not in m.body_text for m in _messages(site, ended))
    assert site.case(ended).subject == ERASED
    assert site.case(still_open).complainant_id is not None  # the open case is held
    rows = register(site)
    assert [(r.action, r.dry_run, r.actor) for r in rows] == \
        [("erase", True, "web:sunli"), ("erase", False, "web:sunli")]
    assert rows[1].details["cases"] == [ended]
    assert rows[1].details["held"] == [{"reference": still_open, "why": "case open"}]
    assert rows[1].subject == rows[0].subject and rows[1].subject
    assert PATIENT not in json.dumps(rows[1].details)
    assert account_log(site) == [("web:sunli", "sunli", "privacy_erase_dry_run"),
                                 ("web:sunli", "sunli", "privacy_erase")]
    page = director.get("/privacy?done=erase").text
    assert "已删除，并记入登记。" in page and ended in page and "web:sunli" in page


def _messages(site: Site, reference: str) -> list[Any]:
    with site.app.session_factory() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        return list(case.messages)


def test_an_export_downloads_the_zip_and_a_correction_changes_the_party(site: Site) -> None:
    reference = site.mail(WORDS, sender=PATIENT, name="王芳")
    admin = site.signed_in("zhaolei")
    preview = post(admin, "/privacy/export", email=PATIENT)
    assert reference in preview.text and register(site) == []
    download = post(admin, "/privacy/export", email=PATIENT, confirm="yes")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert download.headers["cache-control"] == "no-store"
    assert "attachment" in download.headers["content-disposition"]
    person = json.loads(zipfile.ZipFile(io.BytesIO(download.content)).read("person.json"))
    assert person["parties"][0]["email"] == PATIENT
    assert WORDS in json.dumps(person, ensure_ascii=False)
    asked = post(admin, "/privacy/correct", email=PATIENT, new_phone="13912345678")
    assert "13912345678" in asked.text and register(site)[-1].action == "export"
    done = post(admin, "/privacy/correct", email=PATIENT, new_phone="13912345678",
                confirm="yes")
    assert done.status_code == 303
    with site.app.session_factory() as session:
        party = session.scalars(select(Party).where(Party.email == PATIENT)).one()
        assert party.phone == "13912345678"
    assert [(r.action, r.details.get("fields")) for r in register(site)] == \
        [("export", None), ("correct", ["phone"])]
    assert [a for _, _, a in account_log(site)] == ["privacy_export", "privacy_correct"]


def test_bad_input_gets_a_clear_answer_and_nothing_runs(site: Site) -> None:
    site.mail(WORDS, sender=PATIENT, name="王芳")
    director = site.signed_in("sunli")
    both = post(director, "/privacy/erase", email=PATIENT, phone="13800000000",
                confirm="yes")
    assert both.status_code == 400 and "请填写电子邮箱或电话号码" in both.text
    short = post(director, "/privacy/export", phone="12345")
    assert short.status_code == 400
    nothing = post(director, "/privacy/correct", email=PATIENT, confirm="yes")
    assert nothing.status_code == 400
    unknown = post(director, "/privacy/erase", email="nobody@example.cn", confirm="yes")
    assert unknown.status_code == 404 and "没有保存与此邮箱或电话有关的个人信息" in unknown.text
    assert post(director, "/privacy/purge", email=PATIENT).status_code == 404
    assert register(site) == [] and account_log(site) == []
    # A person whose only case is open: the dry run says nothing can go, and offers no
    # button to confirm.
    held = post(director, "/privacy/erase", email=PATIENT)
    assert "现在没有可删除的内容" in held.text and "确认删除" not in held.text


# -- in Chromium (marker ``browser``) ------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path, db_url: str, browser: Any,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    made = Site(tmp_path, db_url)
    made.add_people(PEOPLE)
    server = Background(made.asgi, "127.0.0.1", 0).start()
    try:
        yield Live(made, f"http://127.0.0.1:{server.port}", browser)
    finally:
        server.stop()
        made.app.close()


@pytest.mark.browser
def test_a_director_erases_a_person_in_the_browser(live: Live) -> None:
    reference = live.run(live.site.mail, WORDS, sender=PATIENT, name="王芳")
    close_case(live.site, reference)
    page = live.page("sunli")
    page.get_by_role("link", name="个人信息", exact=True).click()
    with page.expect_download() as caught:
        export = page.locator("#request-export")
        export.get_by_label("电子邮箱").fill(PATIENT)
        export.get_by_role("button", name="下一步").click()
        page.get_by_role("button", name="确认导出并下载").click()
    data = Path(caught.value.path()).read_bytes()
    person = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("person.json"))
    assert WORDS in json.dumps(person, ensure_ascii=False)
    page.get_by_role("link", name="返回，不执行").click()
    erase = page.locator("#request-erase")
    erase.get_by_label("电子邮箱").fill(PATIENT)
    erase.get_by_role("button", name="下一步").click()
    assert reference in page.locator("#will-erase").inner_text()
    page.get_by_role("button", name="确认删除（不可撤销）").click()
    assert page.get_by_role("status").inner_text() == "已删除，并记入登记。"
    table = page.locator("section[aria-labelledby=h-register]").inner_text()
    assert reference in table and "删除" in table and "演练" in table and "导出" in table
    # Nothing is held about the person any more: the same request says so.
    erase = page.locator("#request-erase")
    erase.get_by_label("电子邮箱").fill(PATIENT)
    erase.get_by_role("button", name="下一步").click()
    assert "没有保存" in page.get_by_role("alert").inner_text()
    assert live.dialogs == []
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_privacy_pages_are_labelled_and_fit_a_phone(live: Live, width: int) -> None:
    live.run(live.site.mail, WORDS, sender=PATIENT, name="王芳")
    page = live.page("zhaolei", width=width)
    unlabelled = """() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && !e.hidden)
        .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
        .map(e => e.id)"""
    page.goto(f"{live.url}/privacy")
    assert page.evaluate(unlabelled) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("main#main h1").count() == 1
    page.locator("#request-erase").get_by_label("电子邮箱").fill(PATIENT)
    page.locator("#request-erase").get_by_role("button", name="下一步").click()
    assert page.locator("main#main h1").inner_text() == "删除本人信息"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.context.close()
