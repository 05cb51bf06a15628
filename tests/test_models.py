"""The mapped classes' constructor and links: what the batch write relies on.

A column given to a constructor goes straight into the new row's dict (no attribute
events); these tests check that such rows are still stored, seen and tracked as before,
on both databases.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import SHANGHAI
from casework.models import Case, Message, TimelineEvent
from casework.status import CaseStatus
from casework.transitions import record

AT = datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)


def _case(reference: str = "LO-2026-000001") -> Case:
    return Case(reference=reference, status=CaseStatus.RECEIVED, channel="email",
                subject="挂号难", summary="排队三小时", language="zh", received_at=AT,
                created_at=AT, updated_at=AT)


def test_an_unknown_keyword_is_refused_with_its_name() -> None:
    with pytest.raises(TypeError, match="'colour' is an invalid keyword argument for Case"):
        Case(reference="LO-2026-000001", colour="red")


def test_a_relationship_given_to_the_constructor_links_both_sides() -> None:
    case = _case()
    message = Message(case=case, direction="in", channel="email", subject="s", received_at=AT)
    assert case.messages == [message]
    assert message.case is case


def test_rows_made_by_the_constructor_are_stored_and_their_changes_tracked(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        case = _case()
        session.add(case)
        record(case, "received", actor="intake", at=AT, details={"via": "邮件"})
        case.messages.append(Message(direction="in", channel="email", subject="挂号难",
                                     received_at=AT))
    with session_factory.begin() as session:
        stored = session.scalars(select(Case)).one()
        assert (stored.reference, stored.subject, stored.status) == (
            "LO-2026-000001", "挂号难", CaseStatus.RECEIVED)
        assert [(e.kind, e.details) for e in stored.events] == [("received", {"via": "邮件"})]
        assert [m.subject for m in stored.messages] == ["挂号难"]
        stored.subject = "挂号难，排队三小时"  # a stored row's change is still seen
        assert stored in session.dirty
    with session_factory() as session:
        assert session.scalars(select(Case.subject)).one() == "挂号难，排队三小时"


def test_an_event_recorded_on_a_case_points_at_it_once_stored(
        session_factory: sessionmaker[Session]) -> None:
    """Events are added to their case only (the link back is read-only): the stored row
    still carries its case's id and reads its case back."""
    with session_factory.begin() as session:
        case = _case()
        session.add(case)
        record(case, "received", actor="intake", at=AT)
    with session_factory() as session:
        event = session.scalars(select(TimelineEvent)).one()
        case_id = session.scalars(select(Case.id)).one()
        assert event.case_id == case_id
        assert event.case.reference == "LO-2026-000001"
