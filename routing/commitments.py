"""The commitment clock (clause 四(三)) as a sweep over open cases, run by the scheduler.

Each run, for every open case: hand over to the deputy or back (clause 四(六)); remind the
handler at the configured working days before the deadline; when the deadline has passed,
record a commitment violation (clause 七(二)) and, the configured days later, escalate to the
supervisor, once per deadline; follow up a referral whose authority is late. Once a day each
supervisor gets a digest of what is at risk. Every step is keyed so that running the sweep
again does nothing.

An authority's delay is not ours: a case whose deadline passes while a referral sent in
time is still unanswered is marked ``overdue_by_authority`` (the authority is followed up)
and no violation is recorded. A referral sent after the deadline, or an answer received
and not passed on before it, is our own lateness and is recorded as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casework.clock import SHANGHAI
from casework.models import Case, Referral, StaffThread, Violation
from casework.queries import excluded_staff
from casework.status import OPEN_STATUSES, CaseStatus
from casework.transitions import record
from routing.assignment import active, hand_over_for_absence, load_kept
from routing.conflicts import supervisor_for
from routing.context import ACTOR_ROUTER, Desk, today_of
from routing.directory import TimeLimit
from routing.investigation import case_limit, notify_assignment
from routing.ports import AUTHORITY_LETTERS, NoticeKind
from routing.router import move_away
from routing.sweep_candidates import candidates, horizon
from routing.triage import TRIAGE
from routing.violations import record_violation

OVERDUE_BY_AUTHORITY = "overdue_by_authority"
log = logging.getLogger("complaintd.routing")
_CHUNK = 500
_STEPS_READ = (selectinload(Case.events), selectinload(Case.assignments),
               selectinload(Case.referrals), selectinload(Case.exclusions))


@dataclass
class SweepReport:
    delegated: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    by_authority: list[str] = field(default_factory=list)
    followed_up: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def sweep(session: Session, desk: Desk, now: datetime) -> SweepReport:
    """Every step on the open cases some step may act on today (``routing.
    sweep_candidates`` chooses them in SQL; the others are not loaded), then the digests."""
    report = SweepReport()
    today = today_of(now)
    with load_kept(session):
        for case in _load(session, candidates(session, desk, today)):
            _sweep_one(session, desk, case, report, today, now)
    report.digests = send_digests(session, desk, today, now)
    session.flush()
    return report


def _sweep_one(session: Session, desk: Desk, case: Case, report: SweepReport, today: date,
               now: datetime) -> None:
    try:
        with session.begin_nested():  # one case that fails must not stop the others
            _sweep_case(session, desk, case, report, today, now)
            _mark_swept(session, desk, case, today)
    except Exception as exc:
        report.failed.append(case.reference)
        log.error("commitments: case %s failed: %s", case.id, type(exc).__name__)
        log.debug("commitments: case %s traceback", case.id, exc_info=True)


def _load(session: Session, ids: list[int]) -> list[Case]:
    """The candidates with what every step reads, a chunk of ids per query."""
    cases: list[Case] = []
    for start in range(0, len(ids), _CHUNK):
        cases += session.scalars(
            select(Case).where(Case.id.in_(ids[start:start + _CHUNK])).order_by(Case.id)
            .options(*_STEPS_READ))
    return cases


def _mark_swept(session: Session, desk: Desk, case: Case, today: date) -> None:
    """Past its deadline with all of that deadline's work done (the missed-deadline event,
    our violation, the escalation) and no authority holding the matter: the candidate
    queries leave the case out until its deadline changes."""
    due = case.resolve_due
    if due is None or due >= today or case.swept_due == due or _waiting_on(case) is not None:
        return
    key = due.isoformat()
    if _done(case, "deadline_missed", due=key) and _done(case, "escalated", due=key) and \
            _violation_recorded(session, desk, case, key):
        case.swept_due = due


def _sweep_case(session: Session, desk: Desk, case: Case, report: SweepReport, today: date,
                now: datetime) -> None:
    banned = excluded_staff(session, case)
    # An excluded handler (an exclusion recorded some other way) loses the case first.
    move_away(session, desk, case, banned, now)
    if hand_over_for_absence(session, desk.config, case, banned, now, today):
        report.delegated.append(case.reference)
        current = active(case)
        if current is not None and current.handler:
            notify_assignment(session, desk, case, current.handler, now)
    if _remind(session, desk, case, today, now):
        report.reminded.append(case.reference)
    if _authority_late(case, today, now):
        report.by_authority.append(case.reference)
    else:
        _record_missed(session, desk, case, today, now)
    if _escalate(session, desk, case, banned, today, now):
        report.escalated.append(case.reference)
    if _follow_up_referral(session, desk, case, today, now):
        report.followed_up.append(case.reference)


def _remind(session: Session, desk: Desk, case: Case, today: date, now: datetime) -> bool:
    current = active(case)
    if case.resolve_due is None or current is None or current.handler is None:
        return False
    left = desk.calendar.working_days_between(today, case.resolve_due)
    # The nearest configured point reached; a sweep that missed a day still reminds once.
    reached = [p for p in desk.config.clock.remind_days_before if left <= p]
    if left < 0 or not reached:
        return False
    point = min(reached)
    if _done(case, "reminder_sent", due=case.resolve_due.isoformat(), point=point):
        return False
    desk.tell_staff(session, case, current.handler, NoticeKind.HANDLER_REMINDER, now,
                    {"resolve_due": case.resolve_due, "days_left": left,
                     "limit": case_limit(desk, case)},
                    key=f":{case.resolve_due}:{point}")
    record(case, "reminder_sent", actor=ACTOR_ROUTER, at=now,
           details={"due": case.resolve_due.isoformat(), "point": point, "left": left,
                    "handler": current.handler})
    return True


def _waiting_on(case: Case) -> Referral | None:
    """The unanswered referral that holds the matter, if it was sent by the deadline (a
    referral sent after it does not excuse our own lateness)."""
    for referral in reversed(case.referrals):
        if referral.answered_at is None and referral.sent_at is not None and \
                case.resolve_due is not None and today_of(referral.sent_at) <= case.resolve_due:
            return referral
    return None


def _authority_late(case: Case, today: date, now: datetime) -> bool:
    """Mark, once per deadline, a case past its deadline (or its referral past the answer
    date) while the authority holds the matter: overdue by the authority, not by us."""
    referral = _waiting_on(case)
    if referral is None or case.resolve_due is None:
        return False
    answer_late = referral.answer_due is not None and referral.answer_due < today
    if not (answer_late or case.resolve_due < today):
        return False
    due = case.resolve_due.isoformat()
    if not _done(case, OVERDUE_BY_AUTHORITY, due=due):
        record(case, OVERDUE_BY_AUTHORITY, actor=ACTOR_ROUTER, at=now, details={
            "due": due, "authority": referral.authority,
            "answer_due": referral.answer_due.isoformat() if referral.answer_due else None,
            "why": "the authority has not answered; not a violation of ours (clause 七(二))"})
    return True


def _record_missed(session: Session, desk: Desk, case: Case, today: date,
                   now: datetime) -> bool:
    """Our own missed deadline: one violation of clause 七(二) per deadline, on the first
    day after it, against the current handler."""
    if case.resolve_due is None or case.resolve_due >= today:
        return False
    due = case.resolve_due.isoformat()
    if _violation_recorded(session, desk, case, due):
        return False
    current = active(case)
    handler = current.handler if current else None
    record_violation(session, desk.config, case,
                     category=desk.config.clock.missed_deadline_violation,
                     staff=handler if handler in desk.config.staff else None,
                     source="automatic", now=now,
                     details={"due": due, "days_late": (today - case.resolve_due).days})
    return True


def _violation_recorded(session: Session, desk: Desk, case: Case, due: str) -> bool:
    category = desk.config.clock.missed_deadline_violation
    found = session.scalars(select(Violation).where(Violation.case_id == case.id,
                                                    Violation.category == category))
    return any(v.details.get("due") == due for v in found)


def _escalate(session: Session, desk: Desk, case: Case, banned: set[str], today: date,
              now: datetime) -> bool:
    wait = desk.config.clock.escalate_after_working_days
    late = case.resolve_due is not None and case.resolve_due < today and \
        _waiting_on(case) is None and \
        desk.calendar.working_days_between(case.resolve_due, today) >= wait
    triage_late = case.department == TRIAGE and case.status == CaseStatus.ROUTED and \
        desk.due(today_of(case.received_at), desk.config.clock.triage_route_limit) < today
    if not (late or triage_late):
        return False
    due = case.resolve_due.isoformat() if late and case.resolve_due else "route"
    if _done(case, "escalated", due=due):
        return False
    boss = supervisor_for(desk.config, case.department, banned)
    current = active(case)
    handler = current.handler if current else None
    days_late = (today - case.resolve_due).days if late and case.resolve_due else 0
    reason = ("已超过办结期限 / past the resolution deadline" if late
              else "分诊队列中未按时分派 / not routed from triage in time")
    person = desk.config.staff.get(handler or "")
    desk.tell_staff(session, case, boss, NoticeKind.SUPERVISOR_ESCALATION, now,
                    {"reason": reason, "days_overdue": days_late,
                     "handler": person.name if person else None,
                     "limit": case_limit(desk, case)}, key=f":{due}")
    record(case, "escalated", actor=ACTOR_ROUTER, at=now,
           details={"due": due, "to": boss, "handler": handler})
    return True


def _follow_up_referral(session: Session, desk: Desk, case: Case, today: date,
                        now: datetime) -> bool:
    referral = next((r for r in reversed(case.referrals) if r.answered_at is None), None)
    if referral is None or referral.answer_due is None or referral.answer_due >= today:
        return False
    auth = desk.config.authorities.get(referral.authority)
    if auth is None:
        return False
    sent = session.scalars(select(StaffThread).where(
        StaffThread.case_id == case.id, StaffThread.kind.in_(AUTHORITY_LETTERS))
        .order_by(StaffThread.id)).all()
    follow_ups = [s for s in sent if s.kind == NoticeKind.AUTHORITY_FOLLOW_UP]
    if follow_ups and (today - today_of(follow_ups[-1].sent_at)).days < auth.follow_up_every_days:
        return False
    letter = sent[0].message_id if sent else None
    desk.tell_authority(session, case, referral.authority, NoticeKind.AUTHORITY_FOLLOW_UP, now,
                        {"answer_due": referral.answer_due, "sent_on": today_of(
                            referral.sent_at or now), "number": len(follow_ups) + 1,
                         "answer_limit": _answer_limit(desk, referral), "overdue": True},
                        key=f":{len(follow_ups) + 1}", in_reply_to=letter)
    record(case, "referral_followed_up", actor=ACTOR_ROUTER, at=now,
           details={"authority": referral.authority, "number": len(follow_ups) + 1})
    return True


def _answer_limit(desk: Desk, referral: Referral) -> TimeLimit | None:
    auth = desk.config.authorities.get(referral.authority)
    return TimeLimit(days=auth.expected_response_days) if auth else None


def _done(case: Case, kind: str, **match: object) -> bool:
    return any(e.kind == kind and all(e.details.get(k) == v for k, v in match.items())
               for e in case.events)


def at_risk(session: Session, desk: Desk, today: date) -> list[Case]:
    """Open cases overdue or due within a few working days (the digest and the CLI)."""
    last = horizon(desk.calendar, today, desk.config.clock.due_soon_working_days)
    cases = session.scalars(select(Case).where(Case.status.in_(list(OPEN_STATUSES)),
                                               Case.resolve_due <= last)
                            .order_by(Case.resolve_due, Case.id)
                            .options(selectinload(Case.assignments),
                                     selectinload(Case.exclusions)))
    return [c for c in cases if c.resolve_due is not None and
            desk.calendar.working_days_between(today, c.resolve_due)
            <= desk.config.clock.due_soon_working_days]


def send_digests(session: Session, desk: Desk, today: date, now: datetime) -> list[str]:
    """Each supervisor's daily digest of the cases at risk they may see (never one naming
    them). Keyed by day in the outbox, so later sweeps of the same day queue nothing new."""
    if now.astimezone(SHANGHAI).hour < desk.config.clock.digest_hour:
        return []
    risky = at_risk(session, desk, today)
    sent = []
    for boss in desk.config.supervisors():
        rows = [_digest_row(desk, c, today) for c in risky if _sees(session, desk, c, boss)]
        if rows and desk.tell_staff(session, None, boss, NoticeKind.SUPERVISOR_DIGEST, now,
                                    {"day": today, "cases": rows}, key=f":{today}"):
            sent.append(boss)
    return sent


def _sees(session: Session, desk: Desk, case: Case, boss: str) -> bool:
    banned = excluded_staff(session, case)
    return boss not in banned and supervisor_for(desk.config, case.department, banned) == boss


def _digest_row(desk: Desk, case: Case, today: date) -> dict[str, object]:
    current = active(case)
    return {"reference": case.reference, "due": case.resolve_due, "status": str(case.status),
            "kind": case_limit(desk, case).kind,
            "department": case.department, "handler": current.handler if current else None,
            "overdue": bool(case.resolve_due and case.resolve_due < today)}
