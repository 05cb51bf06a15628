"""Time as a port: the core asks a ``Clock`` and never calls ``datetime.now()`` itself."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(SHANGHAI)


class FixedClock:
    """A clock that stands still until told to move; for tests and the demo."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, now: datetime) -> None:
        self._now = now


def local_date(moment: datetime) -> datetime:
    """``moment`` seen in Shanghai time (deadlines are counted in Shanghai days)."""
    return moment.astimezone(SHANGHAI)
