"""The register of commitment violations (clause 七): sanction tier from the configured table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from casework.models import Case, Violation
from casework.transitions import record
from routing.context import ACTOR_ROUTER
from routing.directory import RoutingConfig


def record_violation(session: Session, config: RoutingConfig, case: Case, *, category: str,
                     staff: str | None, source: str, now: datetime,
                     details: dict[str, Any] | None = None,
                     compensation: Decimal | None = None, actor: str = ACTOR_ROUTER,
                     ) -> Violation:
    """Add one violation with the tier the sanction table gives its category."""
    sanction = config.violation(category)
    owed = sanction.compensation if compensation is None else compensation
    violation = Violation(case_id=case.id, staff=staff, category=category,
                          clause=sanction.clause, sanction_tier=sanction.tier,
                          compensation=owed, source=source, details=details or {},
                          recorded_at=now)
    session.add(violation)
    record(case, "violation_recorded", actor=actor, at=now,
           details={"category": category, "staff": staff, "clause": sanction.clause,
                    "tier": sanction.tier, "compensation": str(owed), "source": source})
    return violation
