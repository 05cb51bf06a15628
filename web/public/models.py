"""The public side's own tables: partner organisations' API keys (only their SHA-256
kept) and the hits counted for the public rate limits (a keyed hash of the address, never
the address itself)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from casework.models import Base


class PartnerKey(Base):
    """One API key of a partner organisation (a hospital's social-work department …)."""

    __tablename__ = "partner_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A short name of the partner (letters, digits, -), on the timeline of its cases.
    partner: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(255), default="")
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, so staff can tell keys apart in a listing.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class PublicHit(Base):
    """One counted request of the public side (a complaint form sent, a honeypot caught, an
    API call), by kind and by a keyed hash of who made it, for the rate limits."""

    __tablename__ = "public_hit"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    who: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
