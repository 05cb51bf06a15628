"""A bounce of our own mail: the case whose mail did not arrive is flagged for a phone call.

Intake reads the Message-IDs a delivery status notification reports on (and our loop
header when the Message-ID was lost); this matches them against our stored outbound mail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Case, Message
from casework.services import ACTOR_INTAKE
from casework.transitions import record


def record_bounce(session: Session, message_ids: tuple[str, ...], reason: str,
                  at: datetime) -> Case | None:
    """Flag the case whose outbound mail bounced for a phone follow-up; None if not ours."""
    if not message_ids:
        return None
    case = session.scalar(select(Case).join(Message).where(
        Message.direction == "out", Message.message_id.in_(message_ids)).limit(1))
    if case is None:
        return None
    case.phone_follow_up = True
    case.needs_attention = True
    record(case, "outbound_bounced", actor=ACTOR_INTAKE, at=at,
           details={"message_ids": list(message_ids), "why": reason,
                    "action": "phone follow-up: the complainant did not get our mail"})
    return case
