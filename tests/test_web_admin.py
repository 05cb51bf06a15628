"""The administration pages over HTTP on SQLite and PostgreSQL: the mailboxes' health,
the settings in effect without one secret value, and the administrator's accounts page
(create, roles, lock, unlock, one-time link by mail, sign-out everywhere; all audited)."""

from __future__ import annotations

import email
import getpass
import os
import re
from collections.abc import Iterator
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from httpx import Response
from sqlalchemy import select
from starlette.testclient import TestClient

from complaintd.cli import main
from notifications.models import OutboxMail
from tests.fixtures.web import PASSWORD, SECRET, Site, csrf_of
from tests.test_web_browser import Live
from web import accounts
from web.models import AccountEvent, StaffUser
from web.serve import Background

IMAP_PASSWORD = "imap-pass-Kq81-never-shown"
IMAP_ENV_PASSWORD = "imap-env-pass-Zr27-never-shown"
THREAD_KEY = "thread-key-" + "q" * 40
# Secrets in the file and in the environment; IMAP servers that refuse the connection.
EXTRA = f"""
[security]
thread_key = "{THREAD_KEY}"
[[mailbox]]
kind = "imap"
name = "reports"
host = "127.0.0.1"
port = 1
security = "plain"
username = "reports@example.org"
password = "{IMAP_PASSWORD}"
timeout_seconds = 2
idle = false
[[mailbox]]
kind = "imap"
name = "tips"
host = "127.0.0.1"
port = 1
security = "plain"
username = "tips@example.org"
password_env = "ADMIN_TEST_IMAP_PASSWORD"
timeout_seconds = 2
idle = false
"""
PEOPLE = {"zhaolei": ["administrator"], "sunli": ["director"], "zhangwei": ["handler"],
          "liuyang": ["hotline"], "wangfang": ["handler", "supervisor"]}


@pytest.fixture
def site(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    monkeypatch.setenv("ADMIN_TEST_IMAP_PASSWORD", IMAP_ENV_PASSWORD)
    made = Site(tmp_path, db_url, web_extra=EXTRA)
    made.add_people(PEOPLE)
    try:
        yield made
    finally:
        made.app.close()


def post(client: TestClient, path: str, **data: object) -> Response:
    token = csrf_of(client.get("/").text)
    answer: Response = client.post(path, data={"csrf_token": token, **data})
    return answer


# -- settings ---------------------------------------------------------------------------


def test_the_settings_page_shows_every_secret_as_set_never_its_value(site: Site,
                                                                      db_url: str) -> None:
    page = site.signed_in("sunli").get("/settings")
    assert page.status_code == 200
    text = page.text
    secrets = [IMAP_PASSWORD, IMAP_ENV_PASSWORD, THREAD_KEY, SECRET,
               os.environ["COMPLAINTD_THREAD_KEY"]]
    assert [s for s in secrets if s in text] == []
    # Each shown as "set" (the one from the environment too), an empty one as "not set".
    shown = dict(re.findall(r'data-secret="(\w+)">([^<]+)<', text))
    assert shown["thread_key"] == "已设置" and shown["secret"] == "已设置"
    assert text.count('data-secret="password">已设置') == 2  # both mailboxes
    assert 'data-secret="password">未设置' in text  # [smtp] has none
    if "@" in db_url:  # PostgreSQL: the URL's password is masked
        password = db_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        assert f":{password}@" not in text and ":***@" in text
    # What is no secret is shown, and the routing rules are summarised.
    assert "reports@example.org" in text and "tips@example.org" in text
    assert "ADMIN_TEST_IMAP_PASSWORD" in text  # the variable's name, not its value
    assert "服务部" in text or "service" in text
    assert "health_commission" in text


def test_only_the_administrator_and_the_director_read_the_settings(site: Site) -> None:
    assert site.signed_in("zhaolei").get("/settings").status_code == 200
    for staff in ("zhangwei", "liuyang", "wangfang"):
        client = site.signed_in(staff)
        answer = client.get("/settings")
        assert answer.status_code == 403 and IMAP_PASSWORD not in answer.text
        assert 'href="/settings"' not in client.get("/").text


def test_the_administration_pages_read_in_english_too(site: Site) -> None:
    client = site.signed_in("zhaolei")
    assert client.get("/lang/en?next=/").status_code == 303
    post(client, "/admin/accounts/zhangwei/lock")
    for path, words in (("/settings", "Passwords, keys and secrets show only"),
                        ("/mailboxes", "Last success"),
                        ("/admin/accounts", "locked")):
        page = client.get(path)
        assert page.status_code == 200 and words in page.text, path
        assert "设置" not in page.text.split("<main", 1)[1], path  # no Chinese left behind


# -- mailboxes --------------------------------------------------------------------------


def test_the_mailboxes_page_shows_each_mailbox_with_its_health(site: Site) -> None:
    site.mail("12月2日接线员态度粗暴。")  # one round: the Maildir works, the IMAP boxes fail
    (site.tmp / "mail" / "new" / "9.M1.host").write_bytes(b"Subject: waiting\n\nnot yet")
    page = site.signed_in("zhaolei").get("/mailboxes")
    assert page.status_code == 200
    rows = {m.group(1): m.group(0) for m in
            re.finditer(r"<strong>([\w.-]+)</strong>.*?</tr>", page.text, re.S)}
    assert set(rows) == {"local", "reports", "tips"}
    assert "正常" in rows["local"] and "失败 ×1" in rows["reports"]
    assert "ConnectionRefusedError" in rows["reports"]
    waiting = re.search(r'data-label="待收取">(\d+)<', rows["local"])
    assert waiting is not None and waiting.group(1) == "1"
    assert "每日对账时核对" in rows["reports"]  # an IMAP server is not asked from a page
    assert IMAP_PASSWORD not in page.text


def test_mailboxes_are_for_the_director_and_the_administrator(site: Site) -> None:
    assert site.signed_in("sunli").get("/mailboxes").status_code == 200
    for staff in ("zhangwei", "liuyang", "wangfang"):
        assert site.signed_in(staff).get("/mailboxes").status_code == 403


# -- accounts ---------------------------------------------------------------------------


def events(site: Site) -> list[tuple[str, str, str]]:
    with site.app.session_factory() as session:
        return [(e.actor, e.staff_id, e.action) for e in
                session.scalars(select(AccountEvent).order_by(AccountEvent.id))]


def user(site: Site, staff: str) -> StaffUser:
    with site.app.session_factory() as session:
        found = accounts.user_by_staff_id(session, staff)
        assert found is not None
        session.expunge(found)
        return found


def test_the_administrator_creates_an_account_and_changes_it_all_audited(site: Site) -> None:
    admin = site.signed_in("zhaolei")
    page = admin.get("/admin/accounts")
    assert page.status_code == 200
    assert '<option value="lina">' in page.text  # in the directory, no account yet
    assert '<option value="zhangwei">' not in page.text

    created = post(admin, "/admin/accounts/new", staff_id="lina", roles=["handler", "hotline"])
    assert created.status_code == 303
    lina = user(site, "lina")
    assert lina.roles == "handler,hotline" and "@" in lina.email
    assert lina.password_hash is None

    post(admin, "/admin/accounts/lina/roles", roles=["handler"])
    assert user(site, "lina").roles == "handler"

    post(admin, "/admin/accounts/lina/link")
    with site.app.session_factory() as session:
        mail = session.scalars(select(OutboxMail).where(
            OutboxMail.kind == "staff_sign_in_link")).one()
        assert mail.recipient == lina.email
        body = email.message_from_bytes(mail.raw, policy=default).get_body()
        assert body is not None and "/set-password/" in body.get_content()

    post(admin, "/admin/accounts/lina/lock")
    assert user(site, "lina").locked_at is not None
    post(admin, "/admin/accounts/lina/unlock")
    assert user(site, "lina").locked_at is None
    post(admin, "/admin/accounts/lina/sign-out")

    assert events(site) == [("web:zhaolei", "lina", a) for a in
                            ("created", "roles", "link_sent", "locked", "unlocked",
                             "signed_out")]
    listing = admin.get("/admin/accounts").text
    assert "修改角色" in listing and "handler,hotline → handler" in listing


def test_locking_and_signing_out_end_the_persons_sessions(site: Site) -> None:
    admin = site.signed_in("zhaolei")
    victim = site.signed_in("zhangwei")
    assert victim.get("/").status_code == 200
    post(admin, "/admin/accounts/zhangwei/sign-out")
    assert victim.get("/").status_code == 303  # signed out everywhere
    again = site.signed_in("zhangwei")
    post(admin, "/admin/accounts/zhangwei/lock")
    assert again.get("/").status_code == 303
    client = site.client()
    token = csrf_of(client.get("/sign-in").text)
    refused = client.post("/sign-in", data={"login": "zhangwei", "password": PASSWORD,
                                            "csrf_token": token})
    assert refused.status_code == 401 and "账户已锁定" in refused.text
    post(admin, "/admin/accounts/zhangwei/unlock")
    assert site.signed_in("zhangwei").get("/").status_code == 200


def test_refusals_change_nothing(site: Site) -> None:
    admin = site.signed_in("zhaolei")
    stranger = post(admin, "/admin/accounts/new", staff_id="nobody", roles=["handler"])
    assert stranger.status_code == 400 and "员工名录中没有 nobody" in stranger.text
    twice = post(admin, "/admin/accounts/new", staff_id="zhangwei", roles=["handler"])
    assert twice.status_code == 400
    no_role = post(admin, "/admin/accounts/new", staff_id="lina", roles=["wizard"])
    assert no_role.status_code == 400
    own_lock = post(admin, "/admin/accounts/zhaolei/lock")
    assert own_lock.status_code == 400 and "不能锁定自己" in own_lock.text
    own_role = post(admin, "/admin/accounts/zhaolei/roles", roles=["handler"])
    assert own_role.status_code == 400
    assert post(admin, "/admin/accounts/ghost/lock").status_code == 404
    assert user(site, "zhaolei").roles == "administrator"
    assert user(site, "zhaolei").locked_at is None
    assert events(site) == []


def test_changes_made_with_the_command_line_are_in_the_same_audit(site: Site) -> None:
    def users(*args: str) -> None:
        result = CliRunner().invoke(main, ["--config", str(site.config), "users", *args],
                                    env={"COMPLAINTD_WEB_SECRET": SECRET})
        assert result.exit_code == 0, result.output

    users("add", "lina", "--role", "handler")
    users("invite", "lina")
    users("lock", "lina")
    login = getpass.getuser()
    assert events(site) == [(f"cli:{login}", "lina", a)
                            for a in ("created", "link_sent", "locked")]
    listing = site.signed_in("zhaolei").get("/admin/accounts").text
    assert f"cli:{login}" in listing and "已锁定" in listing


def test_only_the_administrator_keeps_accounts(site: Site) -> None:
    for staff in ("sunli", "zhangwei", "liuyang", "wangfang"):
        client = site.signed_in(staff)
        assert client.get("/admin/accounts").status_code == 403
        assert post(client, "/admin/accounts/new", staff_id="lina",
                    roles=["administrator"]).status_code == 403
        assert post(client, "/admin/accounts/zhaolei/lock").status_code == 403
        assert post(client, f"/admin/accounts/{staff}/roles",
                    roles=["administrator"]).status_code == 403
    assert user(site, "zhaolei").locked_at is None
    with site.app.session_factory() as session:
        assert accounts.user_by_staff_id(session, "lina") is None
    assert events(site) == []


# -- in Chromium (marker ``browser``) ------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path, db_url: str, smtp_server: Any, browser: Any,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    made = Site(tmp_path, db_url, smtp=smtp_server)
    made.add_people(PEOPLE)
    server = Background(made.asgi, "127.0.0.1", 0).start()
    try:
        yield Live(made, f"http://127.0.0.1:{server.port}", browser)
    finally:
        server.stop()
        made.app.close()


@pytest.mark.browser
def test_an_account_from_creation_to_first_sign_in_and_out_everywhere(
        live: Live, smtp_server: Any) -> None:
    admin = live.page("zhaolei")
    admin.get_by_role("link", name="账户", exact=True).click()
    admin.get_by_label("员工", exact=True).select_option("lina")
    create = admin.locator("form[action='/admin/accounts/new']")
    create.get_by_label("热线", exact=True).check()
    create.get_by_role("button", name="开设").click()
    assert admin.get_by_role("status").inner_text() == "已为 lina 开设账户。"
    card = admin.locator("#account-lina")
    assert "未设密码" in card.inner_text()
    card.get_by_role("button", name="发送登录链接").click()
    assert "登录链接已通过邮件发送给 lina" in admin.get_by_role("status").inner_text()

    # The link arrives by mail (the outbox, sent over SMTP); lina sets a password with it.
    live.run(live.site.app.send_outbox)
    person = live.site.app.desk.config.staff["lina"]  # type: ignore[union-attr]
    (mail,) = [m for m in smtp_server.messages if person.email in m.rcpt_tos]
    body = mail.message.get_body().get_content()
    link = next(w for w in body.split() if "/set-password/" in w)
    lina = live.page()
    lina.goto(live.url + link[link.index("/set-password/"):])
    lina.get_by_label("密码", exact=True).fill("a new password 2026")
    lina.get_by_label("再次输入密码").fill("a new password 2026")
    lina.get_by_role("button", name="保存").click()
    lina.get_by_label("工号或邮箱").fill("lina")
    lina.get_by_label("密码").fill("a new password 2026")
    lina.get_by_role("button", name="登录").click()
    lina.wait_for_url(f"{live.url}/")
    assert lina.get_by_role("link", name="导入热线记录").is_visible()  # the role given

    admin.reload()
    card = admin.locator("#account-lina")
    assert "正常" in card.inner_text()
    card.get_by_role("button", name="强制退出所有设备").click()
    lina.goto(f"{live.url}/")
    assert "/sign-in" in lina.url
    log = admin.locator("section[aria-labelledby=h-events]").inner_text()
    for words in ("开设账户", "发送登录链接", "强制退出"):
        assert words in log
    assert live.dialogs == []
    admin.context.close()
    lina.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_admin_pages_are_labelled_and_fit_a_phone(live: Live, width: int) -> None:
    page = live.page("zhaolei", width=width)
    unlabelled = """() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && !e.hidden)
        .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
        .map(e => e.name)"""
    for path in ("/admin/accounts", "/settings", "/mailboxes"):
        page.goto(f"{live.url}{path}")
        assert page.evaluate(unlabelled) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert page.locator("main#main h1").count() == 1, path
    assert SECRET not in page.content()
    page.context.close()
