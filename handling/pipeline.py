"""What happens to every inbound item once intake has understood it.

One item, in the caller's transaction: a staff or authority reply goes to routing's
commands; anything else is received (a new case, or a follow-up on one), then a new case
gets its category and deadlines, its acknowledgement, its routing and its call tasks, and a
follow-up goes to whoever waits for it. Either everything about the item is committed
with its ledger row, or nothing is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from casework.clock import Clock
from casework.inbound import Inbound, Receipt
from casework.models import Case, Message
from casework.services import ACTOR_INTAKE, CasePolicy, WorkingDays, receive
from casework.status import CaseStatus
from casework.tasks import plan_calls
from casework.transitions import can_transition, record, transition
from handling.acknowledgement import Acknowledgement, Acknowledger, prefetch_acknowledged
from handling.routing_step import CaseRouter
from notifications.notices import Limit
from routing.directory import TimeLimit
from routing.router import resolve_limit
from routing.triage import route_to_triage

HOTLINE_ACKNOWLEDGED = "acknowledged on the call by hotline staff"
TriageNotice = Callable[[Session, Case, datetime], None]
# A progress query (handling.progress.ProgressQueries): its receipt, or None for any other mail.
ProgressQuery = Callable[[Session, Inbound, datetime], Receipt | None]


class Pipeline:
    def __init__(self, *, calendar: WorkingDays, policy: CasePolicy,
                 acknowledge: Acknowledger, clock: Clock, router: CaseRouter | None = None,
                 tell_triage: TriageNotice | None = None,
                 progress: ProgressQuery | None = None) -> None:
        self.router = router
        # 查询 / 进度 / progress with a reference: answered to a party, refused to others.
        self.progress = progress
        # Without routing rules: who is told of a new case in the triage queue.
        self.tell_triage = tell_triage
        self.calendar = calendar
        self.policy = policy
        self.acknowledge = acknowledge
        self.clock = clock

    def __call__(self, session: Session, inbound: Inbound) -> Receipt:
        now = self.clock.now()
        if self.router is not None:
            # Staff replies (commands) and authorities' answers are not complaints.
            handled = self.router.staff_mail(session, inbound, now)
            if handled is not None:
                return handled
        if self.progress is not None:
            answered = self.progress(session, inbound, now)
            if answered is not None:
                return answered
        case, receipt = receive(session, inbound, calendar=self.calendar, policy=self.policy)
        _flag_large_files(case, inbound, now)
        _flag_read_in_part(case, inbound, now)
        if inbound.sender_unverified:
            record(case, "sender_unverified", actor=ACTOR_INTAKE, at=now,
                   details={"why": inbound.sender_unverified})
        if receipt.outcome == "case":
            _consent(case, inbound, now)  # before routing: a referral letter depends on it
            self._new_case(session, case, inbound, now)
        else:
            self._follow_up(session, case, inbound, now)
        return receipt

    def prepare_batch(self, session: Session, inbounds: Sequence[Inbound]) -> None:
        """Look up in one query what each item of a batch would otherwise query alone."""
        prefetch_acknowledged(session, [i.sender_email or "" for i in inbounds],
                              self.clock.now())

    def _new_case(self, session: Session, case: Case, inbound: Inbound, now: datetime) -> None:
        if self.router is None:
            self._acknowledged(session, case, inbound, now, limit=None)
            route_to_triage(session, case, at=now, why="no routing rules configured: triage")
            if self.tell_triage is not None:
                self.tell_triage(session, case, now)
            return
        # Category and deadlines first, so the acknowledgement states the right limit.
        decision = self.router.prepare(case, inbound)
        # Material missing: no date is promised (clause 四(四)); it is told when complete.
        self._acknowledged(session, case, inbound, now,
                           limit=_limit(resolve_limit(self.router.desk, decision)),
                           awaiting_material=bool(decision.category and decision.missing))
        self.router.route(session, case, decision, now)

    def _acknowledged(self, session: Session, case: Case, inbound: Inbound, now: datetime,
                      *, limit: Limit | None, awaiting_material: bool = False) -> None:
        ack = self.acknowledge(session, case, inbound, now, limit=limit,
                               awaiting_material=awaiting_material)
        if ack.message_id is not None:
            # Stored so that the complainant's reply to the acknowledgement threads here.
            case.messages.append(Message(direction="out", channel="email",
                                         message_id=ack.message_id, subject=case.subject,
                                         received_at=now))
        transition(case, CaseStatus.ACKNOWLEDGED, actor=ACTOR_INTAKE, at=now,
                   reason=_why(ack, inbound))
        # Hotline callers: a call task when no mail went out, or when they asked for a callback.
        plan_calls(session, case, inbound, mailed=ack.message_id is not None, now=now)

    def _follow_up(self, session: Session, case: Case, inbound: Inbound, now: datetime) -> None:
        """The complainant wrote again: routing takes what it waits for (material, a survey
        answer); without routing rules a case waiting for material simply moves on."""
        if self.router is not None and self.router.follow_up(session, case, inbound, now):
            return
        if case.status == CaseStatus.AWAITING_MATERIAL and \
                can_transition(case.status, CaseStatus.ROUTED):
            transition(case, CaseStatus.ROUTED, actor=ACTOR_INTAKE, at=now,
                       reason="the complainant replied while the case waited for material",
                       details={"origin": inbound.origin})


def _limit(limit: TimeLimit | None) -> Limit | None:
    return Limit(limit.days, limit.kind) if limit is not None else None


def _consent(case: Case, inbound: Inbound, now: datetime) -> None:
    """Consent to sharing health data (PIPL art. 29) that intake read with the complaint
    (a letter or call typed in by staff says whether it was given, and who recorded it)."""
    given = inbound.extra.get("consent_health_data")
    party = case.complainant
    if given not in ("yes", "no") or party is None:
        return
    party.consent_health_data = given == "yes"
    party.consent_recorded_at = now
    party.consent_recorded_by = inbound.extra.get("consent_recorded_by")
    party.consent_source = inbound.extra.get("consent_source")


def _why(ack: Acknowledgement, inbound: Inbound) -> str:
    if ack.message_id is None and inbound.channel == "hotline":
        return HOTLINE_ACKNOWLEDGED
    return ack.reason


def _flag_large_files(case: Case, inbound: Inbound, now: datetime) -> None:
    """Large files sent as expiring download links (超大附件): staff must fetch them in time."""
    links = inbound.extra.get("large_file_links")
    if links:
        case.needs_attention = True
        record(case, "large_file_links", actor=ACTOR_INTAKE, at=now,
               details={"links": links.splitlines(),
                        "action": "download the files before the links expire"})


def _flag_read_in_part(case: Case, inbound: Inbound, now: datetime) -> None:
    """A mail intake could read only in part (over a cap, a broken part): staff look at the
    raw mail, which is kept whole in the raw store."""
    problems = inbound.extra.get("parse_problems")
    if problems:
        case.needs_attention = True
        record(case, "read_in_part", actor=ACTOR_INTAKE, at=now,
               details={"problems": problems.splitlines()})
