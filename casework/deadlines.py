"""The deadline sweep: open cases past their resolution date get a timeline event once.

(Reminders, escalation and the violation register are routing's, ``routing.commitments``;
this sweep makes every missed deadline visible and auditable.) A deadline that passes
while an administrative authority holds the matter (a referral sent by the deadline, not
answered) is marked ``held_by_authority``: the delay is the authority's, not ours.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.clock import local_date
from casework.models import Case, TimelineEvent
from casework.services import overdue_filter
from casework.transitions import record

ACTOR_CLOCK = "system:clock"


def sweep_overdue(session: Session, *, today: date, now: datetime) -> list[str]:
    """Record ``deadline_missed`` on each overdue case not yet marked for its current due date."""
    marked = []
    # A case the commitment sweep marked as done for this deadline (``swept_due``) has its
    # event already: the marker is only set after it.
    # The ids first, from the (status, resolve_due, swept_due) index alone; then the few rows.
    unswept = select(Case.id).where(overdue_filter(today),
                                    Case.swept_due.is_distinct_from(Case.resolve_due))
    for case in session.scalars(select(Case).where(Case.id.in_(unswept)).order_by(Case.id)):
        if _already_marked(session, case):
            continue
        assert case.resolve_due is not None  # guaranteed by overdue_filter
        record(case, "deadline_missed", actor=ACTOR_CLOCK, at=now,
               details={"due": case.resolve_due.isoformat(),
                        "days_late": (today - case.resolve_due).days,
                        "held_by_authority": held_by_authority(case)})
        marked.append(case.reference)
    session.flush()
    return marked


def held_by_authority(case: Case) -> bool:
    """Whether an authority holds the matter past our deadline through no lateness of ours:
    a referral sent on or before the deadline and not answered."""
    due = case.resolve_due
    return due is not None and any(
        r.answered_at is None and r.sent_at is not None
        and local_date(r.sent_at).date() <= due for r in case.referrals)


def _already_marked(session: Session, case: Case) -> bool:
    due = case.resolve_due.isoformat() if case.resolve_due else ""
    events = session.scalars(select(TimelineEvent).where(
        TimelineEvent.case_id == case.id, TimelineEvent.kind == "deadline_missed"))
    return any(e.details.get("due") == due for e in events)
