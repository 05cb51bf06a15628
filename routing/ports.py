"""What routing needs from the outside: a way to queue mail (the notifications package).

Routing decides who is told what; the composition root supplies a ``Mailer`` that renders
and queues it in the caller's transaction and returns the Message-ID (None when it could
not be queued, e.g. no usable address).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

Audience = Literal["complainant", "staff", "authority"]

# Every notice routing sends; the adapter has one template (or one queue_* function) each.
KINDS = (
    "material_request", "routed", "referred", "extension", "outcome", "survey",
    "assignment", "reminder", "escalation", "digest", "referral_letter",
    "referral_follow_up", "command_refused", "command_done",
)


@dataclass(frozen=True)
class Notice:
    kind: str
    audience: Audience
    case_id: int | None
    reference: str
    recipient: str
    recipient_name: str | None
    language: str
    dedup_key: str
    facts: dict[str, Any] = field(default_factory=dict)
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()


class Mailer(Protocol):
    def __call__(self, session: Session, notice: Notice, now: datetime) -> str | None:
        """Queue ``notice``; return its Message-ID or None when it cannot be mailed."""
        ...
