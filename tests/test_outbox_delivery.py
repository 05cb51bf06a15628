"""Delivery through a real aiosmtpd: one connection per batch, the rate limit, header
safety on the wire, flags for staff, draining, and a retry by hand.

Every test runs on SQLite and PostgreSQL (``session_factory``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import SHANGHAI, FixedClock
from casework.models import Case, Party, TimelineEvent
from casework.status import CaseStatus
from notifications.models import OutboxMail, OutboxStatus
from notifications.outbox import MailIdentity, queue_mail
from notifications.ratelimit import RateLimit
from notifications.retry import RetryPolicy
from notifications.review import AlreadySent, list_mail, retry_mail
from notifications.sender import OutboxSender, SendReport
from notifications.transports import OutgoingMail, Security, SmtpTransport
from tests.fixtures.smtp import SmtpServer

START = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
IDENTITY = MailIdentity(
    from_address="noreply@lifeoasis.example",
    from_name="上海生命绿洲公益服务中心",
    reply_to="tousu@lifeoasis.example",
    message_id_domain="lifeoasis.example",
)
NO_JITTER = RetryPolicy(base_seconds=60, max_seconds=3600, give_up_after=timedelta(days=2),
                        jitter=0)  # fmt: skip


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


def make_case(session: Session, *, phone: str | None = "13900001111") -> Case:
    party = Party(name="张三", email="zhang@example.com", phone=phone, created_at=START)
    case = Case(reference="LO-2026-000200", status=CaseStatus.INVESTIGATING, channel="email",
                subject="s", summary="s", language="zh", received_at=START,
                resolve_due=date(2026, 3, 20), complainant=party, created_at=START,
                updated_at=START)  # fmt: skip
    session.add(case)
    session.flush()
    return case


def queue(
    session: Session,
    key: str,
    recipient: str = "a@example.com",
    *,
    case_id: int | None = None,
    name: str | None = None,
    subject: str | None = None,
) -> OutboxMail:
    return queue_mail(session, dedup_key=key, case_id=case_id, kind="test", recipient=recipient,
                      recipient_name=name, subject=subject or f"subject {key}", text="正文",
                      html="<p>正文</p>", identity=IDENTITY, now=START,
                      auto_submitted="auto-generated")  # fmt: skip


def sender(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    server: SmtpServer,
    **options: object,
) -> OutboxSender:
    transport = SmtpTransport("127.0.0.1", server.port, security="plain", timeout=5)
    return OutboxSender(session_factory, transport, clock, NO_JITTER, **options)  # type: ignore[arg-type]


def settle(session: Session) -> None:
    # SQLite: a checking session must not hold the write lock while the sender works.
    session.commit()
    session.expire_all()


def test_one_connection_carries_a_whole_batch(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    for number in range(7):
        queue(db, f"reuse:{number}", f"r{number}@example.com")
    settle(db)

    assert sender(session_factory, clock, smtp_server, batch_size=5).drain() == SendReport(sent=7)

    assert len(smtp_server.wait_for(7)) == 7
    assert smtp_server.connections == 2  # a batch of 5, then a batch of 2


def test_the_rate_limit_spaces_the_mails(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    for number in range(4):
        queue(db, f"rate:{number}")
    settle(db)
    elapsed = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        elapsed[0] += seconds

    # 120 a minute: one every 0.5 s; sending itself takes no (fake) time here.
    limit = RateLimit(120, monotonic=lambda: elapsed[0], sleep=sleep)
    report = sender(session_factory, clock, smtp_server, rate=limit).run_once()

    assert report == SendReport(sent=4)
    assert sleeps == [0.5, 0.5, 0.5]
    assert len(smtp_server.wait_for(4)) == 4


class LeaseReader:
    """A transport that, instead of sending, reads the lease of the mail in hand."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory
        self.leases: list[datetime] = []

    def open(self) -> None:
        return None

    def send(self, mail: OutgoingMail) -> None:
        with self.session_factory() as session:
            self.leases.append(session.get_one(OutboxMail, mail.outbox_id).next_attempt_at)
            session.rollback()

    def close(self) -> None:
        return None


def test_the_rate_limit_stretches_the_lease_over_the_batch(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    queue(db, "lease:1")
    settle(db)
    slow = RateLimit(6, monotonic=lambda: 0.0, sleep=lambda s: None)  # 10 s a mail
    reader = LeaseReader(session_factory)
    lease = timedelta(minutes=30)

    OutboxSender(session_factory, reader, clock, NO_JITTER, batch_size=60, lease=lease,
                 rate=slow).run_once()  # fmt: skip

    # 60 mails at 10 s each would take 10 minutes: the lease covers them too.
    assert reader.leases == [START + lease + timedelta(seconds=600)]


def test_a_rate_limit_of_zero_means_none() -> None:
    sleeps: list[float] = []
    unlimited = RateLimit(0, monotonic=lambda: 0.0, sleep=sleeps.append)
    for _ in range(3):
        unlimited.wait()
    assert sleeps == []


def test_a_slow_sender_is_not_held_back_further() -> None:
    now = [0.0]
    sleeps: list[float] = []
    limit = RateLimit(60, monotonic=lambda: now[0], sleep=sleeps.append)
    limit.wait()
    now[0] = 5.0  # the send took longer than the spacing
    limit.wait()
    now[0] = 5.5
    limit.wait()
    assert sleeps == [0.5]


def test_cr_lf_and_chinese_in_names_and_subjects_arrive_encoded_not_injected(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    queue(db, "inject:wire", "zhang@example.com", name="张三\r\nBcc: thief@evil.example",
          subject="关于收费\r\nBcc: thief@evil.example\r\n\r\n假正文")  # fmt: skip
    settle(db)

    assert sender(session_factory, clock, smtp_server).run_once() == SendReport(sent=1)

    [got] = smtp_server.wait_for(1)
    assert got.rcpt_tos == ["zhang@example.com"]  # nobody was added to the envelope
    headers = got.raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii() and b"=?utf-8?" in headers  # RFC 2047 on the wire
    names = {line.split(b":", 1)[0].lower() for line in headers.split(b"\r\n")
             if line[:1] not in (b" ", b"\t")}  # fmt: skip
    assert b"bcc" not in names
    assert got.message["Subject"] == "关于收费 Bcc: thief@evil.example 假正文"
    [to] = got.message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("张三 Bcc: thief@evil.example", "zhang@example.com")
    body = got.message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().strip() == "正文"


def test_a_refused_mail_to_staff_flags_the_case_but_asks_for_no_call(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    case = make_case(db)
    queue(db, "staff:1", "handler@lifeoasis.example", case_id=case.id)
    settle(db)
    smtp_server.answer_next("550 5.1.1 unknown user")

    assert sender(session_factory, clock, smtp_server).run_once() == SendReport(failed=1)

    db.expire_all()
    flagged = db.get_one(Case, case.id)
    assert (flagged.needs_attention, flagged.phone_follow_up) == (True, False)


def test_drain_sends_every_due_batch_and_leaves_waiting_mail(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    for number in range(5):
        queue(db, f"drain:{number}", f"d{number}@example.com")
    settle(db)
    smtp_server.answer_next("451 4.3.0 later")  # the first mail waits for its retry

    report = sender(session_factory, clock, smtp_server, batch_size=2).drain()

    assert report == SendReport(sent=4, retried=1)
    assert len(smtp_server.wait_for(4)) == 4
    assert sender(session_factory, clock, smtp_server).drain(max_batches=3) == SendReport()


def test_retry_by_hand_sends_the_same_message_again_and_is_recorded(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    case = make_case(db)
    row = queue(db, "manual:1", "zhang@example.com", case_id=case.id)
    settle(db)
    smtp_server.answer_next("550 5.2.1 mailbox disabled")
    assert sender(session_factory, clock, smtp_server).run_once() == SendReport(failed=1)
    [(failed, reference)] = list_mail(db, failed_only=True)
    assert (failed.id, reference, failed.last_error) == (
        row.id, "LO-2026-000200", "550 5.2.1 mailbox disabled")  # fmt: skip
    settle(db)

    clock.advance(timedelta(days=5))  # older than give_up_after: the age restarts
    retry_mail(db, row.id, now=clock.now(), actor="cli:li.na")
    settle(db)
    assert sender(session_factory, clock, smtp_server).run_once() == SendReport(sent=1)

    [got] = smtp_server.wait_for(1)
    assert got.message["Message-ID"] == row.message_id
    settle(db)
    assert list_mail(db, failed_only=True) == []
    [event] = db.scalars(select(TimelineEvent).where(
        TimelineEvent.kind == "mail_retry_requested")).all()  # fmt: skip
    assert (event.actor, event.details["was"]) == ("cli:li.na", "failed")
    with pytest.raises(AlreadySent):
        retry_mail(db, row.id, now=clock.now(), actor="cli:li.na")
    with pytest.raises(LookupError):
        retry_mail(db, 999, now=clock.now(), actor="cli:li.na")
    db.rollback()
    assert db.get_one(OutboxMail, row.id).status == OutboxStatus.SENT


def test_tls_and_starttls_as_configured(
    db: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    tls_smtp_server: SmtpServer,
) -> None:
    queue(db, "tls:1")
    settle(db)
    security: Security = "ssl" if tls_smtp_server.tls == "ssl" else "starttls"
    # Plain text is refused by this server (no TLS at all, or 530 before STARTTLS) ...
    plain = SmtpTransport("127.0.0.1", tls_smtp_server.port, security="plain", timeout=1)
    refused = OutboxSender(session_factory, plain, clock, NO_JITTER).run_once()
    assert refused == SendReport(retried=1)
    # ... and a certificate the system does not trust is refused when it is checked.
    clock.advance(timedelta(minutes=1))
    checked = SmtpTransport("127.0.0.1", tls_smtp_server.port, security=security, timeout=5)
    assert OutboxSender(session_factory, checked, clock, NO_JITTER).run_once() == SendReport(
        retried=1
    )
    clock.advance(timedelta(minutes=2))
    trusting = SmtpTransport("127.0.0.1", tls_smtp_server.port, security=security, timeout=5,
                             validate_certs=False)  # fmt: skip
    assert OutboxSender(session_factory, trusting, clock, NO_JITTER).run_once() == SendReport(
        sent=1
    )
    assert len(tls_smtp_server.wait_for(1)) == 1


def test_a_refused_sender_address_is_our_fault_not_the_mails(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    case = make_case(db)
    row = queue(db, "sender:1", "zhang@example.com", case_id=case.id)
    settle(db)
    smtp_server.answer_next("550 5.7.1 sender address not allowed", stage="mail")

    assert sender(session_factory, clock, smtp_server).run_once() == SendReport(retried=1)

    db.expire_all()
    waiting = db.get_one(OutboxMail, row.id)
    assert waiting.status == OutboxStatus.PENDING
    assert waiting.last_error == "550 5.7.1 sender address not allowed"
    assert db.get_one(Case, case.id).needs_attention is False


def test_drain_stops_starting_batches_when_its_time_is_up(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    for number in range(3):
        queue(db, f"budget:{number}", f"b{number}@example.com")
    settle(db)
    one_at_a_time = sender(session_factory, clock, smtp_server, batch_size=1)

    assert one_at_a_time.drain(budget_seconds=0) == SendReport()
    assert one_at_a_time.drain(max_batches=1) == SendReport(sent=1)
    assert one_at_a_time.drain(budget_seconds=60) == SendReport(sent=2)
