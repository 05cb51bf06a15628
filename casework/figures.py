"""The figures of a period (a year for the annual report, a month for the director's summary):
what every report, export and the console's report page show, counted here once.

A query module beside ``casework.queries``: plain functions of an open ``Session``, the
working-day calendar and explicit days (``as_of`` is passed in, never read from a clock).
They read a handful of narrow rows per case (no models loaded) and count in Python, so a
year of 100,000 cases stays a few queries. The definitions are written down in
``docs/reports.md``; the comments here say which rule each step keeps.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from statistics import median
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, Date, Select, String, func, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from casework.clock import SHANGHAI
from casework.models import (
    ActivityFeedback,
    Case,
    Extension,
    Referral,
    SurveyResponse,
    TimelineEvent,
    Violation,
)
from casework.status import OPEN_STATUSES, CaseStatus

# The moves of the timeline that mark the report's moments (the first of each counts).
ACKNOWLEDGED = (CaseStatus.ACKNOWLEDGED.value, CaseStatus.AWAITING_MATERIAL.value)
RESOLVED = CaseStatus.RESOLVED.value
REOPENED = CaseStatus.REOPENED.value
ENDED_UNRESOLVED = frozenset({CaseStatus.WITHDRAWN, CaseStatus.REJECTED})
FIRST_YEAR = 2000  # the earliest year a report is asked for
# "Was the problem solved?" on the web survey; an answer by mail gives a level only.
SOLVED_ANSWERS = ("yes", "partly", "no")
NOT_ASKED = "not_asked"


class WorkingDays(Protocol):
    def is_working_day(self, day: date) -> bool: ...


class shanghai_date(GenericFunction[date]):
    """The Shanghai calendar day of a stored (UTC) time, computed by the database: turning
    100,000 times into dates in Python was most of a year's report. Shanghai has kept
    UTC+8 all year since 1992, so SQLite adds eight hours."""

    type = Date()
    inherit_cache = True


@compiles(shanghai_date, "sqlite")
def _sqlite_day(element: shanghai_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(shanghai_date, "postgresql")
def _postgres_day(element: shanghai_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'Asia/Shanghai' AS DATE)"


@dataclass(frozen=True)
class Period:
    """Days ``start`` (included) to ``end`` (excluded), Shanghai dates; ``as_of``: the day
    the figures are taken (a year not over yet counts what is due by then)."""

    start: date
    end: date
    as_of: date

    @classmethod
    def year(cls, year: int, today: date) -> Period:
        return cls(date(year, 1, 1), date(year + 1, 1, 1), min(today, date(year + 1, 1, 1)))

    @classmethod
    def month(cls, first: date, today: date) -> Period:
        end = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return cls(first, end, min(today, end))

    def previous_year(self) -> Period:
        start, end = self.start.replace(year=self.start.year - 1), self.start
        return Period(start, end, end)

    def bounds(self) -> tuple[datetime, datetime]:
        return (datetime.combine(self.start, time(), SHANGHAI),
                datetime.combine(self.end, time(), SHANGHAI))


@dataclass(frozen=True)
class Scope:
    """The console's filters: one department, one category, or all (None)."""

    department: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class OnTime:
    """A deadline kept or not. ``pending``: not done and not yet due; ``no_deadline``: done
    or ended with no deadline set (never counted); ``held``: of ``late``, those an authority
    held past our deadline (a referral sent by it and answered after it, or not at all)."""

    on_time: int = 0
    late: int = 0
    pending: int = 0
    no_deadline: int = 0
    held: int = 0

    @property
    def decided(self) -> int:
        return self.on_time + self.late


@dataclass(frozen=True)
class AuthorityFigures:
    referred: int
    answered: int
    answer_days: tuple[int, ...]  # working days from the letter to the answer
    overdue: int  # answered after the answer date, or unanswered past it on ``as_of``


@dataclass(frozen=True)
class ViolationRow:
    """One entry of the register: ``staff`` and ``reference`` are for the internal edition."""

    clause: str
    category: str
    tier: str
    department: str
    source: str
    compensation: Decimal
    paid: Decimal
    sanction_applied: bool
    staff: str
    reference: str


@dataclass(frozen=True)
class Figures:
    period: Period
    scope: Scope
    total: int
    by_channel: dict[str, int]
    by_category: dict[str, int]
    by_department: dict[str, int]
    by_month: dict[int, int]
    by_status: dict[str, int]
    acknowledgement: OnTime
    resolution: OnTime
    resolution_days: tuple[int, ...]  # working days from receipt to the first resolution
    extended_cases: int
    extension_reasons: dict[str, int]
    referrals: dict[str, AuthorityFigures]
    satisfaction: dict[str, dict[int, int]]  # category -> level -> answers (latest per case)
    # category -> "yes" / "partly" / "no" / "not_asked" -> the same answers as satisfaction
    solved: dict[str, dict[str, int]]
    # activity (意见函) -> level -> answers received in the period; empty for a scope
    activities: dict[str, dict[int, int]]
    reopened: int
    violations: tuple[ViolationRow, ...]
    overdue_open: int  # open on ``as_of`` with the resolution deadline before it
    previous: Figures | None = field(default=None)

    def satisfaction_levels(self) -> dict[int, int]:
        levels: Counter[int] = Counter()
        for by_level in self.satisfaction.values():
            levels.update(by_level)
        return {level: levels.get(level, 0) for level in range(5, 0, -1)}

    def solved_answers(self) -> dict[str, int]:
        """yes, partly, no and not asked (an answer by mail), over every category."""
        answers: Counter[str] = Counter()
        for by_answer in self.solved.values():
            answers.update(by_answer)
        return {answer: answers.get(answer, 0) for answer in (*SOLVED_ANSWERS, NOT_ASKED)}

    def activity_levels(self) -> dict[int, int]:
        levels: Counter[int] = Counter()
        for by_level in self.activities.values():
            levels.update(by_level)
        return {level: levels.get(level, 0) for level in range(5, 0, -1)}


class _CaseRow(NamedTuple):  # a tuple: 100,000 of them are made for a year
    id: int
    channel: str
    category: str
    department: str
    status: CaseStatus
    received: date
    acknowledge_due: date | None
    resolve_due: date | None


def figures(session: Session, calendar: WorkingDays, period: Period, scope: Scope = Scope(),
            *, with_previous: bool = False) -> Figures:
    """Every figure of ``period`` for the cases received in it (violations: recorded in it)."""
    ids = _case_ids(period, scope)
    cases = _cases(session, ids)
    moments = _first_moves(session, ids)
    referrals = _referrals(session, ids)
    days = _Days(calendar)
    ack, resolution, took = _deadlines(cases, moments, referrals, period.as_of, days)
    previous = None
    if with_previous:
        before = figures(session, calendar, period.previous_year(), scope)
        previous = before if before.total or before.violations or before.activities else None
    return Figures(
        period=period, scope=scope, total=len(cases),
        by_channel=_count(c.channel for c in cases),
        by_category=_count(c.category for c in cases),
        by_department=_count(c.department for c in cases),
        by_month=_by_month(cases, period),
        by_status=_count(str(c.status) for c in cases),
        acknowledgement=ack, resolution=resolution, resolution_days=tuple(took),
        **_extensions(session, ids),
        referrals=_authorities(referrals, period.as_of, days),
        **_survey(session, ids, {c.id: c.category for c in cases}),
        activities=_activities(session, period) if scope == Scope() else {},
        reopened=sum(1 for c in cases if REOPENED in moments.get(c.id, {})),
        violations=tuple(_violations(session, period, scope)),
        overdue_open=sum(1 for c in cases if _overdue(c, period.as_of)),
        previous=previous)


def percentile(values: Sequence[int], share: float) -> float | None:
    """The ``share`` percentile (nearest rank: a value that occurred), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return float(ordered[int(rank) - 1])


def middle(values: Sequence[int]) -> float | None:
    return float(median(values)) if values else None


# -- the queries ------------------------------------------------------------------------


def _case_ids(period: Period, scope: Scope) -> Select[Any]:
    start, end = period.bounds()
    conditions: list[ColumnElement[bool]] = [
        Case.received_at >= start, Case.received_at < end,
        # A case merged into another is that case's duplicate: counted once, as the other.
        Case.merged_into_id.is_(None)]
    if scope.department is not None:
        conditions.append(Case.department == scope.department)
    if scope.category is not None:
        conditions.append(Case.category == scope.category)
    return select(Case.id).where(*conditions)


def _cases(session: Session, ids: Select[Any]) -> list[_CaseRow]:
    # Plain rows from the connection (no ORM, the status as its stored string): a year's
    # report reads 100,000 of them.
    rows = session.connection().execute(select(
        Case.id, Case.channel, Case.category, Case.department,
        type_coerce(Case.status, String()), shanghai_date(Case.received_at),
        Case.acknowledge_due, Case.resolve_due).where(Case.id.in_(ids)))
    return [_CaseRow(r[0], r[1], r[2] or "", r[3] or "", CaseStatus(r[4]), r[5], r[6], r[7])
            for r in rows]


def _first_moves(session: Session, ids: Select[Any]) -> dict[int, dict[str, date]]:
    """Per case, the first day it moved to each status the report looks at."""
    target = TimelineEvent.details["to"].as_string()
    rows = session.connection().execute(
        select(TimelineEvent.case_id, target, func.min(shanghai_date(TimelineEvent.at)))
        .where(TimelineEvent.kind == "status_changed", TimelineEvent.case_id.in_(ids),
               target.in_([*ACKNOWLEDGED, RESOLVED, REOPENED]))
        .group_by(TimelineEvent.case_id, target))
    moves: dict[int, dict[str, date]] = defaultdict(dict)
    for case_id, to, day in rows:
        key = "acknowledged" if to in ACKNOWLEDGED else to
        known = moves[case_id].get(key)
        moves[case_id][key] = _as_date(day) if known is None else min(known, _as_date(day))
    return moves


class _Referral(NamedTuple):
    case_id: int
    authority: str
    sent: date | None
    answer_due: date | None
    answered: date | None


def _referrals(session: Session, ids: Select[Any]) -> list[_Referral]:
    rows = session.execute(select(Referral.case_id, Referral.authority, Referral.sent_at,
                                  Referral.answer_due, Referral.answered_at)
                           .where(Referral.case_id.in_(ids)))
    return [_Referral(r.case_id, r.authority, _local(r.sent_at), r.answer_due,
                      _local(r.answered_at)) for r in rows]


def _extensions(session: Session, ids: Select[Any]) -> dict[str, Any]:
    """Approved extensions only: a request the supervisor did not approve moved no date."""
    rows = session.execute(select(Extension.case_id, Extension.reason).where(
        Extension.case_id.in_(ids), Extension.approved_at.is_not(None))).all()
    return {"extended_cases": len({r.case_id for r in rows}),
            "extension_reasons": _count(" ".join(r.reason.split()) for r in rows)}


def _survey(session: Session, ids: Select[Any], categories: dict[int, str]) -> dict[str, Any]:
    """Satisfaction and "problem solved" from the latest answer per case (a complainant who
    answered twice changed their mind), by category; "not_asked": an answer by mail."""
    latest: dict[int, tuple[datetime, int, int, str | None]] = {}
    for case_id, level, at, row_id, solved in session.execute(select(
            SurveyResponse.case_id, SurveyResponse.level, SurveyResponse.received_at,
            SurveyResponse.id, SurveyResponse.solved).where(SurveyResponse.case_id.in_(ids))):
        if case_id not in latest or (at, row_id) > latest[case_id][:2]:
            latest[case_id] = (at, row_id, level, solved)
    levels: dict[str, dict[int, int]] = defaultdict(lambda: dict.fromkeys(range(5, 0, -1), 0))
    answers: dict[str, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys((*SOLVED_ANSWERS, NOT_ASKED), 0))
    for case_id, (_at, _id, level, solved) in latest.items():
        if 1 <= level <= 5:  # the same answers in both tables, so their totals agree
            category = categories.get(case_id, "")
            levels[category][level] += 1
            answers[category][solved if solved in SOLVED_ANSWERS else NOT_ASKED] += 1
    return {"satisfaction": dict(sorted(levels.items())), "solved": dict(sorted(answers.items()))}


def _activities(session: Session, period: Period) -> dict[str, dict[int, int]]:
    """The activity feedback forms received in the period, by activity (the name as typed,
    its spaces tidied) and level. The comments are not read: no report prints them."""
    start, end = period.bounds()
    table: dict[str, dict[int, int]] = defaultdict(lambda: dict.fromkeys(range(5, 0, -1), 0))
    for activity, level, n in session.execute(
            select(ActivityFeedback.activity, ActivityFeedback.level, func.count())
            .where(ActivityFeedback.received_at >= start, ActivityFeedback.received_at < end)
            .group_by(ActivityFeedback.activity, ActivityFeedback.level)):
        if 1 <= level <= 5:
            table[_event_name(activity)][level] += n
    return dict(sorted(table.items(), key=lambda item: (-sum(item[1].values()), item[0])))


# Spaces between Chinese characters are typing noise ("社区  义诊" is "社区义诊").
_CJK = r"[\u3000-\u9fff\uf900-\ufaff\uff00-\uffef]"
_CJK_SPACE = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")


def _event_name(typed: str) -> str:
    """One name for the ways visitors type the same event: full-width letters and spaces
    as plain ones (NFKC), runs of spaces as one, none between two Chinese characters."""
    return _CJK_SPACE.sub("", " ".join(unicodedata.normalize("NFKC", typed).split()))


def _violations(session: Session, period: Period, scope: Scope) -> list[ViolationRow]:
    start, end = period.bounds()
    query = (select(Violation, Case.reference, Case.department)
             .join(Case, Case.id == Violation.case_id)
             .where(Violation.recorded_at >= start, Violation.recorded_at < end)
             .order_by(Violation.recorded_at, Violation.id))
    if scope.department is not None:
        query = query.where(Case.department == scope.department)
    if scope.category is not None:
        query = query.where(Case.category == scope.category)
    return [ViolationRow(
        clause=v.clause, category=v.category, tier=v.sanction_tier, department=department or "",
        source=v.source, compensation=v.compensation,
        paid=v.compensation if v.compensation_paid_at is not None else Decimal("0"),
        sanction_applied=v.sanction_applied_at is not None, staff=v.staff or "",
        reference=reference) for v, reference, department in session.execute(query)]


# -- counting ---------------------------------------------------------------------------


class _Days:
    """Working days between two dates, each year's days counted once (100,000 cases ask)."""

    def __init__(self, calendar: WorkingDays) -> None:
        self.calendar = calendar
        self._upto: dict[int, list[int]] = {}

    def _index(self, day: date) -> int:
        """Working days from 1 January of ``day``'s year up to and including ``day``."""
        table = self._upto.get(day.year)
        if table is None:
            table, total, current = [], 0, date(day.year, 1, 1)
            while current.year == day.year:
                total += self.calendar.is_working_day(current)
                table.append(total)
                current += timedelta(days=1)
            self._upto[day.year] = table
        return table[day.timetuple().tm_yday - 1]

    def between(self, a: date, b: date) -> int:
        """As ``WorkCalendar.working_days_between``: after ``a`` up to and including ``b``."""
        if b < a:
            return -self.between(b, a)
        total = self._index(b) - self._index(a)
        for year in range(a.year, b.year):
            total += self._index(date(year, 12, 31))
        return total


def _deadlines(cases: Iterable[_CaseRow], moves: dict[int, dict[str, date]],
               referrals: list[_Referral], as_of: date,
               days: _Days) -> tuple[OnTime, OnTime, list[int]]:
    held_by = _held_cases(referrals)
    ack: Counter[str] = Counter()
    res: Counter[str] = Counter()
    took: list[int] = []
    for case in cases:
        moved = moves.get(case.id, {})
        ack[_judge(case.acknowledge_due, moved.get("acknowledged"), case, as_of)] += 1
        resolved = moved.get(RESOLVED)
        verdict = _judge(case.resolve_due, resolved, case, as_of)
        res[verdict] += 1
        if verdict == "late" and case.resolve_due and _held(held_by.get(case.id, ()),
                                                            case.resolve_due, resolved):
            res["held"] += 1
        if resolved is not None:
            took.append(days.between(case.received, resolved))
    return _on_time(ack), _on_time(res), took


def _judge(due: date | None, done: date | None, case: _CaseRow, as_of: date) -> str:
    """On time: done on or before the due day (Shanghai date). Not done: late once the due
    day has passed (before ``as_of``) while the case is open; an ended case (withdrawn,
    rejected) not done is not counted, nor is a case with no deadline."""
    if due is None:
        return "no_deadline"
    if done is not None:
        return "on_time" if done <= due else "late"
    if case.status in ENDED_UNRESOLVED or case.status not in OPEN_STATUSES:
        return "no_deadline"
    return "late" if due < as_of else "pending"


def _on_time(counter: Counter[str]) -> OnTime:
    return OnTime(on_time=counter["on_time"], late=counter["late"], pending=counter["pending"],
                  no_deadline=counter["no_deadline"], held=counter["held"])


def _held_cases(referrals: list[_Referral]) -> dict[int, list[_Referral]]:
    by_case: dict[int, list[_Referral]] = defaultdict(list)
    for referral in referrals:
        by_case[referral.case_id].append(referral)
    return by_case


def _held(referrals: Iterable[_Referral], due: date, resolved: date | None) -> bool:
    """An authority held the matter past our deadline (``casework.deadlines``' rule): a
    referral sent by the deadline and answered after it, or not yet."""
    return any(r.sent is not None and r.sent <= due and (r.answered is None or r.answered > due)
               for r in referrals)


def _authorities(referrals: list[_Referral], as_of: date,
                 days: _Days) -> dict[str, AuthorityFigures]:
    grouped: dict[str, list[_Referral]] = defaultdict(list)
    for referral in referrals:
        grouped[referral.authority].append(referral)
    return {name: AuthorityFigures(
        referred=len(rows), answered=sum(1 for r in rows if r.answered is not None),
        answer_days=tuple(days.between(r.sent, r.answered) for r in rows
                          if r.sent is not None and r.answered is not None),
        overdue=sum(1 for r in rows if _answer_late(r, as_of)))
        for name, rows in sorted(grouped.items())}


def _answer_late(referral: _Referral, as_of: date) -> bool:
    due = referral.answer_due
    if due is None:
        return False
    return referral.answered > due if referral.answered is not None else due < as_of


def _overdue(case: _CaseRow, as_of: date) -> bool:
    return (case.status in OPEN_STATUSES and case.resolve_due is not None
            and case.resolve_due < as_of)


def _by_month(cases: Iterable[_CaseRow], period: Period) -> dict[int, int]:
    months = Counter((c.received.year, c.received.month) for c in cases)
    keys, day = [], period.start
    while day < period.end:
        keys.append((day.year, day.month))
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return {month: months.get((year, month), 0) for year, month in keys}


def _count(values: Iterable[str]) -> dict[str, int]:
    counted = Counter(values)
    return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


def _as_date(value: date | str) -> date:
    """A day from an aggregate: SQLite gives ``min()`` of dates back as text."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _local(moment: datetime | None) -> Any:
    return moment.astimezone(SHANGHAI).date() if moment is not None else None
