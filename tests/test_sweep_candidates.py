"""The deadline sweep looks only at the cases some step may act on today (issue 17).

Real pipeline, real SQLite and PostgreSQL: each kind of candidate (a reminder due, a
missed deadline, a late referral, the triage queue, an absent or returning handler, an
excluded one) is found by its query, a case that needs nothing is not even loaded (the
ORM's own load event counts), and a case past its deadline drops out once that
deadline's work is done and comes back with a new deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from casework.calendar import WorkCalendar
from casework.clock import SHANGHAI, FixedClock
from casework.models import Assignment, Case, CaseExclusion, Referral, TimelineEvent, Violation
from casework.status import CaseStatus
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from routing import commitments
from routing.context import Desk
from routing.directory import Away, load_routing
from routing.sweep_candidates import by_kind, candidates, horizon
from routing.triage import TRIAGE
from tests.test_conflicts_every_message import CONDUCT, ROUTING, take

NOW = datetime(2025, 12, 2, 9, tzinfo=SHANGHAI)  # a Tuesday
TODAY = NOW.date()
KINDS = ["remind", "overdue", "referral", "triage", "absence", "handback", "excluded"]


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> Iterator[App]:
    config = tmp_path / "complaintd.toml"
    config.write_text(f"""
[storage]
data_dir = "var"
database_url = "{db_url}"
[routing]
rules_file = "{ROUTING}"
""", encoding="utf-8")
    application = App.build(load_settings(config), FixedClock(NOW))
    upgrade(application.engine)
    yield application
    application.close()


def open_case(app: App, n: int) -> int:
    ref = take(app, f"{CONDUCT}（第{n}位投诉人）", sender_email=f"p{n}@example.cn")
    with app.session_factory() as session:
        return session.scalars(select(Case.id).where(Case.reference == ref)).one()


def lina_away(desk: Desk) -> Desk:
    """The routing file with lina away this week (her deputy is zhangwei)."""
    config = desk.config
    away = config.staff["lina"].model_copy(
        update={"away": [Away(start=TODAY - timedelta(days=1), end=TODAY + timedelta(days=3))]})
    return replace(desk, config=config.model_copy(
        update={"staff": {**config.staff, "lina": away}}))


def reassign(session: Session, case: Case, handler: str | None, department: str,
             covers: str | None = None) -> None:
    for current in case.assignments:
        if current.ended_at is None:
            current.ended_at = NOW - timedelta(days=1)
    case.assignments.append(Assignment(department=department, handler=handler,
                                       delegate_for=covers, assigned_at=NOW))


def shape(session: Session, ids: dict[str, int]) -> None:
    """Each case made into one kind of candidate; ``quiet`` needs nothing today."""
    cases = {kind: session.get_one(Case, case_id) for kind, case_id in ids.items()}
    for case in cases.values():
        case.resolve_due = TODAY + timedelta(days=40)
        if _handler_of(case) != "zhangwei":  # routing shares the cases between two
            reassign(session, case, "zhangwei", "service")
    cases["remind"].resolve_due = TODAY + timedelta(days=1)
    cases["overdue"].resolve_due = TODAY - timedelta(days=1)
    session.add(Referral(case=cases["referral"], authority="health_commission",
                         sent_at=NOW - timedelta(days=30), answer_due=TODAY - timedelta(days=1)))
    triage = cases["triage"]
    triage.department, triage.status = TRIAGE, CaseStatus.ROUTED
    triage.received_at = NOW - timedelta(days=10)
    reassign(session, triage, None, TRIAGE)
    reassign(session, cases["absence"], "lina", "service")
    reassign(session, cases["handback"], "lina", "service", covers="zhangwei")
    session.add(CaseExclusion(case=cases["excluded"], staff="zhangwei", reason="named",
                              recorded_at=NOW))


@pytest.fixture
def shaped(app: App) -> dict[str, int]:
    ids = {kind: open_case(app, n) for n, kind in enumerate([*KINDS, "quiet"])}
    with app.session_factory.begin() as session:
        shape(session, ids)
    return ids


def test_each_kind_of_candidate_is_found_by_its_query(app: App, shaped: dict[str, int]) -> None:
    assert app.desk is not None
    desk = lina_away(app.desk)
    with app.session_factory() as session:
        found = by_kind(session, desk, TODAY)
        chosen = candidates(session, desk, TODAY)
    expected = {"remind": {"remind"}, "overdue": {"overdue"}, "referral": {"referral"},
                "triage": {"triage"}, "absence": {"absence", "handback"},
                "excluded": {"excluded"}}
    assert found == {kind: {shaped[k] for k in cases} for kind, cases in expected.items()}
    assert chosen == sorted(shaped[k] for k in KINDS)
    assert shaped["quiet"] not in chosen


def test_a_case_that_needs_nothing_is_not_even_loaded(app: App, shaped: dict[str, int]) -> None:
    assert app.desk is not None
    desk = lina_away(app.desk)
    loaded: list[int] = []

    def count(case: Case, _context: object) -> None:
        loaded.append(case.id)

    event.listen(Case, "load", count)
    try:
        with app.session_factory.begin() as session:
            report = commitments.sweep(session, desk, NOW)
    finally:
        event.remove(Case, "load", count)
    assert shaped["quiet"] not in loaded
    assert set(loaded) == {shaped[k] for k in KINDS}
    assert report.reminded == [_ref(app, shaped["remind"])]
    assert report.delegated == [_ref(app, shaped[k]) for k in ("absence", "handback")]
    assert report.followed_up == [_ref(app, shaped["referral"])]
    assert set(report.escalated) == {_ref(app, shaped[k]) for k in ("overdue", "triage")}
    with app.session_factory() as session:
        moved = _handler(session, shaped["excluded"])
    assert moved is not None and moved != "zhangwei"


def test_an_overdue_case_drops_out_when_its_deadline_is_done_and_returns_with_a_new_one(
        app: App) -> None:
    case_id = open_case(app, 1)
    due = TODAY - timedelta(days=1)
    with app.session_factory.begin() as session:
        session.get_one(Case, case_id).resolve_due = due
    app.sweep_deadlines()
    with app.session_factory() as session:
        case = session.get_one(Case, case_id)
        assert case.swept_due == due
        assert {e.kind for e in case.events} >= {"deadline_missed", "escalated"}
        assert case_id not in candidates(session, _desk(app), TODAY)
        events = len(case.events)
    app.sweep_deadlines()  # the next run: nothing left to do for this deadline
    with app.session_factory.begin() as session:
        case = session.get_one(Case, case_id)
        assert len(case.events) == events
        case.resolve_due = due - timedelta(days=1)  # a changed deadline, missed as well
    with app.session_factory() as session:
        assert case_id in candidates(session, _desk(app), TODAY)
    app.sweep_deadlines()
    with app.session_factory() as session:
        assert session.get_one(Case, case_id).swept_due == due - timedelta(days=1)
        violations = session.scalars(select(Violation).where(Violation.case_id == case_id))
        assert sorted(v.details["due"] for v in violations) == [
            (due - timedelta(days=1)).isoformat(), due.isoformat()]


def test_a_reminded_case_waits_for_its_next_reminder_point(app: App) -> None:
    case_id = open_case(app, 1)
    with app.session_factory.begin() as session:  # Friday: three working days left
        session.get_one(Case, case_id).resolve_due = date(2025, 12, 5)
    with app.session_factory() as session:
        assert case_id in candidates(session, _desk(app), TODAY)
    app.sweep_deadlines()
    with app.session_factory() as session:
        points = [e.details["point"] for e in session.get_one(Case, case_id).events
                  if e.kind == "reminder_sent"]
        assert points == [3]
        assert case_id not in candidates(session, _desk(app), TODAY)
        assert case_id not in candidates(session, _desk(app), TODAY + timedelta(days=1))
        assert case_id in candidates(session, _desk(app), TODAY + timedelta(days=2))


def test_a_case_waiting_on_an_authority_is_not_marked_done(app: App) -> None:
    """The authority's answer can turn the delay into ours, so the case stays a candidate."""
    case_id = open_case(app, 1)
    due = TODAY - timedelta(days=1)
    with app.session_factory.begin() as session:
        case = session.get_one(Case, case_id)
        case.resolve_due = due
        session.add(Referral(case=case, authority="health_commission",
                             sent_at=NOW - timedelta(days=20), answer_due=TODAY + timedelta(3)))
    app.sweep_deadlines()
    with app.session_factory.begin() as session:
        case = session.get_one(Case, case_id)
        assert case.swept_due is None
        assert "overdue_by_authority" in {e.kind for e in case.events}
        assert case_id in candidates(session, _desk(app), TODAY)
        case.referrals[0].answered_at = NOW  # answered: the lateness is ours after all
    app.sweep_deadlines()
    with app.session_factory() as session:
        assert session.get_one(Case, case_id).swept_due == due
        kinds = session.scalars(select(TimelineEvent.kind).where(
            TimelineEvent.case_id == case_id)).all()
        assert "escalated" in kinds


@pytest.mark.parametrize("working_days", [0, 1, 3, 10])
@pytest.mark.parametrize("today", [date(2025, 9, 26), date(2025, 9, 30), date(2025, 12, 5),
                                   date(2026, 2, 13)])
def test_the_horizon_is_the_last_day_within_so_many_working_days(
        working_days: int, today: date) -> None:
    """Around the National Day and Spring Festival holidays and their make-up days."""
    calendar = WorkCalendar.build()
    last = horizon(calendar, today, working_days)
    days = [today + timedelta(days=n) for n in range(60)]
    within = [d for d in days if calendar.working_days_between(today, d) <= working_days]
    assert last == max(within)
    assert within == [d for d in days if d <= last]


def _desk(app: App) -> Desk:
    assert app.desk is not None
    return app.desk


def _ref(app: App, case_id: int) -> str:
    with app.session_factory() as session:
        return session.get_one(Case, case_id).reference


def _handler(session: Session, case_id: int) -> str | None:
    return _handler_of(session.get_one(Case, case_id))


def _handler_of(case: Case) -> str | None:
    current = next((a for a in reversed(case.assignments) if a.ended_at is None), None)
    return current.handler if current else None


def test_the_routing_file_has_the_staff_these_tests_use() -> None:
    config = load_routing(ROUTING)
    assert config.staff["lina"].delegate == "zhangwei"
    assert "health_commission" in config.authorities
