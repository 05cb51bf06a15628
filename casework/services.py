"""Casework services: turn an ``Inbound`` into a new case or a follow-up on one.

They take an open ``Session`` (the unit of work) and never commit: the caller commits
the case together with the ledger row and the outbox row, or none of them.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from casework import tokens
from casework.clock import SHANGHAI
from casework.db import flush_for_ids, give_id
from casework.inbound import Inbound, Receipt
from casework.models import Attachment, Case, Message, Party, StaffThread
from casework.queries import overdue_filter as overdue_filter  # re-export: moved to queries
from casework.references import find_references, next_reference
from casework.status import CaseStatus
from casework.transitions import record

ACTOR_INTAKE = "system:intake"
T = TypeVar("T")


class WorkingDays(Protocol):
    def add_working_days(self, start: date, n: int) -> date: ...


@dataclass(frozen=True)
class CasePolicy:
    """Policy values that shape a new case (clause 四(三): the committed time limits)."""

    reference_prefix: str = "LO"
    acknowledge_working_days: int = 1
    resolve_working_days: int = 15
    retention_years: int = 3


def receive(
    session: Session, inbound: Inbound, *, calendar: WorkingDays, policy: CasePolicy
) -> tuple[Case, Receipt]:
    """Add ``inbound`` to the case it answers, or open a new case for it."""
    existing = find_thread(session, inbound, policy.reference_prefix)
    if existing is not None and _is_party(existing, inbound):
        add_follow_up(session, existing, inbound)
        return existing, Receipt(existing.id, existing.reference, "follow_up", existing)
    case = open_case(session, inbound, calendar=calendar, policy=policy)
    if existing is not None:
        # A stranger quoting someone else's reference must not see or join that case.
        record(case, "linked_for_review", actor=ACTOR_INTAKE, at=inbound.received_at,
               details={"reference": existing.reference,
                        "why": "sender is not a party to the referenced case"})
    return case, Receipt(case.id, case.reference, "case", case)


def find_thread(session: Session, inbound: Inbound, prefix: str) -> Case | None:
    """The case an inbound item belongs to: by reference number, then by Message-ID, then
    by the reply token of a mail of ours (a complainant answering a material request in a
    new mail to its Reply-To). Which case is only where to look: whether the sender may
    join it is ``_is_party``'s question.

    Cases and messages this session has not flushed yet (a batch flushes once, at its
    end) are looked for among its new objects, so the lookup never forces a flush.
    """
    return _by_reference_or_id(session, inbound, prefix) or _by_token(session, inbound)


def _by_token(session: Session, inbound: Inbound) -> Case | None:
    for token in tokens.find_tokens([inbound.subject, *inbound.addressed_to]):
        with session.no_autoflush:
            thread = session.scalar(select(StaffThread).where(
                StaffThread.nonce == tokens.nonce_of(token)))
        if thread is not None:
            return session.get(Case, thread.case_id)
    return None


def _by_reference_or_id(session: Session, inbound: Inbound, prefix: str) -> Case | None:
    refs = find_references(inbound.subject, prefix)
    if inbound.reference_hint:
        refs = [*find_references(inbound.reference_hint, prefix), *refs]
    ids = [i for i in (inbound.in_reply_to, *inbound.references) if i]
    if not refs and not ids:
        return None
    with session.no_autoflush:
        for ref in refs:
            case = session.scalar(select(Case).where(Case.reference == ref)) or next(
                (c for c in _unflushed(session, Case) if c.reference == ref), None)
            if case is not None:
                return case
        if not ids:
            return None
        stored = session.scalar(select(Case).join(Message).where(Message.message_id.in_(ids))
                                .order_by(Case.id).limit(1))
    unflushed = [m.case for m in _unflushed(session, Message)
                 if m.message_id in ids and m.case is not None]
    return min([c for c in (stored, *unflushed) if c is not None],
               key=lambda c: (c.id is None, c.id or 0), default=None)


def _unflushed(session: Session, kind: type[T]) -> list[T]:
    return [obj for obj in session.new if isinstance(obj, kind)]


def is_party(case: Case, inbound: Inbound) -> bool:
    """True when ``inbound`` comes from the case's complainant (a verified sender whose
    address or phone is the party's): who may join a case, or learn its progress."""
    return _is_party(case, inbound)


def _is_party(case: Case, inbound: Inbound) -> bool:
    session = object_session(case)
    # The complainant of a stored case is stored too: loading it needs no flush first
    # (a flush here would cost a batch one per reply).
    with session.no_autoflush if session is not None else nullcontext():
        party = case.complainant
    if party is None or inbound.sender_unverified:
        return False
    same_email = bool(inbound.sender_email) and (party.email or "").lower() == (
        inbound.sender_email or ""
    ).lower()
    same_phone = bool(inbound.sender_phone) and party.phone == inbound.sender_phone
    return same_email or same_phone


def open_case(
    session: Session, inbound: Inbound, *, calendar: WorkingDays, policy: CasePolicy
) -> Case:
    received = inbound.received_at
    day = received.astimezone(SHANGHAI).date()
    party = _new_party(inbound, policy)
    case = Case(
        reference=next_reference(session, policy.reference_prefix, day.year),
        status=CaseStatus.RECEIVED,
        channel=inbound.channel,
        subject=inbound.subject[:998],
        summary=inbound.text,
        language=inbound.language,
        category=inbound.category_hint,
        received_at=received,
        acknowledge_due=calendar.add_working_days(day, policy.acknowledge_working_days),
        resolve_due=calendar.add_working_days(day, policy.resolve_working_days),
        complainant=party,
        created_at=received,
        updated_at=received,
    )
    session.add(case)
    case.messages.append(_message(inbound))
    record(case, "received", actor=ACTOR_INTAKE, at=received,
           details={"channel": inbound.channel, "origin": inbound.origin})
    flush_for_ids(session)
    # A batch writes the case at its end; with its id now, the rows routing points at it
    # (assignments, staff threads, notices) need no flush of their own.
    give_id(session, case)
    return case


def add_follow_up(session: Session, case: Case, inbound: Inbound) -> Message:
    message = _message(inbound)
    case.messages.append(message)
    case.updated_at = inbound.received_at
    record(case, "follow_up_received", actor=ACTOR_INTAKE, at=inbound.received_at,
           details={"channel": inbound.channel, "origin": inbound.origin})
    session.flush()
    return message


def _new_party(inbound: Inbound, policy: CasePolicy) -> Party:
    received = inbound.received_at
    retention = _years_later(received.astimezone(SHANGHAI).date(), policy.retention_years)
    return Party(
        name=inbound.sender_name or None,
        email=inbound.sender_email or None,
        phone=inbound.sender_phone or None,
        anonymous=inbound.anonymous,
        language=inbound.language,
        retention_until=retention,
        created_at=received,
    )


def _message(inbound: Inbound) -> Message:
    attachments = [Attachment(filename=a.filename, content_type=a.content_type[:255],
                              size=a.size, sha256=a.sha256, refused=a.refused)
                   for a in inbound.attachments]
    return Message(
        attachments=attachments,
        direction="in",
        channel=inbound.channel,
        message_id=inbound.message_id,
        in_reply_to=inbound.in_reply_to,
        references=" ".join(inbound.references) or None,
        sender=inbound.sender_email or inbound.sender_phone,
        subject=inbound.subject[:998],
        body_text=inbound.text,
        raw_sha256=inbound.raw_sha256,
        raw_size=inbound.raw_size,
        received_at=inbound.received_at,
        body_html=inbound.extra.get("html"),
        authentication=inbound.extra.get("authentication"),
        classification=(inbound.extra.get("classification") or "")[:500] or None,
    )


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
