"""The outbox: one row per mail, written in the same transaction as the change behind it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models import UP, Base, Case


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMail(Base):
    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Repeating the change that queued a mail hits this key instead of queueing it twice.
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # Lets a batch queue mail for a case that gets its id at the batch's one flush.
    case: Mapped[Case | None] = relationship(cascade=UP)
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(320))
    sender: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(998))
    message_id: Mapped[str] = mapped_column(String(998))
    # The whole RFC 5322 message, rendered when queued: a later template change cannot
    # alter what was promised.
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(
            OutboxStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    # Counted when a sender claims the row, so an attempt that killed the sender counts too.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # While a sender holds the row this is its lease: pending rows are due again only once
    # it has passed, so a sender that dies mid-batch leaves its rows to be retried.
    next_attempt_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # Set by `complaintd outbox retry`: the age limit for giving up counts from here.
    retry_since: Mapped[datetime | None]

    # The second: the backscatter caps count recent mail of a kind (handling.backscatter).
    __table_args__ = (Index("ix_outbox_mail_due", "status", "next_attempt_at"),
                      Index("ix_outbox_mail_kind_created", "kind", "created_at"))
