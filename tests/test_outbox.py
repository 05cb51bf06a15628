"""The outbox end to end: queue in a transaction, send through a real SMTP server.

Every test runs on SQLite and PostgreSQL (``session_factory``) against aiosmtpd.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import TypeVar, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import SHANGHAI, FixedClock
from casework.models import Case, Party, TimelineEvent
from casework.status import CaseStatus
from notifications.models import OutboxMail, OutboxStatus
from notifications.notices import OrganisationInfo, queue_acknowledgement
from notifications.outbox import (
    LOOP_HEADER,
    InvalidRecipient,
    MailIdentity,
    header_text,
    queue_mail,
)
from notifications.renderer import TemplateRenderer
from notifications.retry import DeliveryError, RetryPolicy
from notifications.sender import OutboxSender, SendReport
from notifications.transports import FileTransport, OutgoingMail, SmtpTransport
from tests.fixtures.smtp import SmtpServer

START = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
IDENTITY = MailIdentity(
    from_address="noreply@lifeoasis.example",
    from_name="上海生命绿洲公益服务中心",
    reply_to="tousu@lifeoasis.example",
    message_id_domain="lifeoasis.example",
)
ORG = OrganisationInfo(
    name="上海生命绿洲公益服务中心",
    name_en="Shanghai Life Oasis Public Welfare Service Center",
    hotline_phone="021-6123 4567",
    resolve_working_days=15,
)
NO_JITTER = RetryPolicy(
    base_seconds=60, max_seconds=3600, give_up_after=timedelta(days=2), jitter=0
)
RENDERER = TemplateRenderer()
T = TypeVar("T")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging and checking; the sender opens its own."""
    with session_factory() as session:
        yield session


def parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return cast(str, part.get_content())


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def make_case(
    session: Session,
    *,
    email: str | None = "zhang@example.com",
    name: str | None = "张三",
    anonymous: bool = False,
    language: str = "zh",
    number: int = 123,
    phone: str | None = None,
) -> Case:
    party = Party(name=name, email=email, phone=phone, anonymous=anonymous, language=language,
                  created_at=START)
    case = Case(
        reference=f"LO-2026-{number:06d}",
        status=CaseStatus.RECEIVED,
        channel="email",
        subject="医院收费问题",
        summary="……",
        language=language,
        received_at=START,
        resolve_due=date(2026, 3, 20),
        complainant=party,
        created_at=START,
        updated_at=START,
    )
    session.add(case)
    session.flush()
    return case


def acknowledge(session: Session, case: Case, **kwargs: object) -> OutboxMail | None:
    options: dict[str, object] = {
        "inbound_message_id": "<inbound-1@mail.example.com>",
        "references": ("<root@mail.example.com>",),
        "identity": IDENTITY,
        "renderer": RENDERER,
        "org": ORG,
        "now": START,
        **kwargs,
    }
    return queue_acknowledgement(session, case, **options)  # type: ignore[arg-type]


def queue_plain(
    session: Session, key: str = "test:1", recipient: str = "a@example.com"
) -> OutboxMail:
    return queue_mail(
        session,
        dedup_key=key,
        case_id=None,
        kind="test",
        recipient=recipient,
        recipient_name=None,
        subject=f"subject {key}",
        text="body",
        html=None,
        identity=IDENTITY,
        now=START,
        auto_submitted="auto-generated",
    )


def smtp_sender(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    server: SmtpServer | int,
    retry: RetryPolicy = NO_JITTER,
) -> OutboxSender:
    port = server if isinstance(server, int) else server.port
    transport = SmtpTransport("127.0.0.1", port, security="plain", timeout=5)
    return OutboxSender(session_factory, transport, clock, retry)


def _detached(session: Session, objects: list[T]) -> list[T]:
    # On SQLite every transaction takes the write lock (BEGIN IMMEDIATE), so a checking
    # session must not stay in one while the sender works.
    for obj in objects:
        session.expunge(obj)
    session.rollback()
    return objects


def events(session: Session, case_id: int, kind: str) -> list[TimelineEvent]:
    session.rollback()
    query = select(TimelineEvent).where(
        TimelineEvent.case_id == case_id, TimelineEvent.kind == kind
    )
    return _detached(session, list(session.scalars(query)))


def fresh(session: Session, row_id: int) -> OutboxMail:
    """The row as the database has it now."""
    session.rollback()
    session.expire_all()  # rollback alone keeps what was loaded when no transaction was open
    [row] = _detached(session, [session.get_one(OutboxMail, row_id)])
    return row


def fresh_case(session: Session, case_id: int) -> Case:
    session.rollback()
    session.expire_all()
    [case] = _detached(session, [session.get_one(Case, case_id)])
    return case


# -- the acknowledgement as queued ----------------------------------------------------


@pytest.mark.parametrize(
    ("language", "override", "expected"),
    [
        ("zh", None, ["受理编号：LO-2026-000123", "2026年3月20日", "15个工作日"]),
        ("en", None, ["Reference number: LO-2026-000123", "20 March 2026", "15 working days"]),
        ("en", "bilingual", ["受理编号：LO-2026-000123", "Reference number: LO-2026-000123"]),
    ],
)
def test_acknowledgement_is_a_complete_reply(
    db: Session, language: str, override: str | None, expected: list[str]
) -> None:
    case = make_case(db, language=language)
    row = acknowledge(db, case, language_override=override)
    db.commit()

    assert row is not None
    message = parse(row.raw)
    body = text_of(message)
    for snippet in [*expected, "021-6123 4567", "tousu@lifeoasis.example"]:
        assert snippet in body
    assert "[LO-2026-000123]" in str(message["Subject"])
    assert str(message["To"]) == "张三 <zhang@example.com>"
    assert message["From"].addresses[0].display_name == "上海生命绿洲公益服务中心"
    assert message["Reply-To"] == "tousu@lifeoasis.example"
    assert message["In-Reply-To"] == "<inbound-1@mail.example.com>"
    assert message["References"] == "<root@mail.example.com> <inbound-1@mail.example.com>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Precedence"] == "auto_reply"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message[LOOP_HEADER] == "lifeoasis.example"
    assert re.fullmatch(r"<[^@>]+@lifeoasis\.example>", message["Message-ID"])
    assert message["Message-ID"] == row.message_id
    assert message.get_body(preferencelist=("html",)) is not None
    assert (row.kind, row.recipient, row.case_id) == (
        "acknowledgement",
        "zhang@example.com",
        case.id,
    )
    assert (row.status, row.attempts, row.dedup_key) == (
        OutboxStatus.PENDING,
        0,
        "ack:LO-2026-000123",
    )


def test_hotline_case_acknowledgement_is_not_an_auto_reply(db: Session) -> None:
    row = acknowledge(db, make_case(db), inbound_message_id=None, references=())

    assert row is not None
    message = parse(row.raw)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Precedence"] is None
    assert message["In-Reply-To"] is None and message["References"] is None


def test_no_acknowledgement_without_an_address(db: Session) -> None:
    assert acknowledge(db, make_case(db, email=None, name=None, anonymous=True)) is None
    assert acknowledge(db, make_case(db, email="", number=124)) is None
    assert db.scalar(select(func.count()).select_from(OutboxMail)) == 0


def test_anonymous_complainant_with_an_address_is_written_to_without_a_name(db: Session) -> None:
    row = acknowledge(db, make_case(db, name="真名", anonymous=True))

    assert row is not None
    message = parse(row.raw)
    assert str(message["To"]) == "zhang@example.com"
    assert text_of(message).startswith("您好：")
    assert b"\xe7\x9c\x9f" not in row.raw and "真名" not in text_of(message)


def test_an_unusable_address_is_recorded_on_the_case_not_dropped(db: Session) -> None:
    case = make_case(db, email="zhang@example.com, boss@example.com")

    assert acknowledge(db, case) is None
    db.commit()
    [event] = events(db, case.id, "mail_not_queued")
    assert event.details["kind"] == "acknowledgement"
    assert db.scalar(select(func.count()).select_from(OutboxMail)) == 0


# -- headers from user text -----------------------------------------------------------


def test_line_breaks_in_user_text_are_encoded_not_injected(db: Session) -> None:
    row = queue_mail(
        db,
        dedup_key="inject:1",
        case_id=None,
        kind="test",
        recipient="zhang@example.com\r\n",
        recipient_name="张三\r\nBcc: thief@evil.example",
        subject="关于收费\r\nX-Injected: yes\nCc: thief@evil.example",
        text="正文",
        html=None,
        identity=IDENTITY,
        now=START,
        in_reply_to="<a@b.example>\r\nX-Injected: also",
        references=("<root@b.example>\nBcc: x@y.example",),
    )
    db.commit()

    headers = header_block(row.raw)
    assert headers.isascii()  # Chinese went out RFC 2047-encoded
    assert b"=?utf-8?" in headers
    names = [
        line.split(b":", 1)[0].lower()
        for line in headers.split(b"\r\n")
        if line[:1] not in (b" ", b"\t")
    ]
    assert b"bcc" not in names and b"cc" not in names and b"x-injected" not in names
    message = parse(row.raw)
    assert message["Subject"] == "关于收费 X-Injected: yes Cc: thief@evil.example"
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("张三 Bcc: thief@evil.example", "zhang@example.com")
    assert message["From"].addresses[0].display_name == "上海生命绿洲公益服务中心"
    assert message["In-Reply-To"] == "<a@b.example>"
    assert message["References"] == "<root@b.example> <a@b.example>"
    assert row.subject == "关于收费 X-Injected: yes Cc: thief@evil.example"


def test_header_text_leaves_one_line_without_control_characters() -> None:
    assert (
        header_text("投诉\r\n  Bcc: x\x00y\x1b[31m\u2028z\u0085w\tv ") == "投诉 Bcc: x y [31m z w v"
    )


@pytest.mark.parametrize(
    "address",
    ["a@example.com\r\nBcc: x@evil.example", "a@example.com, b@example.com", "nobody", ""],
)
def test_a_recipient_must_be_one_mailbox(db: Session, address: str) -> None:
    with pytest.raises(InvalidRecipient):
        queue_plain(db, recipient=address)


def test_an_internationalised_domain_goes_out_as_idna(db: Session) -> None:
    row = queue_plain(db, recipient="zhang@例子.中国")

    assert row.recipient == "zhang@xn--fsqu00a.xn--fiqs8s"


# -- once only ---------------------------------------------------------------------


def test_the_same_key_queues_once_in_one_session_and_across_sessions(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as first:
        one = queue_plain(first, "ack:LO-2026-000001")
        again = queue_plain(first, "ack:LO-2026-000001")  # not flushed in between
        assert again is one
        first.commit()
    with session_factory() as second:
        third = queue_plain(second, "ack:LO-2026-000001")
        second.commit()
        assert third.id == one.id
        assert second.scalar(select(func.count()).select_from(OutboxMail)) == 1


def test_two_writers_racing_on_one_key_queue_one_mail(
    session_factory: sessionmaker[Session],
) -> None:
    """The lookup cannot see the other writer's uncommitted row; the unique key must."""
    results: list[int] = []

    def second_writer() -> None:
        with session_factory() as late:
            results.append(queue_plain(late, "race:1").id)
            late.commit()

    with session_factory() as early:
        queue_plain(early, "race:1")
        early.flush()  # inserted, not committed: the second writer waits on the key
        worker = threading.Thread(target=second_writer)
        worker.start()
        worker.join(timeout=0.5)
        early.commit()
    worker.join(timeout=10)

    assert not worker.is_alive()
    with session_factory() as check:
        [row] = check.scalars(select(OutboxMail)).all()
    assert results == [row.id]


def test_acknowledging_a_case_twice_queues_one_mail(db: Session) -> None:
    case = make_case(db)
    first = acknowledge(db, case)
    second = acknowledge(db, case, now=START + timedelta(hours=1))
    db.commit()

    assert first is not None and second is first
    assert db.scalar(select(func.count()).select_from(OutboxMail)) == 1


# -- sending --------------------------------------------------------------------------


def test_a_sent_mail_is_never_sent_again(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    case = make_case(db)
    row = acknowledge(db, case)
    assert row is not None
    db.commit()
    sender = smtp_sender(session_factory, clock, smtp_server)

    assert sender.run_once() == SendReport(sent=1)
    clock.advance(timedelta(days=3))
    assert sender.run_once() == SendReport()

    [got] = smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1
    assert got.raw.replace(b"\r\n", b"\n") == row.raw.replace(b"\r\n", b"\n")
    assert (got.envelope_from, got.rcpt_tos) == ("noreply@lifeoasis.example", ["zhang@example.com"])
    sent = fresh(db, row.id)
    assert (sent.status, sent.sent_at, sent.attempts, sent.last_error) == (
        OutboxStatus.SENT,
        START,
        1,
        "",
    )
    [event] = events(db, case.id, "mail_sent")
    assert event.details["message_id"] == row.message_id
    assert event.details["mail_kind"] == "acknowledgement"


def test_server_down_then_busy_then_sent_exactly_once(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    row = queue_plain(db)
    db.commit()
    sender = smtp_sender(session_factory, clock, smtp_server)

    smtp_server.stop()
    assert sender.run_once() == SendReport(retried=1)
    down = fresh(db, row.id)
    assert down.attempts == 1 and down.next_attempt_at == START + timedelta(seconds=60)
    assert "Connect" in down.last_error or "refused" in down.last_error.lower()
    assert sender.run_once() == SendReport()  # not due yet

    smtp_server.start()
    smtp_server.answer_next("421 4.3.2 try later")
    clock.advance(timedelta(seconds=60))
    assert sender.run_once() == SendReport(retried=1)
    busy = fresh(db, row.id)
    assert busy.last_error == "421 4.3.2 try later"
    assert busy.next_attempt_at == clock.now() + timedelta(seconds=120)  # doubled

    clock.advance(timedelta(seconds=120))
    assert sender.run_once() == SendReport(sent=1)
    clock.advance(timedelta(hours=1))
    assert sender.run_once() == SendReport()
    assert len(smtp_server.wait_for(1)) == 1
    done = fresh(db, row.id)
    assert (done.status, done.attempts, done.last_error) == (OutboxStatus.SENT, 3, "")


@pytest.mark.parametrize("phone", ["13900001111", None])
def test_a_refused_mailbox_fails_at_once_and_tells_staff(
    db: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    smtp_server: SmtpServer,
    phone: str | None,
) -> None:
    case = make_case(db, phone=phone)
    row = acknowledge(db, case)
    assert row is not None
    db.commit()
    smtp_server.answer_next("550 5.1.1 <zhang@example.com>: no such user")
    sender = smtp_sender(session_factory, clock, smtp_server)

    assert sender.run_once() == SendReport(failed=1)
    clock.advance(timedelta(days=1))
    assert sender.run_once() == SendReport()

    assert smtp_server.messages == []
    failed = fresh(db, row.id)
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 1)
    assert failed.last_error == "550 5.1.1 <zhang@example.com>: no such user"
    [event] = events(db, case.id, "mail_failed")
    assert event.details["permanent"] is True
    assert "no such user" in event.details["error"]
    assert event.actor == "complaintd.outbox"
    # Staff see the case flagged; a complainant with a phone number is to be called.
    flagged = fresh_case(db, case.id)
    assert flagged.needs_attention is True
    assert flagged.phone_follow_up is (phone is not None)
    assert event.details["phone_follow_up"] is (phone is not None)


def test_one_bad_mail_does_not_hold_up_the_batch(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    rows = [queue_plain(db, f"batch:{n}", f"r{n}@example.com") for n in range(4)]
    db.commit()
    # The second mail gets a 421 at DATA; the client hangs up, the sender reconnects.
    smtp_server.answer_next("250 OK", stage="data")  # consumed by the first mail
    smtp_server.answer_next("421 4.4.2 closing", stage="data")

    report = smtp_sender(session_factory, clock, smtp_server).run_once()

    assert report == SendReport(sent=3, retried=1)
    statuses = [fresh(db, row.id).status for row in rows]
    assert statuses == [
        OutboxStatus.SENT,
        OutboxStatus.PENDING,
        OutboxStatus.SENT,
        OutboxStatus.SENT,
    ]
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "r2@example.com",
        "r3@example.com",
    ]


def test_an_old_mail_is_given_up(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, dead_smtp_port: int
) -> None:
    case = make_case(db)
    row = acknowledge(db, case)
    assert row is not None
    db.commit()
    patient = RetryPolicy(
        base_seconds=1200, max_seconds=3600, give_up_after=timedelta(minutes=50), jitter=0
    )
    sender = smtp_sender(session_factory, clock, dead_smtp_port, patient)

    assert sender.run_once() == SendReport(retried=1)
    assert fresh(db, row.id).next_attempt_at == START + timedelta(minutes=20)
    clock.advance(timedelta(minutes=20))
    assert sender.run_once() == SendReport(retried=1)
    # 40 more minutes of backoff would pass the 50-minute limit: the last try is at it.
    assert fresh(db, row.id).next_attempt_at == START + timedelta(minutes=50)
    clock.set(START + timedelta(minutes=50))
    assert sender.run_once() == SendReport(failed=1)

    gone = fresh(db, row.id)
    assert (gone.status, gone.attempts) == (OutboxStatus.FAILED, 3)
    assert fresh_case(db, case.id).needs_attention is True
    [event] = events(db, case.id, "mail_failed")
    assert event.details["permanent"] is False
    assert event.details["reason"].startswith("gave up after 3 attempts")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_is_used_and_a_wrong_password_is_not_the_mails_fault(
    db: Session,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    smtp_server_with_login: SmtpServer,
) -> None:
    server = smtp_server_with_login
    row = queue_plain(db)
    db.commit()

    def sender(password: str) -> OutboxSender:
        transport = SmtpTransport(
            "127.0.0.1", server.port, "plain", "complaintd", password, timeout=5
        )
        return OutboxSender(session_factory, transport, clock, NO_JITTER)

    assert sender("wrong").run_once() == SendReport(retried=1)  # a 535 must not fail mail
    assert fresh(db, row.id).last_error.startswith("535")
    clock.advance(timedelta(minutes=1))
    assert sender("s3cret").run_once() == SendReport(sent=1)
    assert server.logins == ["complaintd"]
    assert len(server.wait_for(1)) == 1


class _Crash(BaseException):
    """Stands for the process dying (kill -9, power cut) in the middle of a send."""


class CrashingTransport:
    def open(self) -> None:
        return None

    def send(self, mail: OutgoingMail) -> None:
        raise _Crash

    def close(self) -> None:
        return None


def test_a_sender_dying_mid_batch_leaves_its_mail_to_a_later_run(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    row = queue_plain(db)
    db.commit()
    lease = timedelta(minutes=30)

    with pytest.raises(_Crash):
        OutboxSender(session_factory, CrashingTransport(), clock, NO_JITTER, lease=lease).run_once()
    healthy = smtp_sender(session_factory, clock, smtp_server)
    assert healthy.run_once() == SendReport()  # still leased to the dead sender
    clock.advance(lease)
    assert healthy.run_once() == SendReport(sent=1)
    assert fresh(db, row.id).attempts == 2


# Row locks are PostgreSQL's (SQLite has one writer at a time): this runs there only.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_rows_locked_by_another_sender_are_skipped(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    assert db.get_bind().dialect.name == "postgresql"
    first, second = (
        queue_plain(db, "lock:1", "one@example.com"),
        queue_plain(db, "lock:2", "two@example.com"),
    )
    db.commit()

    sender = smtp_sender(session_factory, clock, smtp_server)
    reports: list[SendReport] = []
    with session_factory() as other, other.begin():
        other.get_one(OutboxMail, first.id, with_for_update=True)
        # In a thread, so a sender that waits for the lock fails the test instead of hanging it.
        worker = threading.Thread(target=lambda: reports.append(sender.run_once()))
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive(), "the sender waited for a locked row instead of skipping it"
    assert reports == [SendReport(sent=1)]

    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [["two@example.com"]]
    assert fresh(db, first.id).status == OutboxStatus.PENDING
    assert fresh(db, second.id).status == OutboxStatus.SENT


def test_file_transport_writes_each_mail_as_a_parseable_eml(
    db: Session, session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path
) -> None:
    row = acknowledge(db, make_case(db))
    assert row is not None
    db.commit()
    folder = tmp_path / "outbox"
    sender = OutboxSender(session_factory, FileTransport(folder, clock), clock, NO_JITTER)

    assert sender.run_once() == SendReport(sent=1)

    [written] = list(folder.iterdir())
    assert written.name == f"20260302T013000000000Z-{row.id}.eml"
    assert written.read_bytes() == row.raw
    message = parse(written.read_bytes())
    assert message["Message-ID"] == row.message_id
    assert "LO-2026-000123" in str(message["Subject"])
    assert "受理编号：LO-2026-000123" in text_of(message)
    assert fresh(db, row.id).status == OutboxStatus.SENT


def test_file_transport_leaves_no_partial_file_when_it_cannot_write(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    transport = FileTransport(blocked)

    with pytest.raises(DeliveryError) as caught:
        transport.send(OutgoingMail(7, "a@example.com", ("b@example.com",), b"x"))
    assert caught.value.scope == "connection"
    assert list(tmp_path.iterdir()) == [blocked]


# -- the retry policy as a value -----------------------------------------------------


def test_retry_policy_classifies_by_code_and_scope() -> None:
    now = START
    decide = NO_JITTER.decide

    assert decide(1, DeliveryError("no such user", code=550), now, now).permanent
    assert decide(1, DeliveryError("no such user", code=550), now, now).retry_at is None
    assert decide(1, DeliveryError("greylisted", code=450), now, now).retry_at == now + timedelta(
        minutes=1
    )
    assert decide(1, DeliveryError("refused", scope="connection"), now, now).retry_at is not None
    login = DeliveryError("bad credentials", code=535, scope="connection")
    assert decide(1, login, now, now).retry_at is not None


def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens() -> None:
    assert [NO_JITTER.backoff(n).total_seconds() for n in (1, 2, 3, 7, 8, 500)] == [
        60,
        120,
        240,
        3600,
        3600,
        3600,
    ]
    jittery = RetryPolicy(base_seconds=100, max_seconds=1000, jitter=0.5, rng=lambda: 1.0)
    assert jittery.backoff(1) == timedelta(seconds=50)
    assert RetryPolicy(base_seconds=100, jitter=0.5, rng=lambda: 0.0).backoff(1) == timedelta(
        seconds=100
    )
