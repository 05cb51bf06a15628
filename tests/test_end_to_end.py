"""The whole path on real servers: a mail APPENDed to Dovecot becomes one case and one
acknowledgement received by a real SMTP server; the mail moves to Processed; a second
round changes nothing. Runs on SQLite and on PostgreSQL, through the real CLI."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from casework.db import make_engine, make_sessionmaker
from casework.models import Case, IngestedItem
from casework.status import CaseStatus
from complaintd.cli import main
from notifications.models import OutboxMail, OutboxStatus
from tests.configs import real_servers_toml


def complaint(subject: str = "投诉：救助款迟迟未发放", sender: str = "zhang@example.cn") -> bytes:
    msg = EmailMessage()
    msg["From"] = formataddr(("张先生", sender))
    msg["To"] = "complaints@example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = "<e2e-1@example.cn>"
    msg["Date"] = "Tue, 24 Nov 2026 09:00:00 +0800"
    msg.set_content("申请的救助款承诺十个工作日发放，已经一个月了还没有到账。", charset="utf-8")
    return msg.as_bytes(policy=policy.SMTP)


def write_config(tmp_path: Path, db_url: str, imap: Any, smtp: Any) -> Path:
    config = tmp_path / "complaintd.toml"
    extra = '[organisation]\nhotline_phone = "021-5555-0100"\n'
    config.write_text(real_servers_toml(db_url, imap, smtp, extra=extra), encoding="utf-8")
    return config


def cli(config: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["--config", str(config), "--lang", "en", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def test_mail_to_case_to_acknowledgement(tmp_path: Path, db_url: str, imap_account: Any,
                                         smtp_server: Any) -> None:
    config = write_config(tmp_path, db_url, imap_account, smtp_server)
    cli(config, "db", "upgrade")
    uid = imap_account.append("INBOX", complaint())

    first = cli(config, "run", "--once")
    assert "1 new cases" in first.output and "1 mails sent" in first.output

    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        case = session.scalars(select(Case)).one()
        assert case.status is CaseStatus.ROUTED
        assert case.department == "triage"
        assert case.complainant is not None and case.complainant.email == "zhang@example.cn"
        assert [e.kind for e in case.events][:1] == ["received"]
        assert session.scalar(select(func.count()).select_from(IngestedItem)) == 1
    smtp_server.wait_for(1)
    (received,) = smtp_server.messages
    ack = message_from_bytes(received.raw, policy=policy.default)
    assert f"[{case.reference}]" in str(ack["Subject"])
    assert ack["In-Reply-To"] == "<e2e-1@example.cn>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert received.rcpt_tos == ["zhang@example.cn"]
    body = ack.get_body(("plain",))
    assert body is not None and case.reference in body.get_content()
    assert imap_account.uids("INBOX") == []
    assert len(imap_account.uids("Processed")) == 1 and uid

    second = cli(config, "run", "--once")
    assert "0 new cases" in second.output and "0 mails sent" in second.output
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        sent = session.scalars(select(OutboxMail)).all()
        assert [m.status for m in sent] == [OutboxStatus.SENT]
    assert len(smtp_server.messages) == 1
    engine.dispose()


def test_cases_list_and_show(tmp_path: Path, sqlite_url: str, imap_account: Any,
                             smtp_server: Any) -> None:
    config = write_config(tmp_path, sqlite_url, imap_account, smtp_server)
    cli(config, "db", "upgrade")
    imap_account.append("INBOX", complaint())
    cli(config, "run", "--once")
    listing = CliRunner().invoke(main, ["--config", str(config), "cases", "list"])
    assert listing.exit_code == 0
    engine = make_engine(sqlite_url)
    with make_sessionmaker(engine)() as session:
        reference = session.scalars(select(Case.reference)).one()
    engine.dispose()
    assert reference in listing.output
    assert "已分派" in listing.output  # Chinese is the default for staff
    assert "邮件" in listing.output and " email " not in listing.output  # the channel too
    shown = cli(config, "cases", "show", reference.lower())
    for kind in ("received", "status_changed", "mail_sent"):
        assert kind in shown.output


def test_run_refuses_an_unmigrated_database(tmp_path: Path, sqlite_url: str,
                                            imap_account: Any, smtp_server: Any) -> None:
    config = write_config(tmp_path, sqlite_url, imap_account, smtp_server)
    result = CliRunner().invoke(main, ["--config", str(config), "--lang", "en", "run", "--once"])
    assert result.exit_code == 2
    assert "complaintd db upgrade" in result.output


def test_bad_config_stops_with_key_and_problem(tmp_path: Path) -> None:
    config = tmp_path / "complaintd.toml"
    config.write_text("[smtp]\nport = \"twenty-five\"\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "--lang", "en", "run"])
    assert result.exit_code == 2
    assert "smtp.port" in result.output and str(config) in result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_demo_runs_on_embedded_defaults(tmp_path: Path, lang: str) -> None:
    result = CliRunner().invoke(main, ["--lang", lang, "demo", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    eml = sorted((tmp_path / "var" / "sent-mail").glob("*.eml"))
    # Three mails, two hotline callers with e-mail or phone; the auto-reply is ignored and
    # the reply joins the first case.
    subjects = [str(message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"])
                for p in eml]
    assert any("LO-2026-000001" in s for s in subjects)
    assert len(eml) >= 3
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'complaintd.sqlite3'}")
    with make_sessionmaker(engine)() as session:
        channels = sorted(c.channel for c in session.scalars(select(Case)))
        ignored = session.scalars(
            select(IngestedItem).where(IngestedItem.outcome == "ignored")).all()
        follow_ups = session.scalars(
            select(IngestedItem).where(IngestedItem.outcome == "follow_up")).all()
    engine.dispose()
    assert channels.count("email") == 3 and "hotline" in channels
    assert len(ignored) == 1 and "Auto-Submitted" in ignored[0].detail
    assert len(follow_ups) >= 1
