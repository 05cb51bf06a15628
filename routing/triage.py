"""The simplest routing there is: every new case goes to the triage queue.

A supervisor picks cases from the triage queue; the rules-based router replaces this,
but it will still fall back here when no rule matches (a case is never routed nowhere).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from casework.db import flush_for_ids
from casework.models import Assignment, Case
from casework.status import CaseStatus
from casework.transitions import transition

TRIAGE = "triage"
ACTOR_ROUTER = "system:router"


def route_to_triage(session: Session, case: Case, *, at: datetime, why: str) -> Assignment:
    """Queue ``case`` for a supervisor and record why on its timeline."""
    assignment = Assignment(department=TRIAGE, assigned_at=at)
    case.assignments.append(assignment)
    case.department = TRIAGE
    transition(case, CaseStatus.ROUTED, actor=ACTOR_ROUTER, at=at, reason=why,
               details={"department": TRIAGE})
    flush_for_ids(session)
    return assignment
