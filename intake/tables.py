"""Intake's own tables: where each mailbox folder stands, and its health.

``mailbox_state`` keeps UIDVALIDITY and the last processed UID per mailbox and folder, so a
poll asks only for what is new (``UID SEARCH UID last+1:*``), and the outcome of the last
poll, so an operator sees a failing mailbox (``complaintd mailboxes status``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.models import Base


class MailboxState(Base):
    __tablename__ = "mailbox_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    folder: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_reconciled_at: Mapped[datetime | None]
    reconcile_missing: Mapped[int] = mapped_column(Integer, default=0)
    reconcile_detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("source", "folder", name="uq_mailbox_state_place"),)


class IntakeAttempt(Base):
    """A try at taking in a mail that has not finished (yet): written and committed before
    the mail is parsed, deleted in the transaction that takes the mail in.

    A row that is still here when the mail comes again means the process died (or was
    killed while hung) taking it; after ``intake.poison_after_attempts`` such tries the
    ledger quarantines the mail with its bytes instead of parsing it once more. Kept apart
    from ``ingested_item``, whose rows mean "taken in".
    """

    __tablename__ = "intake_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    folder: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[str] = mapped_column(String(255))
    raw_sha256: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("source", "folder", "uidvalidity", "uid",
                                       name="uq_intake_attempt_place"),)
