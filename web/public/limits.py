"""The public side's rate limits, counted in the database (so several server processes
share them): a keyed hash of the client's address or of the partner, never the address."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from web.public.models import PublicHit

WINDOW = timedelta(hours=1)
# Hits are only needed for the window; older ones are removed as new ones come.
KEEP = timedelta(days=1)


def who(secret: str, address: str) -> str:
    return hmac.new(secret.encode(), f"public-hit:{address}".encode(),
                    hashlib.sha256).hexdigest()


def over(db: Session, kind: str, whom: str, now: datetime, per_hour: int) -> bool:
    """Whether ``whom`` has used up ``per_hour`` hits of ``kind`` in the last hour."""
    count = db.scalar(select(func.count(PublicHit.id)).where(
        PublicHit.kind == kind, PublicHit.who == whom, PublicHit.at > now - WINDOW))
    return (count or 0) >= per_hour


def hit(db: Session, kind: str, whom: str, now: datetime) -> None:
    db.execute(delete(PublicHit).where(PublicHit.at < now - KEEP))
    db.add(PublicHit(kind=kind, who=whom, at=now))
