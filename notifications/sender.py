"""Draining the outbox: claim due rows, hand each over once, record what happened.

A batch is claimed in one short transaction that counts the attempt and pushes
``next_attempt_at`` out by a lease, so another sender (PostgreSQL, ``SKIP LOCKED``) or a
later run skips those rows until the lease ends. Each row is then settled in its own
transaction right after its delivery: a crash can only repeat the one mail that was
accepted by the server but not yet marked, never a mail already marked ``sent``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casework.clock import Clock
from casework.models import Case, Party, TimelineEvent
from casework.transitions import record
from notifications.models import OutboxMail, OutboxStatus
from notifications.outbox import InvalidRecipient, mailbox
from notifications.ratelimit import UNLIMITED, RateLimit
from notifications.retry import DeliveryError, RetryDecision, RetryPolicy
from notifications.transports import FileTransport, OutgoingMail, SmtpTransport, Transport

# The composition root builds a sender from this one module.
__all__ = [
    "DeliveryError",
    "FileTransport",
    "OutboxSender",
    "RateLimit",
    "RetryDecision",
    "RetryPolicy",
    "SendReport",
    "SmtpTransport",
    "Transport",
]

logger = logging.getLogger("complaintd.outbox")

ACTOR = "complaintd.outbox"
_LAST_ERROR_LIMIT = 2000


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Claim:
    """What a sender needs of a claimed row, read while it was claimed."""

    mail: OutgoingMail
    attempts: int
    created_at: datetime


class OutboxSender:
    """Sends due outbox rows through ``transport``; call ``run_once`` from the scheduler.

    ``lease`` must outlast a whole batch (``batch_size`` times the transport's timeout),
    or a second sender could take rows this one is still working on; a ``rate`` limit
    stretches the lease to cover the spacing it adds.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        transport: Transport,
        clock: Clock,
        policy: RetryPolicy,
        batch_size: int = 50,
        lease: timedelta = timedelta(minutes=30),
        rate: RateLimit = UNLIMITED,
    ) -> None:
        self._session_factory = session_factory
        self._transport = transport
        self._clock = clock
        self._policy = policy
        self._batch_size = batch_size
        self._rate = rate
        self._lease = lease + timedelta(seconds=rate.interval * batch_size)

    def run_once(self) -> SendReport:
        """Send one batch of due mail and say how it went."""
        claims = self._claim_batch()
        if not claims:
            return SendReport()
        tally = _Tally()
        self._deliver(claims, tally)
        logger.info(
            "outbox: %d sent, %d to retry, %d failed", tally.sent, tally.retried, tally.failed
        )
        return SendReport(sent=tally.sent, retried=tally.retried, failed=tally.failed)

    def drain(
        self, max_batches: int | None = None, budget_seconds: float | None = None
    ) -> SendReport:
        """Send batches until nothing is due; the sum of their reports.

        Stops early after ``max_batches``, or before starting a batch once
        ``budget_seconds`` have passed (so a scheduled run, and a shutdown, never wait long
        for a backlog: the next run goes on with it).
        """
        total = SendReport()
        batches = 0
        started = time.monotonic()
        while max_batches is None or batches < max_batches:
            if budget_seconds is not None and time.monotonic() - started >= budget_seconds:
                break
            report = self.run_once()
            if report == SendReport():
                break
            total = SendReport(sent=total.sent + report.sent,
                               retried=total.retried + report.retried,
                               failed=total.failed + report.failed)  # fmt: skip
            batches += 1
        return total

    def _claim_batch(self) -> list[_Claim]:
        now = self._clock.now()
        due = (
            select(OutboxMail)
            .where(OutboxMail.status == OutboxStatus.PENDING, OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.id)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)
        )
        with self._session_factory() as session, session.begin():
            rows = session.scalars(due).all()
            for row in rows:
                row.attempts += 1
                row.last_attempt_at = now
                row.next_attempt_at = now + self._lease
            return [_claim_of(row) for row in rows]

    def _deliver(self, claims: Sequence[_Claim], tally: _Tally) -> None:
        is_open = False
        try:
            for index, claim in enumerate(claims):
                if not is_open:
                    refused = self._open()
                    if refused is not None:
                        # No connection: the rest of the batch has the same fault.
                        for rest in claims[index:]:
                            self._settle_failure(rest, refused, tally)
                        return
                    is_open = True
                if not self._send(claim, tally):
                    # Start the next mail on a fresh connection: after a 421 or a hang-up
                    # the old one is gone, and after a refusal a reconnect costs little.
                    self._transport.close()
                    is_open = False
        finally:
            if is_open:
                self._transport.close()

    def _open(self) -> DeliveryError | None:
        try:
            self._transport.open()
        except Exception as exc:
            return _as_delivery_error(exc, scope="connection")
        return None

    def _send(self, claim: _Claim, tally: _Tally) -> bool:
        self._rate.wait()
        try:
            self._transport.send(claim.mail)
        except Exception as exc:
            self._settle_failure(claim, _as_delivery_error(exc, scope="message"), tally)
            return False
        self._settle_sent(claim, tally)
        return True

    def _settle_sent(self, claim: _Claim, tally: _Tally) -> None:
        # One UPDATE ... RETURNING and one insert: this runs once per mail, and its commit
        # is what stands between a delivered mail and a repeated one.
        now = self._clock.now()
        mark = (
            update(OutboxMail)
            .where(OutboxMail.id == claim.mail.outbox_id)
            .values(status=OutboxStatus.SENT, sent_at=now, last_error="")
            .returning(OutboxMail.case_id, OutboxMail.kind, OutboxMail.recipient,
                       OutboxMail.message_id, OutboxMail.attempts)
        )  # fmt: skip
        with self._session_factory() as session, session.begin():
            sent = session.execute(mark).one()
            if sent.case_id is not None:
                details = {"outbox_id": claim.mail.outbox_id, "mail_kind": sent.kind,
                           "recipient": sent.recipient, "message_id": sent.message_id,
                           "attempts": sent.attempts}  # fmt: skip
                session.add(TimelineEvent(case_id=sent.case_id, at=now, actor=ACTOR,
                                          kind="mail_sent", details=details))  # fmt: skip
        logger.info("outbox: mail %d (%s) sent", claim.mail.outbox_id, sent.kind)
        tally.sent += 1

    def _settle_failure(self, claim: _Claim, error: DeliveryError, tally: _Tally) -> None:
        now = self._clock.now()
        decision = self._policy.decide(claim.attempts, error, claim.created_at, now)
        with self._session_factory() as session, session.begin():
            row = session.get_one(OutboxMail, claim.mail.outbox_id)
            if row.status != OutboxStatus.PENDING or row.attempts != claim.attempts:
                return  # another sender took it over after our lease ran out
            row.last_error = str(error)[:_LAST_ERROR_LIMIT]
            if decision.retry_at is not None:
                row.next_attempt_at = decision.retry_at
            else:
                row.status = OutboxStatus.FAILED
                details = {**_failure_details(row, decision), **_flag_case(session, row)}
                _record_on_case(session, row, "mail_failed", now, details)
            _log_failure(row, error, decision)
        if decision.retry_at is not None:
            tally.retried += 1
        else:
            tally.failed += 1


@dataclass
class _Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def _claim_of(row: OutboxMail) -> _Claim:
    mail = OutgoingMail(
        outbox_id=row.id, envelope_from=row.sender, recipients=(row.recipient,), raw=row.raw
    )
    return _Claim(mail=mail, attempts=row.attempts, created_at=row.retry_since or row.created_at)


def _as_delivery_error(exc: Exception, *, scope: str) -> DeliveryError:
    if isinstance(exc, DeliveryError):
        return exc
    # A bug or an unforeseen library error: retried like a lost connection, so the age
    # limit still ends it, and logged without its text (it may quote an address).
    logger.error("outbox: unexpected %s during %s", type(exc).__name__, scope)
    logger.debug("outbox: unexpected error", exc_info=exc)
    return DeliveryError(f"unexpected {type(exc).__name__}: {exc}", scope="connection")


def _record_on_case(
    session: Session, row: OutboxMail, kind: str, now: datetime, extra: dict[str, Any]
) -> None:
    if row.case_id is None:
        return
    case = session.get_one(Case, row.case_id)
    details = {
        "outbox_id": row.id,
        "mail_kind": row.kind,
        "recipient": row.recipient,
        "message_id": row.message_id,
        **extra,
    }
    record(case, kind, actor=ACTOR, at=now, details=details)


def _flag_case(session: Session, row: OutboxMail) -> dict[str, Any]:
    """A mail that will never arrive flags its case for staff, and for a call when it was
    the complainant's and there is a phone number (the promise is kept another way)."""
    if row.case_id is None:
        return {}
    case = session.get_one(Case, row.case_id)
    case.needs_attention = True
    party = session.get(Party, case.complainant_id) if case.complainant_id else None
    call = bool(party and party.phone and _same_address(party.email, row.recipient))
    if call:
        case.phone_follow_up = True
    return {"phone_follow_up": call}


def _same_address(given: str | None, queued: str) -> bool:
    # The row holds the address as queued (an IDN domain in ASCII); compare like for like.
    try:
        return bool(given) and mailbox(given or "", None).addr_spec.lower() == queued.lower()
    except InvalidRecipient:
        return False


def _failure_details(row: OutboxMail, decision: RetryDecision) -> dict[str, Any]:
    return {
        "attempts": row.attempts,
        "permanent": decision.permanent,
        "reason": decision.reason,
        "error": row.last_error,
    }


def _log_failure(row: OutboxMail, error: DeliveryError, decision: RetryDecision) -> None:
    # The server's text often quotes the address: only the code goes above DEBUG.
    code = error.code if error.code is not None else error.scope
    if decision.retry_at is None:
        logger.warning(
            "outbox: mail %d (%s) failed for good after %d attempts (%s)",
            row.id,
            row.kind,
            row.attempts,
            code,
        )
    else:
        logger.info("outbox: mail %d (%s) will be retried (%s)", row.id, row.kind, code)
    logger.debug("outbox: mail %d to %s: %s", row.id, row.recipient, decision.reason)
