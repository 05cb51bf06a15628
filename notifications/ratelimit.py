"""A sender-side rate limit: at most N messages a minute, evenly spaced.

Relays (and the organisation's mail provider) throttle or block a sender that bursts;
spacing the mails evenly keeps a large batch (a digest day, a backlog after an outage)
under the provider's limit. The limit is per sender process.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimit:
    """``wait()`` before each send; it sleeps just long enough to keep ``per_minute``.

    ``per_minute`` of 0 (or less) means no limit. The clock and the sleep are ports so a
    test can check the spacing without waiting.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        if self.interval <= 0:
            return
        now = self._monotonic()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


UNLIMITED = RateLimit(0)
