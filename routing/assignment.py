"""Who handles a case: least open cases in the department, skipping people who are away.

A handler who is away (an out-of-office period in the directory) is covered by the named
deputy (AB角, clause 四(六)): the deputy takes over the assignment, its deadlines and its
reminders for the absence and hands it back on return. Each move is a timeline event.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.db import batch_lookups, flush_for_ids
from casework.models import Assignment, Case
from casework.status import OPEN_STATUSES
from casework.transitions import record
from routing.conflicts import allowed, supervisor_for
from routing.context import ACTOR_ROUTER
from routing.directory import RoutingConfig


def active(case: Case) -> Assignment | None:
    return next((a for a in reversed(case.assignments) if a.ended_at is None), None)


_LOAD = "routing.open_load"
_SWEEP_LOAD = "routing.open_load_of_sweep"


def open_load(session: Session, staff: list[str]) -> dict[str, int]:
    """Each of ``staff``'s open cases. A batch counts once and then keeps the counts as
    it assigns (``_count_move``) instead of asking again for every new case."""
    kept = batch_lookups(session)
    if kept is None:
        return _kept_by_sweep(session, staff)
    load = kept.setdefault(_LOAD, {})
    if not all(h in load for h in staff):
        load.update(_count_in_batch(session, staff))
    return {h: load[h] for h in staff}


@contextmanager
def load_kept(session: Session) -> Iterator[None]:
    """Each handler's open cases counted once for a whole sweep and kept as it moves
    cases (``_count_move``): at a million open cases one count is a second's work, and
    the sweep may move a hundred cases. (A case whose savepoint is rolled back leaves a
    count one off; it only guides who gets the next case.)"""
    session.info[_SWEEP_LOAD] = {}
    try:
        yield
    finally:
        session.info.pop(_SWEEP_LOAD, None)


def _kept_by_sweep(session: Session, staff: list[str]) -> dict[str, int]:
    load: dict[str, int] | None = session.info.get(_SWEEP_LOAD)
    if load is None:
        return _count_open(session, staff)
    missing = [h for h in staff if h not in load]
    if missing:
        load.update(_count_open(session, missing))
    return {h: load[h] for h in staff}


def _count_in_batch(session: Session, staff: list[str]) -> dict[str, int]:
    """``_count_open`` without flushing the batch: what is stored plus the new
    assignments waiting in the session (a flush would write them in between the
    batch's rows, and the batch could no longer be written in one go)."""
    if any(isinstance(obj, Assignment | Case) for obj in session.dirty):
        return _count_open(session, staff)  # stored rows changed: let the flush count
    with session.no_autoflush:
        counted = _count_open(session, staff)
    for obj in session.new:
        if isinstance(obj, Assignment) and obj.ended_at is None and obj.handler in counted \
                and obj.case is not None and obj.case.status in OPEN_STATUSES:
            counted[obj.handler] += 1
    return counted


def _count_open(session: Session, staff: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(Assignment.handler, func.count()).join(Case)
        .where(Assignment.ended_at.is_(None), Assignment.handler.in_(staff),
               Case.status.in_(list(OPEN_STATUSES)))
        .group_by(Assignment.handler))
    load = dict.fromkeys(staff, 0)
    load.update({h: n for h, n in rows if h is not None})
    return load


def choose(session: Session, config: RoutingConfig, department: str, banned: set[str],
           day: date) -> tuple[str, str | None, str]:
    """(handler, the absent handler it covers for or None, why)."""
    dep = config.departments[department]
    candidates = allowed(dep.handlers, banned)
    present = [h for h in candidates if not config.staff[h].is_away(day)]
    if present:
        load = open_load(session, present)
        pick = min(present, key=lambda h: (load[h], present.index(h)))
        return pick, None, f"least open cases in {department} ({load[pick]})"
    for absent in candidates:
        deputy = config.staff[absent].delegate
        if deputy and deputy not in banned and not config.staff[deputy].is_away(day):
            return deputy, absent, f"{absent} is away; deputy {deputy} covers"
    boss = supervisor_for(config, department, banned)
    return boss, None, f"no handler of {department} available: the supervisor takes it"


def assign(session: Session, case: Case, handler: str, *, department: str, now: datetime,
           why: str, covers: str | None = None, actor: str = ACTOR_ROUTER) -> Assignment:
    current = active(case)
    if current is not None:
        current.ended_at = now
        _count_move(session, case, current.handler, -1)
    assignment = Assignment(department=department, handler=handler, delegate_for=covers,
                            assigned_at=now)
    _count_move(session, case, handler, +1)
    case.assignments.append(assignment)
    case.department = department
    record(case, "assigned", actor=actor, at=now,
           details={"handler": handler, "department": department, "covers_for": covers,
                    "why": why})
    flush_for_ids(session)
    return assignment


def _count_move(session: Session, case: Case, handler: str | None, step: int) -> None:
    """Keep a batch's counts of open cases (``open_load``) as they change."""
    kept = batch_lookups(session)
    load = kept.get(_LOAD) if kept is not None else session.info.get(_SWEEP_LOAD)
    if load is not None and handler in load and case.status in OPEN_STATUSES:
        load[handler] += step


def hand_over_for_absence(session: Session, config: RoutingConfig, case: Case,
                          banned: set[str], now: datetime, day: date) -> str | None:
    """Move the case to the deputy when its handler is away, back when they return."""
    current = active(case)
    if current is None or current.handler is None:
        return None
    if current.delegate_for is not None:
        owner = config.staff.get(current.delegate_for)
        # Never handed back to a person the complaint names (conflict of interest).
        if owner is not None and not owner.is_away(day) and current.delegate_for not in banned:
            assign(session, case, current.delegate_for, department=current.department,
                   now=now, why=f"{current.delegate_for} is back: handed back")
            record(case, "handed_back", actor=ACTOR_ROUTER, at=now,
                   details={"from": current.handler, "to": current.delegate_for})
            return "handed_back"
        return None
    person = config.staff.get(current.handler)
    if person is None or not person.is_away(day):
        return None
    deputy = person.delegate
    if not deputy or deputy in banned or config.staff[deputy].is_away(day):
        return None
    assign(session, case, deputy, department=current.department, now=now,
           why=f"{current.handler} is away: deputy covers", covers=current.handler)
    record(case, "delegated", actor=ACTOR_ROUTER, at=now,
           details={"from": current.handler, "to": deputy})
    return "delegated"
