"""The case state machine: every allowed move is in ``TRANSITIONS`` and nowhere else."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casework.models import Case, TimelineEvent
from casework.status import CaseStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.RECEIVED: frozenset({S.ACKNOWLEDGED, S.AWAITING_MATERIAL, S.REJECTED, S.WITHDRAWN}),
    # An open case may be closed only by merging it into another (a duplicate): the
    # staff action "close" itself closes a resolved case. Out of scope or spam may be found
    # after routing (a triaged case) or during the investigation: rejected then.
    S.ACKNOWLEDGED: frozenset(
        {S.AWAITING_MATERIAL, S.ROUTED, S.REJECTED, S.WITHDRAWN, S.CLOSED}
    ),
    S.AWAITING_MATERIAL: frozenset(
        {S.ROUTED, S.INVESTIGATING, S.REJECTED, S.WITHDRAWN, S.CLOSED}
    ),
    S.ROUTED: frozenset(
        {S.INVESTIGATING, S.REFERRED, S.AWAITING_MATERIAL, S.WITHDRAWN, S.REJECTED, S.CLOSED}
    ),
    S.INVESTIGATING: frozenset(
        {S.EXTENDED, S.REFERRED, S.AWAITING_MATERIAL, S.RESOLVED, S.WITHDRAWN, S.REJECTED,
         S.CLOSED}
    ),
    S.REFERRED: frozenset({S.INVESTIGATING, S.EXTENDED, S.RESOLVED, S.WITHDRAWN, S.CLOSED}),
    S.EXTENDED: frozenset(
        {S.REFERRED, S.AWAITING_MATERIAL, S.RESOLVED, S.WITHDRAWN, S.CLOSED}
    ),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REOPENED: frozenset({S.ROUTED, S.INVESTIGATING, S.WITHDRAWN, S.REJECTED, S.CLOSED}),
    # A wrong rejection or a withdrawal by mistake can be undone; nothing else leaves them.
    S.WITHDRAWN: frozenset({S.REOPENED}),
    S.REJECTED: frozenset({S.REOPENED}),
}


class InvalidTransition(ValueError):
    """A move the state machine does not allow."""

    def __init__(self, reference: str, current: S, target: S) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        super().__init__(
            f"case {reference}: cannot go from {current} to {target} (allowed: {allowed})"
        )
        self.reference = reference
        self.current = current
        self.target = target


def can_transition(current: S, target: S) -> bool:
    return target in TRANSITIONS[current]


def transition(
    case: Case,
    target: S,
    *,
    actor: str,
    at: datetime,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Move ``case`` to ``target`` and record it on the timeline, or raise InvalidTransition."""
    current = case.status
    if not can_transition(current, target):
        raise InvalidTransition(case.reference, current, target)
    case.status = target
    case.updated_at = at
    payload = {"from": str(current), "to": str(target), "reason": reason, **(details or {})}
    return record(case, "status_changed", actor=actor, at=at, details=payload)


def record(
    case: Case, kind: str, *, actor: str, at: datetime, details: dict[str, Any] | None = None
) -> TimelineEvent:
    """Append one event to the case timeline."""
    event = TimelineEvent(at=at, actor=actor, kind=kind, details=details or {})
    case.events.append(event)
    return event
