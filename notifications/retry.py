"""What to do after a failed delivery, decided as a value.

A transport turns whatever went wrong into a ``DeliveryError`` (an SMTP code if the server
answered, and whether the connection or the message was at fault); ``RetryPolicy.decide``
turns that into a ``RetryDecision``. Neither knows about SMTP libraries or the database.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

Scope = Literal["connection", "message"]

# 2**32 backoff steps is far beyond any max_seconds; the cap keeps the float finite.
_MAX_EXPONENT = 32


class DeliveryError(Exception):
    """A mail could not be handed over.

    ``scope`` says who is at fault: ``"connection"`` (server down, timeout, hang-up, our
    login refused) is never the mail's fault and is always retried; ``"message"`` is the
    server's answer to this mail (MAIL, RCPT or DATA), classified by its code.
    """

    def __init__(self, detail: str, *, code: int | None = None, scope: Scope = "message") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.scope: Scope = scope

    def __str__(self) -> str:
        return f"{self.code} {self.detail}" if self.code is not None else self.detail


@dataclass(frozen=True)
class RetryDecision:
    """``retry_at`` is None when the mail is given up; ``permanent`` says the server refused it."""

    retry_at: datetime | None
    permanent: bool
    reason: str


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, a cap, and an age after which a mail is given up."""

    base_seconds: float = 60.0
    max_seconds: float = 3600.0
    give_up_after: timedelta = timedelta(days=2)
    # Fraction of the delay taken off at random, so mails that failed together spread out.
    jitter: float = 0.2
    rng: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def decide(
        self, attempts: int, error: DeliveryError, first_queued_at: datetime, now: datetime
    ) -> RetryDecision:
        if self.is_permanent(error):
            return RetryDecision(None, True, f"refused: {error}")
        deadline = first_queued_at + self.give_up_after
        if now >= deadline:
            return RetryDecision(None, False, f"gave up after {attempts} attempts: {error}")
        # The last try lands on the deadline rather than past it.
        retry_at = min(now + self.backoff(attempts), deadline)
        return RetryDecision(retry_at, False, f"will retry: {error}")

    def is_permanent(self, error: DeliveryError) -> bool:
        """5xx to this mail; a 5xx to our login is a configuration fault, not the mail's."""
        return error.scope == "message" and error.code is not None and 500 <= error.code <= 599

    def backoff(self, attempts: int) -> timedelta:
        exponent = min(max(attempts - 1, 0), _MAX_EXPONENT)
        delay = min(self.max_seconds, self.base_seconds * 2**exponent)
        return timedelta(seconds=delay * (1 - self.jitter * self.rng()))
