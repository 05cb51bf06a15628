"""What routing needs from the outside: a way to queue mail (the notifications package).

Routing decides who is told what; the composition root supplies a ``Mailer`` that renders
and queues it in the caller's transaction and returns the Message-ID (None when it could
not be queued, e.g. no usable address).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

Audience = Literal["complainant", "staff", "authority"]


class NoticeKind(enum.StrEnum):
    """Every notice routing asks for, named exactly as the notification (template) that
    carries it: ``notifications/templates/<kind>/``, ``OutboxMail.kind``."""

    MISSING_MATERIAL = "missing_material"
    CLOCK_STARTED = "clock_started"
    ROUTED_INTERNALLY = "routed_internally"
    REFERRED_TO_AUTHORITY = "referred_to_authority"
    EXTENSION = "extension"
    OUTCOME = "outcome"
    SATISFACTION_SURVEY = "satisfaction_survey"
    ASSIGNMENT = "assignment"
    HANDLER_REMINDER = "handler_reminder"
    SUPERVISOR_ESCALATION = "supervisor_escalation"
    SUPERVISOR_DIGEST = "supervisor_digest"
    AUTHORITY_REFERRAL = "authority_referral"
    AUTHORITY_FOLLOW_UP = "authority_follow_up"
    COMMAND_REFUSAL = "command_refusal"
    COMMAND_DONE = "command_done"
    # The whole life of a case (issue 13).
    CASE_CLOSED = "case_closed"
    INTERIM_REPLY = "interim_reply"
    APPOINTMENT = "appointment"
    COMPLAINANT_WROTE = "complainant_wrote"
    # An authority answered (or a mail names the case from its address): the handler
    # confirms with #转告 before anything reaches the complainant (issue 12).
    AUTHORITY_ANSWERED = "authority_answered"


# The letters an authority answers (a reply threads to one of these).
AUTHORITY_LETTERS = frozenset({NoticeKind.AUTHORITY_REFERRAL, NoticeKind.AUTHORITY_FOLLOW_UP})
# The mails that ask a complainant for an answer: they carry a reply token too, but the
# answer is the complainant's own mail on their case (taken by address, as any follow-up),
# never a command.
COMPLAINANT_ANSWERS = frozenset({NoticeKind.MISSING_MATERIAL})


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
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
    # The reply token of the thread this mail opens (``routing.threads``): it goes into the
    # Reply-To plus-address, the subject tag and the Message-ID. None: no answer is invited.
    reply_token: str | None = None


class Mailer(Protocol):
    def __call__(self, session: Session, notice: Notice, now: datetime) -> str | None:
        """Queue ``notice``; return its Message-ID or None when it cannot be mailed."""
        ...
