"""What happens to every inbound item once intake has understood it.

Casework opens the case (or adds a follow-up), notifications queue the acknowledgement,
routing queues the case; all in the caller's transaction, so either everything about the
new case is committed or nothing is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from casework.clock import Clock
from casework.inbound import Inbound, Receipt
from casework.models import Case, Message
from casework.services import ACTOR_INTAKE, CasePolicy, WorkingDays, receive
from casework.states import transition
from casework.status import CaseStatus
from routing.triage import route_to_triage


class Acknowledger(Protocol):
    def __call__(self, session: Session, case: Case, inbound: Inbound, now: datetime) -> str | None:
        """Queue the acknowledgement; return its Message-ID, or None when it cannot be mailed."""
        ...


class Pipeline:
    def __init__(self, *, calendar: WorkingDays, policy: CasePolicy,
                 acknowledge: Acknowledger, clock: Clock) -> None:
        self.calendar = calendar
        self.policy = policy
        self.acknowledge = acknowledge
        self.clock = clock

    def __call__(self, session: Session, inbound: Inbound) -> Receipt:
        case, receipt = receive(session, inbound, calendar=self.calendar, policy=self.policy)
        if receipt.outcome == "case":
            now = self.clock.now()
            self._acknowledge(session, case, inbound, now)
            route_to_triage(session, case, at=now,
                            why="no routing rules configured yet: every case goes to triage")
        return receipt

    def _acknowledge(self, session: Session, case: Case, inbound: Inbound, now: datetime) -> None:
        message_id = self.acknowledge(session, case, inbound, now)
        if message_id is not None:
            # Stored so that the complainant's reply to the acknowledgement threads here.
            case.messages.append(Message(direction="out", channel="email", message_id=message_id,
                                         subject=case.subject, received_at=now))
            reason = "acknowledgement queued"
        elif inbound.channel == "hotline":
            reason = "acknowledged on the call by hotline staff"
        else:
            reason = "no address to mail the acknowledgement to"
        transition(case, CaseStatus.ACKNOWLEDGED, actor=ACTOR_INTAKE, at=now, reason=reason)
