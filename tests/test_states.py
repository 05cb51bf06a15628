"""The case state machine: every allowed move works and is recorded, every other is refused."""

from __future__ import annotations

from datetime import datetime
from itertools import product

import pytest

from casework.clock import SHANGHAI
from casework.models import Case
from casework.status import CaseStatus
from casework.transitions import TRANSITIONS, InvalidTransition, transition

AT = datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)
ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]
REFUSED = [(a, b) for a, b in product(CaseStatus, CaseStatus) if b not in TRANSITIONS[a]]


def make_case(status: CaseStatus) -> Case:
    return Case(reference="LO-2026-000001", status=status, events=[])


def test_every_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(CaseStatus)


def test_the_main_path_is_allowed() -> None:
    path = [CaseStatus.RECEIVED, CaseStatus.ACKNOWLEDGED, CaseStatus.AWAITING_MATERIAL,
            CaseStatus.ROUTED, CaseStatus.INVESTIGATING, CaseStatus.RESOLVED, CaseStatus.CLOSED]
    case = make_case(path[0])
    for target in path[1:]:
        transition(case, target, actor="tester", at=AT)
    assert case.status is CaseStatus.CLOSED
    assert [e.details["to"] for e in case.events] == [str(s) for s in path[1:]]


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=lambda s: str(s))
def test_allowed_move_is_recorded(current: CaseStatus, target: CaseStatus) -> None:
    case = make_case(current)
    event = transition(case, target, actor="supervisor:li", at=AT, reason="because")
    assert case.status is target
    assert event.kind == "status_changed"
    assert event.details == {"from": str(current), "to": str(target), "reason": "because"}
    assert event.actor == "supervisor:li" and event.at == AT
    assert case.events == [event]


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=lambda s: str(s))
def test_refused_move_changes_nothing(current: CaseStatus, target: CaseStatus) -> None:
    case = make_case(current)
    with pytest.raises(InvalidTransition) as caught:
        transition(case, target, actor="tester", at=AT)
    assert case.status is current
    assert case.events == []
    message = str(caught.value)
    assert "LO-2026-000001" in message and str(current) in message and str(target) in message


def test_refusals_cover_every_pair_not_allowed() -> None:
    assert len(ALLOWED) + len(REFUSED) == len(CaseStatus) ** 2
    assert (CaseStatus.CLOSED, CaseStatus.INVESTIGATING) in REFUSED
    assert (CaseStatus.RECEIVED, CaseStatus.RESOLVED) in REFUSED
