"""Removing a case's personal data while keeping what the reports count.

What goes: the complainant's name, address and phone (the party row, once no case needs
it), the subject and summary, every message's text, HTML, subject and sender, attachment
names, the raw mails and files in the store, the outbox's copies of our mails, survey
comments, the numbers and notes of call tasks, extension reasons, and the free text of
timeline events. What stays: the case's reference, channel, category, department, status
and dates, the timeline's kinds, times and actors (staff) with their machine facts
(deadlines, days, departments, levels), the register of violations (clause 七: the
organisation's record, kept as a legal hold) and the access log (an audit of staff).

The timeline is append-only for everyone else (``casework.models``); this is the one
writer allowed to blank its text, through Core updates the ORM guard does not see.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from casework.models import (
    Attachment,
    Case,
    Extension,
    Message,
    Party,
    QuarantineItem,
    SurveyResponse,
    TimelineEvent,
    Violation,
)
from casework.queries import open_violation
from casework.rawstore import RawStore
from casework.status import OPEN_STATUSES
from casework.tasks import CallTask
from casework.transitions import record
from notifications.models import OutboxMail, OutboxStatus

ERASED = "[已清除]"
ERASED_KINDS = ("personal_data_erased", "personal_data_purged")

# Timeline facts that are machine values or staff/organisation names, never a person's
# words: kept. Every other string in an event's details is blanked.
KEEP_DETAIL_KEYS = frozenset({
    "handler", "department", "covers_for", "from", "to", "days", "old_due", "new_due",
    "resolve_due", "answer_due", "authority", "category", "staff", "clause", "tier",
    "level", "label", "channel", "notice", "flags", "health_data", "source", "violation",
    "amount", "reference", "items", "missing", "attachments", "finding", "date", "kind",
    "status", "message", "messages", "head_of", "limit", "unit",
})


def redacted_details(details: dict[str, Any]) -> dict[str, Any]:
    """``details`` with every free text replaced: kept keys as they are, numbers, flags
    and empty values too; any other string, list or mapping becomes ``ERASED``."""
    out: dict[str, Any] = {}
    for key, value in details.items():
        if key in KEEP_DETAIL_KEYS or value is None or isinstance(value, bool | int | float):
            out[key] = value
        else:
            out[key] = ERASED
    return out


def legal_hold(session: Session, case: Case) -> str | None:
    """Why ``case`` must keep its personal data now, or None (the purge and an erasure ask
    the same): an open case must still be answered; a violation not yet carried out
    (sanction not applied, compensation unpaid) still needs the complainant's contact."""
    if case.status in OPEN_STATUSES:
        return "case open"
    if session.scalar(select(exists().where(Violation.case_id == case.id, open_violation()))):
        return "violation not yet carried out"
    return None


def is_redacted(session: Session, case_id: int) -> bool:
    return bool(session.scalar(select(exists().where(
        TimelineEvent.case_id == case_id, TimelineEvent.kind.in_(ERASED_KINDS)))))


def redact_case(session: Session, case: Case, *, now: datetime, actor: str,
                kind: str, why: str) -> set[str]:
    """Blank ``case``'s personal data (see the module); returns the digests of the raw
    store files it referred to, for ``drop_unreferenced`` once the session is flushed.
    ``kind``: ``personal_data_erased`` (a person's request) or ``personal_data_purged``
    (retention)."""
    digests: set[str] = set()
    case.subject = ERASED
    case.summary = ""
    case.complainant_id = None
    for message in case.messages:
        digests.update(_redact_message(message))
    _redact_events(session, [e for e in case.events])
    _redact_side_tables(session, case.id)
    record(case, kind, actor=actor, at=now, details={"why": why})
    return digests


def _redact_message(message: Message) -> set[str]:
    digests = {message.raw_sha256} if message.raw_sha256 else set()
    message.subject = ""
    message.body_text = ""
    message.body_html = None
    message.sender = None
    message.raw_sha256 = None
    for attachment in message.attachments:
        if attachment.sha256:
            digests.add(attachment.sha256)
        attachment.filename = ERASED
        attachment.sha256 = ""
    return digests


def _redact_events(session: Session, events: Iterable[TimelineEvent]) -> None:
    rows = [{"event_id": e.id, "new_details": redacted_details(e.details)}
            for e in events if e.id is not None and e.details]
    if not rows:
        return
    table = cast(Table, TimelineEvent.__table__)
    session.execute(
        update(table).where(table.c.id == bindparam("event_id"))
        .values(details=bindparam("new_details")),
        rows)
    for event in events:
        session.expire(event, ["details"])


def _redact_side_tables(session: Session, case_id: int) -> None:
    session.execute(update(OutboxMail).where(OutboxMail.case_id == case_id)
                    .values(raw=b"", subject=ERASED, recipient=ERASED))
    # A mail still waiting would go out blank: it is given up instead.
    session.execute(update(OutboxMail)
                    .where(OutboxMail.case_id == case_id,
                           OutboxMail.status == OutboxStatus.PENDING)
                    .values(status=OutboxStatus.FAILED, last_error="personal data erased"))
    session.execute(update(SurveyResponse).where(SurveyResponse.case_id == case_id)
                    .values(answer_text=""))
    session.execute(update(CallTask).where(CallTask.case_id == case_id)
                    .values(phone="", outcome=ERASED))
    session.execute(update(Extension).where(Extension.case_id == case_id)
                    .values(reason=ERASED))


def drop_orphan_parties(session: Session, party_ids: Iterable[int]) -> int:
    """Delete the parties among ``party_ids`` that no case points at any more."""
    ids = [i for i in party_ids if i is not None]
    if not ids:
        return 0
    used = select(Case.id).where(Case.complainant_id == Party.id).exists()
    result = session.execute(delete(Party).where(Party.id.in_(ids), ~used)
                             .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def drop_unreferenced(session: Session, store: RawStore, digests: Iterable[str]) -> int:
    """Delete the files of ``digests`` that no message, attachment or open quarantine
    item still names (the same mail can reach two cases); returns how many went."""
    gone = 0
    for digest in sorted(set(digests)):
        still = session.scalar(select(or_(
            exists().where(Message.raw_sha256 == digest),
            exists().where(Attachment.sha256 == digest),
            exists().where(QuarantineItem.raw_sha256 == digest,
                           QuarantineItem.resolved_at.is_(None)))))
        if not still and store.delete(digest):
            gone += 1
    return gone
