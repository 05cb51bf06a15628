"""The staff console over HTTP (starlette's TestClient against the real ASGI app), on
SQLite and PostgreSQL: signing in, sessions, CSRF, headers, who sees and does what."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from httpx import Response
from sqlalchemy import func, select
from starlette.testclient import TestClient

from casework.models import Case, TimelineEvent
from casework.status import CaseStatus
from complaintd.cli import main
from notifications.models import OutboxMail, OutboxStatus
from tests.fixtures.web import PASSWORD, Site, csrf_of
from web import accounts
from web.models import CaseView, SignInAttempt

RUDE = "12月2日接线员态度粗暴，和我争吵。"
NAMES_LINA = "12月2日李娜态度粗暴，和我争吵。"


def act(client: TestClient, reference: str, action: str, **values: str) -> Response:
    page = client.get(f"/cases/{reference}")
    data = {"csrf_token": csrf_of(page.text), **values}
    return client.post(f"/cases/{reference}/act/{action}", data=data)


# -- signing in ---------------------------------------------------------------------------


def test_pages_need_a_sign_in_and_the_session_cookie_is_guarded(console_site: Site) -> None:
    ref = console_site.mail(RUDE)
    console_site.add_people()
    anonymous = console_site.client()
    for path in ("/", "/cases", f"/cases/{ref}", "/new", f"/cases/{ref}/files/1"):
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    page = anonymous.get("/sign-in")
    answer = anonymous.post("/sign-in", data={"login": "zhangwei", "password": PASSWORD,
                                              "csrf_token": csrf_of(page.text),
                                              "next": "//evil.example/"})
    assert answer.status_code == 303 and answer.headers["location"] == "/"  # never off-site
    cookie = next(c for c in answer.headers.get_list("set-cookie")
                  if c.startswith("cx_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "张伟" in anonymous.get("/").text


def test_wrong_passwords_are_rate_limited_then_lock_the_account(console_site: Site) -> None:
    console_site.add_people()
    client = console_site.client()

    def attempt(password: str) -> int:
        token = csrf_of(client.get("/sign-in").text)
        return int(client.post("/sign-in", data={"login": "lina", "password": password,
                                                 "csrf_token": token}).status_code)

    assert [attempt("wrong password!") for _ in range(5)] == [401] * 5
    assert attempt(PASSWORD) == 429  # the right password waits out the window too
    console_site.clock.advance(timedelta(minutes=16))
    assert attempt(PASSWORD) == 303  # a success resets the count of failures in a row
    for _ in range(2):
        console_site.clock.advance(timedelta(minutes=16))
        assert [attempt("wrong password!") for _ in range(5)] == [401] * 5
    console_site.clock.advance(timedelta(minutes=16))
    page = client.post("/sign-in", data={"login": "lina", "password": PASSWORD,
                                         "csrf_token": csrf_of(client.get("/sign-in").text)})
    assert page.status_code == 401 and "账户已锁定" in page.text
    with console_site.app.session_factory() as session:
        user = accounts.user_by_staff_id(session, "lina")
        assert user is not None and user.locked_at is not None
        assert session.scalar(select(func.count(SignInAttempt.id))) == 18


def test_sessions_expire_and_sign_out_everywhere_ends_them_all(console_site: Site) -> None:
    console_site.add_people()
    phone, desk = console_site.signed_in("zhangwei"), console_site.signed_in("zhangwei")
    console_site.clock.advance(timedelta(minutes=90))
    assert phone.get("/").status_code == 200  # used within the idle time: still signed in
    console_site.clock.advance(timedelta(minutes=121))
    assert phone.get("/").status_code == 303  # idle too long
    desk = console_site.signed_in("zhangwei")
    other = console_site.signed_in("zhangwei")
    token = csrf_of(desk.get("/").text)
    assert desk.post("/sign-out-everywhere", data={"csrf_token": token}).status_code == 303
    assert other.get("/").status_code == 303 and desk.get("/").status_code == 303
    again = console_site.signed_in("zhangwei")
    console_site.clock.advance(timedelta(hours=11, minutes=59))
    for _ in range(6):  # kept busy, the session still ends at its longest life (12 h)
        again.get("/")
    console_site.clock.advance(timedelta(minutes=2))
    assert again.get("/").status_code == 303


def test_a_one_time_link_by_mail_sets_the_password_once(console_site: Site) -> None:
    runner = CliRunner()
    config = str(console_site.config)
    env = {"COMPLAINTD_WEB_SECRET": "test-secret-" + "x" * 40}
    added = runner.invoke(main, ["--config", config, "--lang", "en", "users", "add", "chenjing",
                                 "--role", "handler"], env=env)
    assert added.exit_code == 0, added.output
    invited = runner.invoke(main, ["--config", config, "users", "invite", "chenjing"], env=env)
    assert invited.exit_code == 0 and "chen.jing@oasis.example.org" in invited.output
    with console_site.app.session_factory() as session:
        mail = session.scalars(select(OutboxMail).where(
            OutboxMail.kind == "staff_sign_in_link")).one()
        raw = mail.raw.decode("ascii", "replace") if isinstance(mail.raw, bytes) else ""
    from email import message_from_bytes, policy

    body = message_from_bytes(mail.raw, policy=policy.default).get_body().get_content()  # type: ignore[union-attr]
    assert raw and "/set-password/" in body
    link = next(w for w in body.split() if "/set-password/" in w)
    path = link.removeprefix("http://console.test")
    client = console_site.client()
    form = client.get(path)
    assert form.status_code == 200 and "陈静" in form.text
    short = client.post(path, data={"csrf_token": csrf_of(form.text), "password": "short",
                                    "password_again": "short"})
    assert short.status_code == 400 and "至少 10 个字符" in short.text
    done = client.post(path, data={"csrf_token": csrf_of(form.text), "password": PASSWORD,
                                   "password_again": PASSWORD})
    assert done.status_code == 303
    assert client.get(path).status_code == 400  # spent
    console_site.signed_in("chenjing")
    listed = runner.invoke(main, ["--config", config, "--lang", "en", "users", "list"], env=env)
    assert "chenjing" in listed.output and "active" in listed.output


def test_forwarded_addresses_are_believed_only_from_a_configured_proxy(
        console_site: Site, tmp_path: Path, db_url: str) -> None:
    console_site.add_people()
    behind = Site(tmp_path / "proxied", db_url, web_extra='trusted_proxies = ["testclient"]')
    try:
        for site in (console_site, behind):
            client = site.client()
            token = csrf_of(client.get("/sign-in").text)
            client.post("/sign-in", data={"login": "lina", "password": "nope", "csrf_token": token},
                        headers={"x-forwarded-for": "203.0.113.9"})
    finally:
        behind.app.close()
    with console_site.app.session_factory() as session:
        addresses = list(session.scalars(select(SignInAttempt.address).order_by(SignInAttempt.id)))
    assert addresses == ["testclient", "203.0.113.9"]


def test_english_on_request(console_site: Site) -> None:
    console_site.add_people()
    client = console_site.signed_in("zhangwei")
    assert "我的工作" in client.get("/").text
    switched = client.get("/lang/en", params={"next": "/cases"})
    assert switched.status_code == 303 and switched.headers["location"] == "/cases"
    page = client.get("/").text
    assert "My work" in page and "我的工作" not in page and '<html lang="en">' in page
    assert client.get("/lang/en", params={"next": "https://evil.example/"}) \
        .headers["location"] == "/"


def test_the_timeline_names_events_in_words_with_the_key_kept(console_site: Site) -> None:
    ref = console_site.mail(RUDE)
    console_site.add_people()
    client = console_site.signed_in("chenjing")
    page = client.get(f"/cases/{ref}").text
    assert '<span class="kind" title="received">收到</span>' in page
    assert '<span class="kind" title="status_changed">状态变更</span>' in page
    client.get("/lang/en", params={"next": "/"})
    page = client.get(f"/cases/{ref}").text
    assert '<span class="kind" title="received">received</span>' in page


def test_the_calendar_page_shows_the_days_that_break_the_week(console_site: Site) -> None:
    console_site.add_people()
    director = console_site.signed_in("sunli")  # the clock: 2 December 2025
    page = director.get("/calendar").text
    assert "2004–2026" in page
    # New Year 2026: Thursday 1 January off, Sunday 4 January worked (in the next 90 days).
    assert re.search(r'2026-01-01</time>\s*<span class="badge late">休息', page)
    assert re.search(r'2026-01-04</time>\s*<span class="badge">补班', page)
    assert "2026-01-05" not in page  # an ordinary Monday is not listed
    assert 'href="/calendar"' in page
    handler = console_site.signed_in("zhangwei")
    assert handler.get("/calendar").status_code == 403
    assert 'href="/calendar"' not in handler.get("/").text


def test_a_missing_secret_stops_the_console_naming_the_variable(
        console_site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLAINTD_WEB_SECRET")
    result = CliRunner().invoke(main, ["--config", str(console_site.config), "web"])
    assert result.exit_code == 2
    assert "COMPLAINTD_WEB_SECRET" in result.output and "web.secret_env" in result.output


# -- CSRF and headers ---------------------------------------------------------------------


def test_a_post_without_the_csrf_token_is_refused_and_does_nothing(console_site: Site) -> None:
    ref = console_site.mail(RUDE)
    console_site.add_people()
    client = console_site.signed_in("zhangwei")
    assert client.post(f"/cases/{ref}/act/accept", data={}).status_code == 403
    forged = client.post(f"/cases/{ref}/act/accept", data={"csrf_token": "0" * 64})
    assert forged.status_code == 403 and "表单已失效" in forged.text
    other = console_site.client()  # another browser's token does not fit this cookie
    stolen = csrf_of(other.get("/sign-in").text)
    assert client.post(f"/cases/{ref}/act/accept",
                       data={"csrf_token": stolen}).status_code == 403
    assert client.post("/sign-out-everywhere", data={}).status_code == 403
    assert console_site.case(ref).status is not CaseStatus.INVESTIGATING
    assert act(client, ref, "accept").status_code == 303
    assert console_site.case(ref).status is CaseStatus.INVESTIGATING


def test_every_post_route_checks_the_token(console_site: Site) -> None:
    from web.app import ROUTES

    console_site.add_people()
    client = console_site.signed_in("zhangwei")
    posts = [path for path, _, methods, _ in ROUTES if "POST" in methods]
    for path in posts:
        filled = path.replace("{reference}", "LO-2025-000001").replace("{action}", "note") \
            .replace("{token}", "x").replace("{view_id}", "1")
        assert client.post(filled, data={"login": "zhangwei"}).status_code == 403, filled


def test_security_headers_on_every_answer(console_site: Site) -> None:
    client = console_site.client()
    for path in ("/sign-in", "/static/console.css", "/nothing-here", "/healthz"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
    assert client.get("/sign-in").headers["cache-control"] == "no-store"


# -- who sees what ------------------------------------------------------------------------


def test_a_person_the_case_is_about_cannot_find_it_anywhere(console_site: Site) -> None:
    ref = console_site.mail(NAMES_LINA, name="赵六")
    console_site.add_people()
    lina, zhang = console_site.signed_in("lina"), console_site.signed_in("zhangwei")
    assert ref in zhang.get(f"/cases?q={ref}").text
    missing = lina.get("/cases/LO-2025-999999")
    hidden = lina.get(f"/cases/{ref}")
    assert hidden.status_code == missing.status_code == 404
    # The same answer as for no case at all (but for the page's own address in the
    # language switch).
    assert hidden.text.replace(ref, "REF") == missing.text.replace("LO-2025-999999", "REF")
    number = ref.rsplit("-", 1)[-1]
    for query in (ref, number, "赵六", "patient@example.cn", "态度粗暴", ""):
        listing = lina.get("/cases", params={"q": query})
        assert f">{ref}<" not in listing.text and "共 0 件" in listing.text, query
    assert ref not in lina.get("/").text
    assert f">{ref}<" not in lina.get("/cases", params={"status": "routed"}).text
    assert f">{ref}<" in zhang.get("/cases", params={"status": "routed"}).text
    assert lina.get(f"/cases/{ref}/files/1").status_code == 404
    token = csrf_of(lina.get("/").text)
    assert lina.post(f"/cases/{ref}/act/note", data={"csrf_token": token,
                                                     "text": "x"}).status_code == 404
    with console_site.app.session_factory() as session:
        assert session.scalar(select(func.count(CaseView.id))
                              .where(CaseView.staff == "lina")) == 0


def test_contact_details_only_for_the_handler_deputy_and_supervisor(console_site: Site) -> None:
    ref = console_site.mail(RUDE, name="赵六")
    console_site.add_people()
    case = console_site.case(ref)
    handler = case.assignments[-1].handler
    assert handler in {"zhangwei", "lina"}
    deputy = "lina" if handler == "zhangwei" else "zhangwei"
    for staff in (handler, deputy, "wangfang"):
        assert "patient@example.cn" in console_site.signed_in(staff).get(f"/cases/{ref}").text
    for staff in ("chenjing", "liuyang", "sunli"):
        page = console_site.signed_in(staff).get(f"/cases/{ref}").text
        assert "赵六" in page and "patient@example.cn" not in page
        assert "联系方式仅本案承办人" in page


def test_every_view_of_a_case_is_recorded(console_site: Site) -> None:
    ref = console_site.mail(RUDE)
    console_site.add_people()
    console_site.signed_in("chenjing").get(f"/cases/{ref}")
    console_site.clock.advance(timedelta(minutes=5))
    console_site.signed_in("sunli").get(f"/cases/{ref}")
    with console_site.app.session_factory() as session:
        views = [(v.staff, v.what) for v in session.scalars(select(CaseView).order_by(CaseView.id))]
    assert views == [("chenjing", "case"), ("sunli", "case")]


# -- who does what ------------------------------------------------------------------------


def test_actions_follow_the_mail_commands_role_rules_and_name_the_signed_in_actor(
        console_site: Site) -> None:
    ref = console_site.mail(RUDE)
    console_site.add_people()
    handler = console_site.case(ref).assignments[-1].handler
    assert handler is not None
    outsider = console_site.signed_in("chenjing")
    page = outsider.get(f"/cases/{ref}").text
    assert "不能操作本案" in page and "/act/" not in page
    assert act(outsider, ref, "accept").status_code == 403
    worker = console_site.signed_in(handler)
    page = worker.get(f"/cases/{ref}").text
    assert f"/cases/{ref}/act/accept" in page and "/act/approve-extension" not in page
    assert act(worker, ref, "accept", actor="sunli").status_code == 303
    assert act(worker, ref, "extend", days="5", reason="等待录音").status_code == 303
    assert act(worker, ref, "approve-extension").status_code == 403
    boss = console_site.signed_in("wangfang")
    assert act(boss, ref, "approve-extension").status_code == 303
    refused = act(worker, ref, "resolve", finding="maybe", outcome="x")
    assert refused.status_code == 400 and "未执行" in refused.text
    assert act(worker, ref, "resolve", finding="substantiated",
               outcome="已责令道歉。").status_code == 303
    case = console_site.case(ref)
    assert case.status is CaseStatus.RESOLVED
    actors = {e.actor for e in case.events if e.actor.startswith("web:")}
    assert actors == {f"web:{handler}", "web:wangfang"}


def test_an_auditor_reads_and_never_acts(console_site: Site) -> None:
    ref = console_site.mail(RUDE)
    console_site.add_people({"zhangwei": ["auditor"], "lina": ["auditor"]})
    for staff in ("zhangwei", "lina"):
        client = console_site.signed_in(staff)
        page = client.get(f"/cases/{ref}").text
        assert "只读账户" in page and "/act/" not in page
        assert act(client, ref, "accept").status_code == 403
        assert client.get("/new").status_code == 403


# -- finding cases ------------------------------------------------------------------------


def test_search_finds_chinese_words_names_phones_and_part_of_a_reference(
        console_site: Site) -> None:
    first = console_site.mail(RUDE, name="王芳")
    second = console_site.mail("孩子在医院做完手术，项目款一直没有到账。", sender="mum@example.cn",
                               subject="项目款")
    console_site.add_people()
    client = console_site.signed_in("sunli")
    number = second.rsplit("-", 1)[-1]

    def found(**params: str) -> set[str]:
        text = client.get("/cases", params=params).text
        return {r for r in (first, second) if f">{r}<" in text}

    assert found(q="医院") == {second}
    assert found(q="王芳") == {first}
    assert found(q=number) == {second}
    assert found(q="mum@example") == {second}
    assert found(q="态度") == {first}
    assert found(q="") == {first, second}
    assert found(q="医院", channel="hotline") == set()
    assert found(channel="email", due_from="2000-01-01") == {first, second}
    assert found(received_until="2025-12-01") == set()
    assert found(q="%") == set()  # taken literally, not as a pattern


def test_saved_views_belong_to_their_person(console_site: Site) -> None:
    console_site.add_people()
    mine, theirs = console_site.signed_in("zhangwei"), console_site.signed_in("lina")
    token = csrf_of(mine.get("/cases").text)
    saved = mine.post("/views", data={"csrf_token": token, "name": "我的超期视图",
                                      "query": "overdue=1&evil=1&q=%E5%8C%BB"})
    assert saved.status_code == 303
    assert parse_qs(saved.headers["location"].split("?")[1]) == {"q": ["医"], "overdue": ["1"]}
    assert "我的超期视图" in mine.get("/cases").text
    assert "我的超期视图" not in theirs.get("/cases").text
    token = csrf_of(theirs.get("/cases").text)
    assert theirs.post("/views/1/delete", data={"csrf_token": token}).status_code == 404
    token = csrf_of(mine.get("/cases").text)
    assert mine.post("/views/1/delete", data={"csrf_token": token}).status_code == 303
    assert "我的超期视图" not in mine.get("/cases").text


def test_attachments_download_as_files_never_rendered(console_site: Site) -> None:
    msg = EmailMessage()
    msg["From"] = "patient@example.cn"
    msg["Subject"] = "投诉"
    msg["Message-ID"] = "<att-1@example.cn>"
    msg.set_content(RUDE, charset="utf-8")
    msg.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html",
                       filename="证据.html")
    (console_site.tmp / "mail" / "new" / "9.M1.host").write_bytes(bytes(msg))
    console_site.app.run_once()
    console_site.add_people()
    with console_site.app.session_factory() as session:
        ref = session.scalars(select(Case.reference)).one()
    client = console_site.signed_in("chenjing")
    page = client.get(f"/cases/{ref}").text
    assert "证据.html" in page
    link = page.split(f"/cases/{ref}/files/")[1].split('"')[0]
    answer = client.get(f"/cases/{ref}/files/{link}")
    assert answer.status_code == 200 and answer.content == b"<script>alert(1)</script>"
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E8%AF%81%E6%8D%AE.html" in answer.headers["content-disposition"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    with console_site.app.session_factory() as session:
        assert session.scalars(select(CaseView.what).where(CaseView.staff == "chenjing")) \
            .all() == ["case", f"attachment:{link}"]


def test_a_hostile_complaint_renders_as_text(console_site: Site) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    ref = console_site.mail(f"接线员态度粗暴 {payload}", subject=f"投诉 {payload}",
                            name='"><svg onload=alert(2)>')
    console_site.add_people()
    for path in ("/", "/cases", f"/cases/{ref}", f"/cases?q={payload}"):
        page = console_site.signed_in("wangfang").get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "<svg onload" not in page, path
    page = console_site.signed_in("wangfang").get(f"/cases/{ref}").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_my_work_lists_my_cases_with_working_days_left(console_site: Site) -> None:
    ref = console_site.mail(RUDE)
    console_site.add_people()
    case = console_site.case(ref)
    handler = case.assignments[-1].handler
    assert handler is not None and case.resolve_due is not None
    page = console_site.signed_in(handler).get("/").text
    left = console_site.app.calendar.working_days_between(
        console_site.clock.now().date(), case.resolve_due)
    assert ref in page and f"剩 {left} 个工作日" in page
    assert ref not in console_site.signed_in("chenjing").get("/").text
    console_site.clock.set(console_site.clock.now() + timedelta(days=40))
    late = console_site.signed_in(handler).get("/").text
    assert "已超期" in late and ref in late.split("h-soon")[0]


def test_a_case_opened_by_hand_names_the_signed_in_person(console_site: Site) -> None:
    console_site.add_people()
    client = console_site.signed_in("liuyang")
    form = client.get("/new")
    assert form.status_code == 200 and 'type="file"' in form.text
    answer = client.post("/new", data={
        "csrf_token": csrf_of(form.text), "channel": "letter", "name": "赵六",
        "phone": "13800001234", "subject": "来信投诉", "text": "接线员态度粗暴，和我争吵。",
        "consent": "no"}, files={"attachments": ("信.txt", "信的内容".encode(), "text/plain")})
    assert answer.status_code == 303, answer.text
    ref = answer.headers["location"].split("/cases/")[1].split("?")[0]
    case = console_site.case(ref)
    assert case.channel == "letter"
    opened = next(e for e in case.events if e.kind == "opened_by_hand")
    assert opened.actor == "web:liuyang" and opened.details["attachments"] == 1
    with console_site.app.session_factory() as session:
        assert session.scalar(select(func.count(TimelineEvent.id)).where(
            TimelineEvent.actor == "web:liuyang")) >= 1
    empty = client.post("/new", data={"csrf_token": csrf_of(form.text), "channel": "letter",
                                      "text": " "})
    assert empty.status_code == 400 and "未执行" in empty.text


def test_the_outbox_and_quarantine_are_for_the_director_and_administrator(
        console_site: Site) -> None:
    ref = console_site.mail(NAMES_LINA)  # lina is excluded from this case
    console_site.add_people({"sunli": ["director"], "lina": ["administrator"],
                             "zhangwei": ["handler", "supervisor", "auditor"]})
    with console_site.app.session_factory.begin() as session:
        mail = session.scalars(select(OutboxMail).where(
            OutboxMail.kind == "acknowledgement")).one()
        mail.status = OutboxStatus.FAILED
        mail.last_error = "550 5.1.1 no such user"
        mail_id = mail.id
    director = console_site.signed_in("sunli")
    page = director.get("/outbox", params={"failed": "1"})
    assert page.status_code == 200 and "550 5.1.1 no such user" in page.text and ref in page.text
    retried = director.post(f"/outbox/{mail_id}/retry",
                            data={"csrf_token": csrf_of(page.text)})
    assert retried.status_code == 303
    with console_site.app.session_factory() as session:
        row = session.get(OutboxMail, mail_id)
        assert row is not None and row.status is not OutboxStatus.FAILED
    assert director.get("/quarantine").status_code == 200
    admin = console_site.signed_in("lina")
    listing = admin.get("/outbox").text
    assert ref not in listing and "patient@example.cn" not in listing  # her case's mail
    token = csrf_of(listing)
    assert admin.post(f"/outbox/{mail_id}/retry", data={"csrf_token": token}).status_code == 404
    handler = console_site.signed_in("zhangwei")
    assert handler.get("/outbox").status_code == 403
    assert handler.get("/quarantine").status_code == 403
    assert "/outbox" not in handler.get("/").text


def test_run_starts_the_console_in_process_when_enabled(console_site: Site) -> None:
    import httpx

    from complaintd.cli.i18n import Translator
    from complaintd.cli.main import _start_web

    background = _start_web(console_site.app, Translator("en"))
    try:
        port = background.port
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").text == "ok"
        sign_in = httpx.get(f"http://127.0.0.1:{port}/sign-in")
        assert sign_in.status_code == 200 and "登录" in sign_in.text
    finally:
        background.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_exports_keep_to_the_list_its_exclusions_and_defuse_formulas(console_site: Site) -> None:
    import io

    from openpyxl import load_workbook

    hidden = console_site.mail(NAMES_LINA)
    shown = console_site.mail(RUDE, subject="=HYPERLINK(\"http://evil.example\")", name="赵六")
    console_site.add_people()
    lina = console_site.signed_in("lina")
    exported = lina.get("/cases.csv", params={"q": "态度"})
    assert exported.headers["content-disposition"].startswith("attachment")
    text = exported.content.decode("utf-8-sig")
    assert shown in text and hidden not in text
    assert "'=HYPERLINK" in text and "patient@example.cn" not in text and "赵六" not in text
    book = load_workbook(io.BytesIO(lina.get("/cases.xlsx").content), read_only=True)
    cells = [row for row in book.active.iter_rows(values_only=True)]
    assert cells[0][0] == "编号" and [r[0] for r in cells[1:]] == [shown]
    assert str(cells[1][1]).startswith("'=")
    assert hidden in console_site.signed_in("zhangwei").get("/cases.csv").text


def test_an_enabled_console_without_its_secret_stops_start_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from complaintd.settings import ConfigError, load_settings

    config = tmp_path / "complaintd.toml"
    config.write_text('[web]\nenabled = true\nsecret_env = "MY_CONSOLE_SECRET"\n', "utf-8")
    monkeypatch.delenv("MY_CONSOLE_SECRET", raising=False)
    with pytest.raises(ConfigError, match=r"web\.secret_env: environment variable "
                                          r"MY_CONSOLE_SECRET is not set"):
        load_settings(config)
    monkeypatch.setenv("MY_CONSOLE_SECRET", "short")
    with pytest.raises(ConfigError, match="too short"):
        load_settings(config)
    monkeypatch.setenv("MY_CONSOLE_SECRET", "s" * 32)
    assert load_settings(config).web.enabled


def test_hotline_staff_close_a_callback_with_its_outcome(console_site: Site) -> None:
    from casework.tasks import CALLBACK, CallTask

    ref = console_site.mail(NAMES_LINA)
    case = console_site.case(ref)
    with console_site.app.session_factory.begin() as session:
        task = CallTask(case_id=case.id, kind=CALLBACK, phone="13800001234",
                        due=console_site.clock.now().date(), created_at=console_site.clock.now())
        session.add(task)
        session.flush()
        task_id = task.id
    console_site.add_people({"liuyang": ["hotline"], "lina": ["hotline"],
                             "zhangwei": ["handler"]})
    excluded = console_site.signed_in("lina")
    page = excluded.get("/").text
    assert "13800001234" not in page and ref not in page
    assert excluded.post(f"/calls/{task_id}/done", data={
        "csrf_token": csrf_of(page), "outcome": "x"}).status_code == 404
    handler = console_site.signed_in("zhangwei")
    assert handler.post(f"/calls/{task_id}/done", data={
        "csrf_token": csrf_of(handler.get("/").text), "outcome": "x"}).status_code == 403
    caller = console_site.signed_in("liuyang")
    page = caller.get("/").text
    assert "13800001234" in page and f"/calls/{task_id}/done" in page
    done = caller.post(f"/calls/{task_id}/done", data={"csrf_token": csrf_of(page),
                                                       "outcome": "已回访，投诉人满意"})
    assert done.status_code == 303
    with console_site.app.session_factory() as session:
        row = session.get(CallTask, task_id)
        assert row is not None and row.done_by == "web:liuyang"
        assert row.outcome == "已回访，投诉人满意"
    assert f"/calls/{task_id}/done" not in caller.get("/").text
    assert any(e.kind == "call_task_done" and e.actor == "web:liuyang"
               for e in console_site.case(ref).events)


def test_a_text_search_pages_and_counts_like_a_filtered_list(console_site: Site) -> None:
    from casework import queries

    refs = [console_site.mail(f"第{n}次：接线员态度粗暴。") for n in range(3)]
    with console_site.app.session_factory() as session:
        first, total = queries.find_cases(session, text="态度", limit=2)
        rest, again = queries.find_cases(session, text="态度", limit=2, offset=2)
        plain, count = queries.find_cases(session, limit=2, offset=2)
    assert total == again == count == 3
    assert [c.reference for c in first + rest] == refs[::-1]
    assert [c.reference for c in plain] == [c.reference for c in rest]


def test_the_violations_register_hides_a_case_one_is_excluded_from(console_site: Site) -> None:
    from decimal import Decimal

    from casework.models import Violation

    hidden, shown = console_site.mail(NAMES_LINA), console_site.mail(RUDE)
    with console_site.app.session_factory.begin() as session:
        for ref, money in ((hidden, Decimal("0")), (shown, Decimal("50"))):
            case_id = session.scalars(select(Case.id).where(Case.reference == ref)).one()
            session.add(Violation(case_id=case_id, staff="zhangwei", category="rudeness",
                                  clause="七(一)", sanction_tier="诫勉教育并责令赔礼道歉",
                                  compensation=money, source="finding", details={},
                                  recorded_at=console_site.clock.now()))
    console_site.add_people({"lina": ["supervisor"], "wangfang": ["auditor"],
                             "zhangwei": ["handler"]})
    page = console_site.signed_in("wangfang").get("/violations", params={"open": "1"}).text
    assert f">{hidden}<" in page and f">{shown}<" in page and "50.00" in page
    assert "张伟" in page and "诫勉教育并责令赔礼道歉" in page
    theirs = console_site.signed_in("lina").get("/violations").text
    assert f">{shown}<" in theirs and hidden not in theirs
    assert console_site.signed_in("zhangwei").get("/violations").status_code == 403
