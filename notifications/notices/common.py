"""What every notice shares: language choice, the thread, rendering and queueing once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from casework.db import flush_for_ids
from casework.inbound import guess_language
from casework.models import Case, Message
from casework.transitions import record
from notifications.contexts import Context
from notifications.models import OutboxMail
from notifications.outbox import (
    AutoSubmitted,
    InvalidRecipient,
    MailIdentity,
    find_queued,
    queue_mail,
)
from notifications.renderer import LANGUAGES, TemplateRenderer

logger = logging.getLogger("complaintd.outbox")

ACTOR = "complaintd.notifications"


@dataclass(frozen=True)
class Thread:
    """Where a mail sits in a conversation: the mail it answers and the chain before it."""

    in_reply_to: str | None = None
    references: tuple[str, ...] = ()


NO_THREAD = Thread()


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str | None


def complainant_language(case: Case, override: str | None) -> str:
    """The complainant's language: ``override`` (from settings) if given, else the case's.

    A case whose language is unknown is judged by its text (Chinese text → "zh").
    """
    if override and override != "auto":
        return checked_language(override)
    if case.language in LANGUAGES:
        return case.language
    return guess_language(f"{case.subject}{case.summary}")


def checked_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"unknown notice language {language!r}; expected one of {LANGUAGES}")
    return language


def complainant_of(case: Case) -> Recipient | None:
    """The complainant's address and the name to greet (None when anonymous)."""
    party = case.complainant
    if party is None or not party.email:
        return None
    return Recipient(party.email, None if party.anonymous else party.name)


def complainant_thread(case: Case) -> Thread:
    """The case's mail thread: every Message-ID on it; the reply goes to the latest inbound."""
    ids = [m.message_id for m in case.messages if m.message_id]
    inbound = [m.message_id for m in case.messages if m.message_id and m.direction == "in"]
    return Thread(in_reply_to=inbound[-1] if inbound else None, references=tuple(ids))


def thread_after(session: Session, dedup_key: str) -> Thread:
    """A thread that answers the mail queued under ``dedup_key`` (if there is one)."""
    earlier = find_queued(session, dedup_key)
    if earlier is None:
        return NO_THREAD
    return Thread(in_reply_to=earlier.message_id, references=(earlier.message_id,))


@dataclass(frozen=True)
class Delivery:
    """How one notice goes out: who to, in which thread, as which kind of automatic mail."""

    recipient: Recipient
    thread: Thread
    auto_submitted: AutoSubmitted
    identity: MailIdentity
    # Complainant notices join the case's thread so a reply by Message-ID finds the case.
    keep_on_case: bool = False
    # A complainant with a phone number is called when their mail cannot go out.
    to_complainant: bool = False


def queue_notice(
    session: Session,
    *,
    notice: str,
    language: str,
    context: Context,
    dedup_key: str,
    case: Case | None,
    delivery: Delivery,
    renderer: TemplateRenderer,
    now: datetime,
) -> OutboxMail | None:
    """Render ``notice`` now and queue it once under ``dedup_key``.

    Returns the queued row (the earlier one when the key was used before), or None when
    the address is unusable; that is recorded on the case, never silently dropped.
    """
    # A case not yet in the database (a batch flushes it later) has nothing queued yet.
    new_case = case if case is not None and inspect(case).pending else None
    existing = find_queued(session, dedup_key, unflushed_only=new_case is not None)
    if existing is not None:
        return existing
    mail = renderer.render(notice, checked_language(language), context)
    if case is not None and case.id is None:
        flush_for_ids(session)  # the outbox row points at the case
    try:
        row = queue_mail(
            session, dedup_key=dedup_key, case_id=case.id if case is not None else None,
            new_case=new_case,
            kind=notice, recipient=delivery.recipient.address,
            recipient_name=delivery.recipient.name, subject=mail.subject, text=mail.text,
            html=mail.html, identity=delivery.identity, now=now,
            in_reply_to=delivery.thread.in_reply_to, references=delivery.thread.references,
            auto_submitted=delivery.auto_submitted)  # fmt: skip
    except InvalidRecipient as exc:
        if case is not None:
            flag_for_staff(case, phone=delivery.to_complainant)
            not_queued(case, notice, dedup_key, str(exc), now)
        return None
    if case is not None and delivery.keep_on_case:
        case.messages.append(Message(direction="out", channel="email", message_id=row.message_id,
                                     subject=mail.subject, received_at=now))  # fmt: skip
    return row


def not_queued(case: Case, kind: str, dedup_key: str, reason: str, now: datetime, *,
               expected: bool = False) -> None:
    """Record on the case, once per notice, that it could not be mailed and why.

    ``expected``: the notice goes another way staff already have (a call to a caller who
    left no address but a phone number), so the log says it at DEBUG: a call log of
    thousands of such callers would otherwise be thousands of warnings that need nothing.
    """
    if any(e.kind == "mail_not_queued" and e.details.get("key") == dedup_key
           for e in case.events):  # fmt: skip
        return
    # The reason never quotes the address: it is a kind of fault, not the data.
    logger.log(logging.DEBUG if expected else logging.WARNING,
               "outbox: %s for case %s not queued: %s", kind, case.id, reason)
    details = {"kind": kind, "key": dedup_key, "reason": reason}
    record(case, "mail_not_queued", actor=ACTOR, at=now, details=details)


def flag_for_staff(case: Case, *, phone: bool) -> None:
    """Mark ``case`` for staff; ask for a call too when ``phone`` and the complainant has one."""
    case.needs_attention = True
    party = case.complainant
    if phone and party is not None and party.phone:
        case.phone_follow_up = True


def tell_by_phone(case: Case, kind: str, dedup_key: str, now: datetime) -> None:
    """No address for a complainant notice: record it, and ask for a call if there is a phone."""
    party = case.complainant
    phone = party is not None and bool(party.phone)
    if phone:
        case.phone_follow_up = True
    reason = "no email address; tell by phone" if phone else "no email address or phone"
    not_queued(case, kind, dedup_key, reason, now, expected=phone)
