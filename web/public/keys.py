"""Partner organisations' API keys: made with ``secrets``, shown once, kept only as their
SHA-256 (a key is 256 random bits: a plain hash cannot be guessed back, and a lookup by
hash needs no per-key salt). Managed by ``complaintd partners``."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.public.models import PartnerKey

PREFIX = "cpk_"
PARTNER = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class PartnerKeyError(ValueError):
    """A partner name or key id that cannot be used (the message says why)."""


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_key(db: Session, partner: str, label: str, now: datetime) -> tuple[PartnerKey, str]:
    """A new key for ``partner``: the row, and the key itself (shown once, never stored)."""
    if not PARTNER.match(partner):
        raise PartnerKeyError(partner)
    key = PREFIX + secrets.token_urlsafe(32)
    row = PartnerKey(partner=partner, label=label[:255], key_sha256=digest(key),
                     prefix=key[:12], created_at=now)
    db.add(row)
    db.flush()
    return row, key


def partner_of(db: Session, key: str, now: datetime) -> PartnerKey | None:
    """The live key row for ``key`` (its last use noted), or None."""
    if not key.startswith(PREFIX) or len(key) > 100:
        return None
    row = db.scalar(select(PartnerKey).where(PartnerKey.key_sha256 == digest(key),
                                             PartnerKey.revoked_at.is_(None)))
    if row is not None:
        row.last_used_at = now
    return row


def revoke(db: Session, key_id: int, now: datetime) -> PartnerKey:
    row = db.get(PartnerKey, key_id)
    if row is None:
        raise PartnerKeyError(str(key_id))
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def listing(db: Session) -> list[PartnerKey]:
    return list(db.scalars(select(PartnerKey).order_by(PartnerKey.partner, PartnerKey.id)))
