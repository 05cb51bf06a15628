"""What staff do with the outbox by hand: look at it, and send a failed mail again."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Case
from casework.states import record
from notifications.models import OutboxMail, OutboxStatus

logger = logging.getLogger("complaintd.outbox")


class AlreadySent(ValueError):
    """A mail that was delivered is never sent again by hand either."""


def list_mail(
    session: Session, *, failed_only: bool = False, limit: int = 100
) -> list[tuple[OutboxMail, str | None]]:
    """Outbox rows, newest first, each with its case's reference (None for no case)."""
    query = (
        select(OutboxMail, Case.reference)
        .outerjoin(Case, Case.id == OutboxMail.case_id)
        .order_by(OutboxMail.id.desc())
        .limit(limit)
    )
    if failed_only:
        query = query.where(OutboxMail.status == OutboxStatus.FAILED)
    return [(row, reference) for row, reference in session.execute(query)]


def retry_mail(session: Session, outbox_id: int, *, now: datetime, actor: str) -> OutboxMail:
    """Make a failed (or waiting) mail due now; its age for giving up starts again.

    The same stored bytes are sent (same Message-ID): a retry is not a new promise.
    Raises ``LookupError`` for an unknown id and ``AlreadySent`` for a delivered mail.
    """
    row = session.get(OutboxMail, outbox_id, with_for_update=True)
    if row is None:
        raise LookupError(f"no outbox mail {outbox_id}")
    if row.status == OutboxStatus.SENT:
        raise AlreadySent(f"outbox mail {outbox_id} was sent at {row.sent_at}")
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
