"""What happens to every inbound item once intake has understood it.

Casework opens the case (or adds a follow-up), notifications queue the acknowledgement,
routing queues the case; all in the caller's transaction, so either everything about the
new case is committed or nothing is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from casework.clock import Clock
from casework.inbound import Inbound, Receipt
from casework.models import Case, Message
from casework.services import ACTOR_INTAKE, CasePolicy, WorkingDays, receive
from casework.states import transition
from casework.status import CaseStatus
from casework.tasks import plan_calls
from complaintd.intake_effects import after_receive, prefetch_acknowledged
from routing.inbound import CaseRouter
from routing.triage import route_to_triage


class Acknowledger(Protocol):
    def __call__(self, session: Session, case: Case, inbound: Inbound, now: datetime) -> str | None:
        """Queue the acknowledgement; return its Message-ID, or None when it cannot be mailed."""
        ...


class Pipeline:
    def __init__(self, *, calendar: WorkingDays, policy: CasePolicy,
                 acknowledge: Acknowledger, clock: Clock, router: CaseRouter | None = None,
                 ) -> None:
        self.router = router
        self.calendar = calendar
        self.policy = policy
        self.acknowledge = acknowledge
        self.clock = clock

    def __call__(self, session: Session, inbound: Inbound) -> Receipt:
        if self.router is not None:
            # Staff replies (commands) and authorities' answers are not complaints.
            handled = self.router.staff_mail(session, inbound, self.clock.now())
            if handled is not None:
                return handled
        case, receipt = receive(session, inbound, calendar=self.calendar, policy=self.policy)
        after_receive(session, case, inbound, receipt.outcome, self.clock.now())
        if receipt.outcome == "case":
            now = self.clock.now()
            if self.router is None:
                self._acknowledge(session, case, inbound, now)
                route_to_triage(session, case, at=now, why="no routing rules configured: triage")
                return receipt
            # Category and deadlines first, so the acknowledgement states the right limit.
            decision = self.router.prepare(case, inbound)
            days = self.router.ack_working_days(decision)
            if days is not None:
                inbound.extra["resolve_working_days"] = str(days)
            self._acknowledge(session, case, inbound, now)
            if case.id is None:
                # Routing's rows (assignments, staff threads, notices) point at the case by
                # id, which a batch session would otherwise give it only at the end.
                session.flush()
            self.router.route(session, case, decision, now)
        elif receipt.outcome == "follow_up" and self.router is not None:
            self.router.follow_up(session, case, inbound, self.clock.now())
        return receipt

    def prepare_batch(self, session: Session, inbounds: Sequence[Inbound]) -> None:
        """Look up in one query what each item of a batch would otherwise query alone."""
        prefetch_acknowledged(session, [i.sender_email or "" for i in inbounds],
                              self.clock.now())

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
            reason = (inbound.extra.get("ack_withheld")
                      or "no address to mail the acknowledgement to")
        transition(case, CaseStatus.ACKNOWLEDGED, actor=ACTOR_INTAKE, at=now, reason=reason)
        # Hotline callers: a call task when no mail went out, or when they asked for a callback.
        plan_calls(session, case, inbound, mailed=message_id is not None, now=now)
