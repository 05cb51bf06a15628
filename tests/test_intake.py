"""Idempotent intake on a real Dovecot and a real Maildir: exactly one case per mail,
whatever happened before; a broken item is quarantined and never blocks the rest."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework.calendar import WorkCalendar
from casework.clock import SystemClock
from casework.inbound import Inbound, Receipt
from casework.models import Case, IngestedItem, QuarantineItem
from casework.rawstore import RawStore
from casework.services import CasePolicy, receive
from intake.imap import ImapAccount, ImapPoller
from intake.ledger import Ledger, SourceItem
from intake.maildir import MaildirSource
from intake.understand import understand_mail

CALENDAR = WorkCalendar.build()


def open_cases(session: Session, inbound: Inbound) -> Receipt:
    if "炸" in inbound.subject:  # a handler failure, to prove it is quarantined
        raise RuntimeError("handler exploded")
    return receive(session, inbound, calendar=CALENDAR, policy=CasePolicy())[1]


def mail(n: int, subject: str = "投诉", sender: str = "a@example.cn") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["Subject"] = f"{subject} {n}"
    msg["Message-ID"] = f"<intake-{n}@example.cn>"
    msg.set_content(f"第{n}件投诉的内容", charset="utf-8")
    return bytes(msg)


@pytest.fixture
def ledger(session_factory: sessionmaker[Session], tmp_path: Path) -> Ledger:
    return Ledger(session_factory, RawStore(tmp_path / "raw"), SystemClock(), open_cases)


def poller(imap: Any, ledger: Ledger, batch: int = 2) -> ImapPoller:
    account = ImapAccount(name="reporting", host=imap.host, port=imap.port, security="plain",
                          username=imap.user, password=imap.password, batch_size=batch)
    return ImapPoller(account, ledger)


def count(session_factory: sessionmaker[Session], model: Any) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_each_mail_once_then_moved(imap_account: Any, ledger: Ledger,
                                   session_factory: sessionmaker[Session]) -> None:
    for n in range(5):
        imap_account.append("INBOX", mail(n))
    report = poller(imap_account, ledger).run_once()
    assert [o.kind for o in report.outcomes] == ["case"] * 5
    assert report.moved == 5
    assert imap_account.uids("INBOX") == [] and len(imap_account.uids("Processed")) == 5
    again = poller(imap_account, ledger).run_once()
    assert again.outcomes == () and again.waiting == 0
    assert count(session_factory, Case) == 5


def test_crash_between_commit_and_move(imap_account: Any, ledger: Ledger,
                                       session_factory: sessionmaker[Session]) -> None:
    uid = imap_account.append("INBOX", mail(1))
    validity = imap_account.uidvalidity("INBOX")
    # What an earlier run left behind when it died after its commit, before the MOVE.
    item = SourceItem("imap:reporting", "INBOX", validity, str(uid),
                      imap_account.fetch_raw("INBOX", uid))
    assert ledger.take(item, understand_mail).kind == "case"
    report = poller(imap_account, ledger).run_once()
    assert report.outcomes == () and report.moved == 1
    assert count(session_factory, Case) == 1
    assert imap_account.uids("INBOX") == []


def test_uidvalidity_change_creates_nothing_twice(imap_account: Any, ledger: Ledger,
                                                  session_factory: sessionmaker[Session]) -> None:
    first_uid = imap_account.append("INBOX", mail(1))
    imap_account.append("INBOX", mail(2))
    validity = imap_account.uidvalidity("INBOX")
    # An earlier run took the first mail and died before moving it; then the server
    # rebuilt its index: the same messages now sit at new (UIDVALIDITY, UID) places.
    fetched = imap_account.fetch_raw("INBOX", first_uid)  # the server's bytes (CRLF)
    first = SourceItem("imap:reporting", "INBOX", validity, str(first_uid), fetched)
    assert ledger.take(first, understand_mail).kind == "case"
    assert imap_account.bump_uidvalidity("INBOX") != validity
    report = poller(imap_account, ledger).run_once()
    assert sorted(o.kind for o in report.outcomes) == ["case", "duplicate"]
    assert count(session_factory, Case) == 2
    assert imap_account.uids("INBOX") == []


def test_broken_item_is_quarantined_and_the_rest_go_on(
        imap_account: Any, ledger: Ledger, session_factory: sessionmaker[Session]) -> None:
    imap_account.append("INBOX", mail(1))
    imap_account.append("INBOX", mail(2, subject="炸"))
    imap_account.append("INBOX", mail(3))
    report = poller(imap_account, ledger).run_once()
    assert [o.kind for o in report.outcomes] == ["case", "quarantined", "case"]
    with session_factory() as session:
        (item,) = session.scalars(select(QuarantineItem)).all()
        assert "handler exploded" in item.reason
        assert item.raw_sha256 is not None
        stored = ledger.raw_store.get(item.raw_sha256)
        assert stored.replace(b"\r\n", b"\n") == mail(2, subject="炸")
    assert count(session_factory, Case) == 2
    assert imap_account.uids("INBOX") == []


def test_machine_mail_is_ignored_with_its_reason(
        imap_account: Any, ledger: Ledger, session_factory: sessionmaker[Session]) -> None:
    msg = EmailMessage()
    msg["From"] = "MAILER-DAEMON@example.org"
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg.set_content("bounce")
    imap_account.append("INBOX", bytes(msg))
    report = poller(imap_account, ledger).run_once()
    assert [o.kind for o in report.outcomes] == ["ignored"]
    with session_factory() as session:
        row = session.scalars(select(IngestedItem)).one()
        assert row.detail == "mailer-daemon sender"
    assert count(session_factory, Case) == 0


def test_maildir_source_moves_after_commit(tmp_path: Path, ledger: Ledger,
                                           session_factory: sessionmaker[Session]) -> None:
    box = tmp_path / "Maildir"
    (box / "new").mkdir(parents=True)
    for n in range(3):
        (box / "new" / f"17000000{n}.M1P1.host").write_bytes(mail(n))
    source = MaildirSource("local", box, ledger)
    report = source.run_once()
    assert [o.kind for o in report.outcomes] == ["case"] * 3
    assert list((box / "new").iterdir()) == []
    assert len(list((box / ".Processed" / "cur").iterdir())) == 3
    # The same file delivered again (a crash before the rename): no second case.
    (box / "new" / "170000000.M1P1.host").write_bytes(mail(0))
    assert [o.kind for o in source.run_once().outcomes] == ["duplicate"]
    assert count(session_factory, Case) == 3


def test_attachments_are_stored_once_with_safe_names(
        tmp_path: Path, ledger: Ledger, session_factory: sessionmaker[Session]) -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.cn"
    msg["Subject"] = "附件"
    msg.set_content("见附件", charset="utf-8")
    pdf = b"%PDF-1.4 fake medical record"
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="../../病历.pdf")
    box = tmp_path / "Maildir"
    (box / "new").mkdir(parents=True)
    (box / "new" / "1.M1.host").write_bytes(bytes(msg))
    MaildirSource("local", box, ledger).run_once()
    with session_factory() as session:
        case = session.scalars(select(Case)).one()
        (attachment,) = case.messages[0].attachments
        assert attachment.filename == "病历.pdf"
        assert attachment.size == len(pdf) and attachment.content_type == "application/pdf"
        assert ledger.raw_store.get(attachment.sha256) == pdf
