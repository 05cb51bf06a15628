"""What staff do with the outbox by hand: look at it, and send a failed mail again."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Case
from casework.transitions import record
from notifications.models import OutboxMail, OutboxStatus

logger = logging.getLogger("complaintd.outbox")


class AlreadySent(ValueError):
    """A mail that was delivered is never sent again by hand either."""

    def __init__(self, outbox_id: int, sent_at: datetime | None) -> None:
        super().__init__(f"outbox mail {outbox_id} was sent at {sent_at}")
        self.outbox_id = outbox_id
        self.sent_at = sent_at


class OutboxEntry(NamedTuple):
    """An outbox row and the reference of its case (None for mail about no case)."""

    mail: OutboxMail
    reference: str | None


def list_mail(session: Session, *, failed_only: bool = False, limit: int | None = 100,
              offset: int = 0) -> list[OutboxEntry]:  # fmt: skip
    """Outbox rows, newest first, a page at a time; only those that failed if asked.

    (The outbox's own listing: casework's queries cannot see notifications' tables.)
    """
    query = (
        select(OutboxMail, Case.reference)
        .outerjoin(Case, Case.id == OutboxMail.case_id)
        .order_by(OutboxMail.id.desc())
        .offset(offset)
        .limit(limit)
    )
    if failed_only:
        query = query.where(OutboxMail.status == OutboxStatus.FAILED)
    return [OutboxEntry(row, reference) for row, reference in session.execute(query)]


def retry_mail(session: Session, outbox_id: int, *, now: datetime, actor: str) -> OutboxMail:
    """Make a failed (or waiting) mail due now; its age for giving up starts again.

    The same stored bytes are sent (same Message-ID): a retry is not a new promise.
    Raises ``LookupError`` for an unknown id and ``AlreadySent`` for a delivered mail.
    """
    row = session.get(OutboxMail, outbox_id, with_for_update=True)
    if row is None:
        raise LookupError(f"no outbox mail {outbox_id}")
    if row.status == OutboxStatus.SENT:
        raise AlreadySent(outbox_id, row.sent_at)
    previous = row.status
    row.status = OutboxStatus.PENDING
    row.next_attempt_at = now
    row.retry_since = now
    if row.case_id is not None:
        case = session.get_one(Case, row.case_id)
        record(case, "mail_retry_requested", actor=actor, at=now, details={
            "outbox_id": row.id, "mail_kind": row.kind, "was": str(previous),
            "last_error": row.last_error})  # fmt: skip
    logger.info("outbox: mail %d (%s) queued again by hand", row.id, row.kind)
    return row
