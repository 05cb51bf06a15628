"""Which open cases the deadline sweep must look at today, chosen in SQL on indexed columns.

The sweep's steps (``routing.commitments``) act on few cases a day: those near or past
their deadline, those whose handler is away, back or excluded, late referrals and the
triage queue. Each query below is a superset of the cases one step can act on, so the
steps themselves stay as they were and still decide; a case no query names is not even
loaded. At a million open cases that is the difference between minutes and milliseconds.

A case past its deadline drops out once that deadline's work is done: the sweep sets
``cases.swept_due`` to the deadline it finished (the missed-deadline event, the violation
or the authority's delay, the escalation). A new deadline (an extension) no longer equals
the marker, so the case comes back by itself. A case whose referral is unanswered stays:
the authority is followed up, and its answer can turn the delay into ours.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Exists, Select, String, and_, cast, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from casework.models import Assignment, Case, CaseExclusion, Referral, StaffThread, TimelineEvent
from casework.status import OPEN_STATUSES, CaseStatus
from routing.context import Calendar, Desk, start_of
from routing.ports import NoticeKind
from routing.triage import TRIAGE

# How far back the triage cut-off is looked for: a limit is at most a year long.
_LONGEST_LIMIT_DAYS = 400


def candidates(session: Session, desk: Desk, today: date) -> list[int]:
    """The ids of the open cases some step of the sweep may act on today, in id order."""
    found: set[int] = set()
    for ids in by_kind(session, desk, today).values():
        found |= ids
    return sorted(found)


def by_kind(session: Session, desk: Desk, today: date) -> dict[str, set[int]]:
    """Each kind of candidate and its case ids (the tests and the debug log name them)."""
    kinds: dict[str, Callable[[Desk, date], Select[int] | None]] = {
        "remind": _remind, "overdue": _overdue, "referral": _late_referral,
        "triage": _triage_late, "absence": _absence, "excluded": _excluded}
    found: dict[str, set[int]] = {}
    for kind, query in kinds.items():
        stmt = query(desk, today)
        found[kind] = set(session.scalars(stmt)) if stmt is not None else set()
    return found


def horizon(calendar: Calendar, today: date, working_days: int) -> date:
    """The last day that is at most ``working_days`` working days after today (the
    calendar's ``working_days_between`` grows with the day, so the days up to it are the
    ones within)."""
    return calendar.add_working_days(today, working_days + 1) - timedelta(days=1)


def _open() -> Select[int]:
    return select(Case.id).where(Case.status.in_(list(OPEN_STATUSES)))


def _active() -> list[ColumnElement[bool]]:
    return [Assignment.case_id == Case.id, Assignment.ended_at.is_(None)]


def _open_assignment() -> Select[int]:
    """The open cases through their active assignment (few rows match the conditions
    added to it, so the query starts from the assignment's indexes)."""
    return select(Assignment.case_id).where(Assignment.ended_at.is_(None),
                                            _is_open(Assignment.case_id))


def _remind(desk: Desk, today: date) -> Select[int] | None:
    """Due within a reminder point and not yet reminded at it: the point the step picks
    (the nearest one reached) is the band of days the deadline falls in."""
    points = sorted(set(desk.config.clock.remind_days_before))
    if not points:
        return None
    bands, first = [], today
    for point in points:
        last = horizon(desk.calendar, today, point)
        bands.append(and_(Case.resolve_due >= first, Case.resolve_due <= last,
                          ~_reminded(point)))
        first = last + timedelta(days=1)
    return _open().where(or_(*bands),
                         exists().where(*_active(), Assignment.handler.is_not(None)))


def _reminded(point: int) -> Exists:
    """The ``reminder_sent`` event of this deadline at this point (``commitments._remind``
    writes the deadline as an ISO date, the form both databases cast a date to; a server
    set to another DateStyle only reads more candidates, the step still decides)."""
    return exists().where(TimelineEvent.case_id == Case.id,
                          TimelineEvent.kind == "reminder_sent",
                          TimelineEvent.details["due"].as_string()
                          == cast(Case.resolve_due, String),
                          TimelineEvent.details["point"].as_integer() == point)


def _overdue(desk: Desk, today: date) -> Select[int]:
    # One IS DISTINCT FROM, not an OR of two terms: SQLite's planner gave up the
    # (status, resolve_due) index for a scan of every case on the OR.
    return _open().where(Case.resolve_due < today, unswept())


def unswept() -> ColumnElement[bool]:
    """Not marked done for its current deadline (``cases.swept_due``)."""
    return Case.swept_due.is_distinct_from(Case.resolve_due)


def _is_open(case_id: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """The case ``case_id`` is open, as a correlated lookup by primary key: the query
    then starts from the few rows of the other table (SQLite otherwise walks every
    open case and looks each one up there)."""
    return select(Case.id).where(Case.id == case_id, Case.status.in_(list(OPEN_STATUSES))) \
        .scalar_subquery().is_not(None)


def _late_referral(desk: Desk, today: date) -> Select[int] | None:
    """An unanswered referral past its answer date, unless followed up too recently for
    any authority's spacing (the step checks the authority's own)."""
    every = [a.follow_up_every_days for a in desk.config.authorities.values()]
    if not every:
        return None
    recent = start_of(today - timedelta(days=min(every) - 1))
    return select(Referral.case_id).where(
        Referral.answered_at.is_(None), Referral.answer_due < today,
        _is_open(Referral.case_id),
        ~exists().where(StaffThread.case_id == Referral.case_id,
                        StaffThread.kind == NoticeKind.AUTHORITY_FOLLOW_UP,
                        StaffThread.sent_at >= recent))


def _triage_late(desk: Desk, today: date) -> Select[int]:
    """Still in the triage queue past its routing limit and not yet escalated for it."""
    last = _last_late_receipt(desk, today)
    escalated = exists().where(TimelineEvent.case_id == Case.id,
                               TimelineEvent.kind == "escalated",
                               TimelineEvent.details["due"].as_string() == "route")
    return select(Case.id).where(Case.department == TRIAGE, Case.status == CaseStatus.ROUTED,
                                 Case.received_at < start_of(last + timedelta(days=1)),
                                 ~escalated)


def _last_late_receipt(desk: Desk, today: date) -> date:
    """The last day a case could be received and be late for routing today."""
    limit, day = desk.config.clock.triage_route_limit, today
    for _ in range(_LONGEST_LIMIT_DAYS):
        if desk.due(day, limit) < today:
            return day
        day -= timedelta(days=1)
    return day


def _absence(desk: Desk, today: date) -> Select[int] | None:
    """A handler who is away today (the deputy takes over), or a deputy whose absent
    handler is back (handed back)."""
    away = [s for s, person in desk.config.staff.items() if person.is_away(today)]
    back = [s for s in desk.config.staff if s not in away]
    # Only the terms with names: an empty IN became a subquery that made SQLite scan
    # every assignment.
    terms = ([and_(Assignment.delegate_for.is_(None), Assignment.handler.in_(away))]
             if away else []) + ([Assignment.delegate_for.in_(back)] if back else [])
    if not terms:
        return None
    return _open_assignment().where(or_(*terms))


def _excluded(desk: Desk, today: date) -> Select[int]:
    """An active handler, or the absent handler a deputy covers for, excluded from the
    case (conflict of interest): the case moves away. Read from the exclusions (few)
    towards the assignments: a correlated subquery with LIMIT is not turned into a join,
    so PostgreSQL looks up each exclusion's case by index instead of hashing every
    active assignment."""
    holder = select(Assignment.id).where(
        Assignment.case_id == CaseExclusion.case_id, Assignment.ended_at.is_(None),
        or_(Assignment.handler == CaseExclusion.staff,
            Assignment.delegate_for == CaseExclusion.staff)).limit(1).scalar_subquery()
    return select(CaseExclusion.case_id).where(_is_open(CaseExclusion.case_id),
                                               holder.is_not(None))
