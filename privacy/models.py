"""The register of privacy actions: every export, correction, erasure and retention purge,
with the cases it touched and those it had to keep (legal hold), and who asked for it.

The person concerned is named only by a keyed hash of their address (``subject``), so the
register itself does not keep what an erasure removed, yet a later request about the same
address can be matched to the earlier ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from casework.models import Base


class PrivacyAction(Base):
    __tablename__ = "privacy_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(320))
    # "export", "correct", "erase", "purge", "reseal"
    action: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(64), index=True)
    dry_run: Mapped[bool] = mapped_column(default=False)
    # {"cases": [references], "held": [{"reference", "why"}], "files": n, ...}
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
