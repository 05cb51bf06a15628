"""The IMAP intake against the real Dovecot: resume by UID, first run from a UID or date,
flag instead of move, size limits, Chinese folder names, several mailboxes with one
failing, reconciliation, IDLE delivery."""

from __future__ import annotations

import threading
import time
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from casework.models import Case, IngestedItem, QuarantineItem
from complaintd.mailwatch import Backoff, MailboxWatcher
from intake.tables import MailboxState
from notifications.models import OutboxMail
from tests.test_intake_support import complaint, count, imap_box, make_app


def test_resumes_after_the_last_uid(tmp_path: Path, sqlite_url: str, imap_account: Any) -> None:
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account, after_commit="flag")])
    for n in range(3):
        imap_account.append("INBOX", complaint(n))
    outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == ["case"] * 3
    # Flag mode: the messages stay in INBOX, flagged, and are not looked at again.
    assert len(imap_account.uids("INBOX")) == 3
    newest = imap_account.append("INBOX", complaint(3))
    outcomes, _ = app.poll_mail()
    assert [o.kind for o in outcomes] == ["case"]
    with app.session_factory() as session:
        state = session.scalars(select(MailboxState)).one()
        assert (state.last_uid, state.uidvalidity) == (newest, imap_account.uidvalidity("INBOX"))
        assert state.failures == 0 and state.last_success_at is not None
    with imap_account.imap_client() as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(imap_account.uids("INBOX"))
    assert all(b"$ComplaintdDone" in f for f in flags.values())
    assert app.poll_mail()[0] == [] and count(app.session_factory, Case) == 4


def test_first_run_starts_at_the_configured_uid(tmp_path: Path, sqlite_url: str,
                                                imap_account: Any) -> None:
    uids = [imap_account.append("INBOX", complaint(n), flags=(b"\\Seen",)) for n in range(4)]
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account, start_uid=uids[2])])
    outcomes, _ = app.poll_mail()
    # Opened (\\Seen) mail is still a complaint: only the UID decides.
    assert [o.kind for o in outcomes] == ["case", "case"]
    assert imap_account.uids("INBOX") == uids[:2]


def test_first_run_starts_at_the_configured_date(tmp_path: Path, sqlite_url: str,
                                                 imap_account: Any) -> None:
    with imap_account.imap_client() as client:
        client.append("INBOX", complaint(1), msg_time=_dt(2020, 1, 1))
        client.append("INBOX", complaint(2), msg_time=_dt(2026, 11, 20))
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account, start_date="2026-01-01")])
    outcomes, _ = app.poll_mail()
    assert [o.kind for o in outcomes] == ["case"]
    with app.session_factory() as session:
        assert session.scalars(select(Case.subject)).one() == "投诉 2"


def _dt(y: int, m: int, d: int) -> Any:
    from datetime import UTC, datetime

    return datetime(y, m, d, 9, tzinfo=UTC)


def test_over_the_size_limit_is_quarantined_with_headers_and_the_sender_told(
        tmp_path: Path, sqlite_url: str, imap_account: Any) -> None:
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account, max_message_bytes=20_000)])
    imap_account.append("INBOX", complaint(1, body="大" * 30_000))
    imap_account.append("INBOX", complaint(2))
    outcomes, _ = app.poll_mail()
    assert [o.kind for o in outcomes] == ["quarantined", "case"]
    assert imap_account.uids("INBOX") == []  # marked done: refused, not silently skipped
    with app.session_factory() as session:
        item = session.scalars(select(QuarantineItem)).one()
        assert "over the limit of 20000 bytes" in item.reason
        headers = app.raw_store.get(item.raw_sha256 or "")
        assert b"Subject:" in headers and len(headers) < 2000
        notice = session.scalars(select(OutboxMail).where(
            OutboxMail.kind == "message_refused")).one()
        assert notice.recipient == "zhang@example.cn"
        assert "邮件未能接收" in notice.subject  # the message_refused template, bilingual
        text = message_from_bytes(notice.raw, policy=policy.default).get_body(
            ("plain",)).get_content()  # type: ignore[union-attr]
        assert "邮件过大" in text and "size limit" in text


def test_attachment_over_its_limit_is_refused_and_recorded(
        tmp_path: Path, sqlite_url: str, imap_account: Any) -> None:
    from email import message_from_bytes, policy

    msg = message_from_bytes(complaint(1), policy=policy.default)
    msg.add_attachment(b"x" * 5000, maintype="application", subtype="pdf", filename="大.pdf")
    msg.add_attachment(b"small", maintype="text", subtype="plain", filename="小.txt")
    imap_account.append("INBOX", bytes(msg))
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account, max_attachment_bytes=1000)])
    app.poll_mail()
    with app.session_factory() as session:
        case = session.scalars(select(Case)).one()
        files = {a.filename: a for a in case.messages[0].attachments}
    big = files["大.pdf"]
    assert big.refused == "over the limit of 1000 bytes" and big.sha256 == ""
    assert files["小.txt"].refused is None and app.raw_store.get(files["小.txt"].sha256) == b"small"


def test_chinese_folder_names(tmp_path: Path, sqlite_url: str, imap_account: Any) -> None:
    with imap_account.imap_client() as client:
        client.create_folder("投诉信箱")
        client.create_folder("已处理")
    imap_account.append("投诉信箱", complaint(1))
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account, folder="投诉信箱",
                                                   processed_folder="已处理")])
    outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == ["case"]
    assert imap_account.uids("投诉信箱") == [] and len(imap_account.uids("已处理")) == 1
    with app.session_factory() as session:
        assert session.scalars(select(IngestedItem.folder)).one() == "投诉信箱"


def test_one_failing_mailbox_alerts_and_never_stops_the_others(
        tmp_path: Path, sqlite_url: str, imap_account: Any, caplog: Any) -> None:
    bad = imap_box(imap_account, name="staff", password="wrong")
    app = make_app(tmp_path, sqlite_url, [bad, imap_box(imap_account)])
    imap_account.append("INBOX", complaint(1))
    outcomes, errors = app.poll_mail()
    assert [o.kind for o in outcomes] == ["case"]
    assert len(errors) == 1 and errors[0].startswith("mailbox staff:")
    assert any(r.levelname == "ERROR" and "mailbox staff" in r.getMessage()
               for r in caplog.records)
    config = _config_file(tmp_path, sqlite_url, [bad, imap_box(imap_account)])
    from complaintd.cli import main

    result = CliRunner().invoke(main, ["--config", str(config), "--lang", "en",
                                       "mailboxes", "status"])
    assert result.exit_code == 0, result.output
    assert "imap:staff" in result.output and "1 mailbox(es) failed" in result.output


def _config_file(tmp_path: Path, db_url: str, boxes: list[dict[str, Any]]) -> Path:
    lines = [f'[storage]\ndata_dir = "{tmp_path / "var"}"\ndatabase_url = "{db_url}"\n']
    for box in boxes:
        lines.append("[[mailbox]]")
        lines += [f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {v}"
                  for k, v in box.items()]
    path = tmp_path / "complaintd.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reconciliation_reports_mail_in_neither(tmp_path: Path, sqlite_url: str,
                                                imap_account: Any) -> None:
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account)])
    imap_account.append("INBOX", complaint(1))
    app.poll_mail()
    # Someone filed a mail into Processed by hand: it never became a case.
    imap_account.append("Processed", complaint(2, subject="漏掉的"))
    imap_account.append("INBOX", complaint(3))  # new: waiting, not missing
    (report,) = app.reconcile_mailboxes()
    assert report.waiting == 1 and report.checked == 3
    assert [(m.folder, m.message_id) for m in report.missing] == [
        ("Processed", f"<c2-{abs(hash('漏掉的')) % 10**8}@example.cn>")]
    with app.session_factory() as session:
        state = session.scalars(select(MailboxState)).one()
        assert state.reconcile_missing == 1 and state.last_reconciled_at is not None


def test_idle_takes_a_new_complaint_in_within_seconds(tmp_path: Path, sqlite_url: str,
                                                      imap_account: Any) -> None:
    box = imap_box(imap_account, idle_seconds=60)
    app = make_app(tmp_path, sqlite_url, [box], schedule={"poll_seconds": 3600})
    stop = threading.Event()
    news = threading.Event()
    watcher = MailboxWatcher(app, app.settings.mailbox[0], stop, news.set,  # type: ignore[arg-type]
                             poll_seconds=3600, backoff=Backoff(0.1, 1))
    watcher.start()
    try:
        _wait_until(lambda: watcher.polls >= 1)
        started = time.monotonic()
        imap_account.append("INBOX", complaint(1))
        assert news.wait(10), "IDLE did not deliver the new mail"
        # poll_seconds is an hour: only IDLE can have noticed it this fast.
        assert time.monotonic() - started < 10
        assert count(app.session_factory, Case) == 1
    finally:
        stop.set()
        watcher.join(10)
    assert not watcher.is_alive()


def test_watcher_survives_a_server_error_and_reconnects(tmp_path: Path, sqlite_url: str,
                                                        imap_account: Any) -> None:
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account, idle_seconds=60)])
    stop = threading.Event()
    watcher = MailboxWatcher(app, app.settings.mailbox[0], stop,  # type: ignore[arg-type]
                             poll_seconds=3600, backoff=Backoff(0.1, 0.5))
    watcher.start()
    try:
        _wait_until(lambda: watcher.polls >= 1)
        # The server drops every session of this user (an IMAP process killed, a restart).
        imap_account.server.doveadm("kick", imap_account.user)
        imap_account.append("INBOX", complaint(1))
        _wait_until(lambda: count(app.session_factory, Case) == 1, timeout=15)
        assert watcher.is_alive()
    finally:
        stop.set()
        watcher.join(10)


def _wait_until(check: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_start_date_setting_parses() -> None:
    from complaintd.settings import settings_from_dict

    box = {"kind": "imap", "name": "a", "host": "h", "username": "u", "start_date": "2026-01-01"}
    assert settings_from_dict({"mailbox": [box]}).mailbox[0].start_date == date(2026, 1, 1)  # type: ignore[union-attr]


def test_uidvalidity_change_rescans_safely(tmp_path: Path, sqlite_url: str,
                                           imap_account: Any) -> None:
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account, after_commit="flag")])
    for n in range(2):
        imap_account.append("INBOX", complaint(n))
    app.poll_mail()
    new_validity = imap_account.bump_uidvalidity("INBOX")
    imap_account.append("INBOX", complaint(2))
    poller = app.imap_poller(app.settings.mailbox[0])  # type: ignore[arg-type]
    report = poller.run_once()
    # The flagged messages are skipped by their keyword, the new one is taken: nothing twice.
    assert report.rescanned and [o.kind for o in report.outcomes] == ["case"]
    assert count(app.session_factory, Case) == 3
    with app.session_factory() as session:
        assert session.scalars(select(MailboxState.uidvalidity)).one() == new_validity


def test_quarantine_show_and_retry(tmp_path: Path, sqlite_url: str, imap_account: Any) -> None:
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account)])
    original = app.ledger.handler

    def exploding(session: Any, inbound: Any) -> Any:
        raise RuntimeError("database hiccup")

    app.ledger.handler = exploding
    imap_account.append("INBOX", complaint(1))
    imap_account.append("INBOX", complaint(2))
    outcomes, _ = app.poll_mail()
    assert [o.kind for o in outcomes] == ["quarantined", "quarantined"]  # and none blocked
    app.ledger.handler = original
    config = _config_file(tmp_path, sqlite_url, [imap_box(imap_account)])
    from complaintd.cli import main

    def cli(*args: str) -> Any:
        return CliRunner().invoke(main, ["--config", str(config), "--lang", "en", *args])

    listed = cli("quarantine", "list")
    assert "hiccup" in listed.output
    shown = cli("quarantine", "show", "1")
    assert shown.exit_code == 0 and "Subject: 投诉 1" in shown.output
    retried = cli("quarantine", "retry", "1")
    assert retried.exit_code == 0, retried.output
    assert "processed again: case LO-" in retried.output
    assert cli("quarantine", "retry", "1").exit_code != 0  # already resolved
    assert count(app.session_factory, Case) == 1
    with app.session_factory() as session:
        rows = {r.uid: (r.outcome, r.case_id) for r in session.scalars(select(IngestedItem))}
    assert sorted(v[0] for v in rows.values()) == ["case", "quarantined"]
    assert "hiccup" in cli("quarantine", "list").output  # item 2 still waits


def test_reconcile_command_exits_nonzero_on_missing_mail(tmp_path: Path, sqlite_url: str,
                                                         imap_account: Any) -> None:
    config = _config_file(tmp_path, sqlite_url, [imap_box(imap_account)])
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account)])
    app.poll_mail()
    from complaintd.cli import main

    ok = CliRunner().invoke(main, ["--config", str(config), "--lang", "en",
                                   "mailboxes", "reconcile"])
    assert ok.exit_code == 0 and "all in the ledger" in ok.output
    imap_account.append("Processed", complaint(9))
    bad = CliRunner().invoke(main, ["--config", str(config), "--lang", "en",
                                    "mailboxes", "reconcile"])
    assert bad.exit_code == 1 and "neither in the ledger nor waiting" in bad.output


def test_same_complaint_through_two_addresses_is_one_case(tmp_path: Path, sqlite_url: str,
                                                          dovecot_server: Any) -> None:
    first = dovecot_server.add_user("twoaddr1", "pw1")
    second = dovecot_server.add_user("twoaddr2", "pw2")
    raw = complaint(1)
    first.append("INBOX", b"Received: from mx1 by a.example.org\r\nTo: report@a.org\r\n" + raw)
    second.append("INBOX", b"Received: from mx2 by b.example.org\r\nTo: staff@b.org\r\n" + raw)
    app = make_app(tmp_path, sqlite_url, [imap_box(first, name="report"),
                                          imap_box(second, name="staff")])
    outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == ["case", "duplicate"]
    assert outcomes[1].case_id == outcomes[0].case_id
    assert "another address" in outcomes[1].detail
    assert count(app.session_factory, Case) == 1
