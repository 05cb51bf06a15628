"""The annual report's figures and its public edition, on SQLite and PostgreSQL.

A year of cases with known outcomes (``tests.fixtures.report_year``) is counted by
``casework.figures``; every figure is checked against the hand count, then each rule of
the disclosure (primary, secondary, rates, means, money, across tables) on the public
edition, and the public HTML is searched for every name, contact and text of the data set.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from casework.calendar import WorkCalendar
from casework.figures import Figures, OnTime, Period, Scope, figures, middle, percentile
from tests.fixtures.report_year import AS_OF, SECRETS, YEAR, build_year
from web.report import tables as t
from web.report.annual import prepare, render, shown
from web.report.disclosure import Rule, suppress

CALENDAR = WorkCalendar.build()
RULE = Rule(threshold=10, min_denominator=20)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        build_year(session)
        session.commit()
        yield session


@pytest.fixture
def year(session: Session) -> Figures:
    return figures(session, CALENDAR, Period.year(YEAR, AS_OF), with_previous=True)


def test_counts_by_channel_category_department_month_status(year: Figures) -> None:
    assert year.total == 54  # the merged duplicate and the 2024/2026 cases left out
    assert year.by_channel == {"email": 36, "hotline": 12, "web": 4, "letter": 2}
    assert year.by_category == {"assistance_project": 36, "staff_conduct": 16, "": 2}
    assert year.by_department == {"projects": 36, "service": 16, "": 2}
    assert year.by_month == {1: 0, 2: 0, 3: 30, 4: 0, 5: 0, 6: 12, 7: 2, 8: 1, 9: 0,
                             10: 5, 11: 0, 12: 4}
    assert year.by_status == {"closed": 31, "resolved": 15, "investigating": 4,
                              "referred": 2, "rejected": 2}


def test_deadlines_on_time_late_held_and_pending(year: Figures) -> None:
    assert year.acknowledgement == OnTime(on_time=40, late=12, pending=0, no_deadline=2,
                                          held=0)
    assert year.resolution == OnTime(on_time=31, late=17, pending=4, no_deadline=2, held=5)


def test_working_days_to_resolution(year: Figures) -> None:
    # A: 3→10 March; B: 3→20 June; C: 9 October→3 November (11 October a make-up working
    # day, 1–8 October the National Day holiday); F: 4→29 August.
    assert sorted(year.resolution_days) == [5] * 30 + [13] * 12 + [18] * 3 + [19]
    assert middle(year.resolution_days) == 5.0
    assert percentile(year.resolution_days, 0.9) == 13.0  # the 42nd of 46


def test_extensions_referrals_satisfaction_reopened(year: Figures) -> None:
    assert year.extended_cases == 1
    assert year.extension_reasons == {"需等待医院出具证明": 1}
    labour = year.referrals["civil_affairs"]
    assert (labour.referred, labour.answered, labour.overdue) == (5, 3, 5)
    assert labour.answer_days == (16, 16, 16)
    # One answer per case (the survey's unique index since issue 15): three "dissatisfied".
    assert year.satisfaction == {"assistance_project": {5: 20, 4: 10, 3: 0, 2: 0, 1: 0},
                                 "staff_conduct": {5: 0, 4: 0, 3: 0, 2: 3, 1: 0}}
    assert year.reopened == 3
    assert year.overdue_open == 2


def test_violations_of_the_year(year: Figures) -> None:
    rows = year.violations
    assert len(rows) == 16  # 12 + 1 + 3; the one recorded in 2026 is next year's
    assert sorted({(v.clause, v.tier) for v in rows}) == [
        ("七(一)", "诫勉谈话并道歉"), ("七(二)", "批评教育"), ("七(二)", "效能告诫")]
    assert sum(v.compensation for v in rows) == Decimal("350.00")
    assert sum(v.paid for v in rows) == Decimal("200.00")
    assert sum(v.sanction_applied for v in rows) == 9
    assert {v.department for v in rows} == {"service", "projects"}


def test_previous_year_and_scope(session: Session, year: Figures) -> None:
    assert year.previous is not None
    assert year.previous.total == 5
    assert year.previous.resolution.on_time == 3
    period = Period.year(YEAR, AS_OF)
    service = figures(session, CALENDAR, period, Scope(department="service"))
    assert service.total == 16
    assert len(service.violations) == 13
    project = figures(session, CALENDAR, period, Scope(category="assistance_project"))
    assert project.total == 36
    assert project.resolution == OnTime(on_time=31, late=5, pending=0, no_deadline=0, held=5)


# -- the public edition ------------------------------------------------------------------


def public(year: Figures) -> dict[str, t.Table]:
    report = prepare(year, t.Names("zh"), "public", RULE)
    return {table.key: table for table in report.tables}


def cells(table: t.Table) -> dict[str, str]:
    """Every row's cells as the reader sees them, by row label."""
    return {row.label.strip("　"): " | ".join(shown(c, RULE) for c in table.values(row))
            for row in table.rows}


def test_primary_and_secondary_suppression_in_one_way_tables(year: Figures) -> None:
    tables = public(year)
    assert cells(tables["by_channel"]) == {
        "邮件": "36 | 66.7%", "热线": "12 | 22.2%", "网页": "<10 | —", "来信": "<10 | —",
        "合计": "54 | "}
    # "未分类" is 2: hidden; alone it would be 54 − 36 − 16, so 16 hides with it.
    assert cells(tables["by_category"]) == {
        "assistance_project": "36 | 66.7%", "staff_conduct": "<10 | —", "未分类": "<10 | —",
        "合计": "54 | "}
    assert cells(tables["resolution_days"])["11–15"] == "<10 | —"  # 12, hidden beside 4
    assert cells(tables["resolution_days"])["中位数（工作日）"] == "5.0 | "
    assert cells(tables["satisfaction"])["满意"] == "<10 | —"  # 10, hidden beside 3


def test_rates_only_over_the_minimum_and_shown_counts(year: Figures) -> None:
    tables = public(year)
    ack = cells(tables["acknowledgement"])
    # no_deadline (2) is hidden, so late (12) hides with it, and then the rate.
    assert (ack["按时"], ack["超时"], ack["未计时"], ack["按时率"]) == ("40", "<10", "<10", "—")
    res = cells(tables["resolution"])
    assert res["按时率"] == "64.6%"  # 31 of 48, both shown
    # held (5) hidden: late (17) would give it away through "late (ours)" (12).
    assert (res["超时"], res["超时（本机构）"], res["超时（行政机关未按时答复）"]) == (
        "17", "<10", "<10")
    referral = cells(tables["referrals"])["civil_affairs"]
    assert referral == "<10 | <10 | — | <10"  # the median of 3 answers: under 20


def test_two_way_table_and_mean(year: Figures) -> None:
    table = cells(public(year)["satisfaction_by_category"])
    # staff_conduct's 3 hides its row total; then assistance_project's row total (30) would
    # give it away from the grand total, then that row's "satisfied" (10), then the column's
    # total.
    assert table["assistance_project"] == "20 | <10 | 0 | 0 | 0 | <10 | —"
    assert table["staff_conduct"] == "0 | 0 | 0 | <10 | 0 | <10 | —"
    assert table["合计"] == "20 | <10 | 0 | <10 | 0 | 33 | "


def test_money_and_violations_disclosed_without_names(year: Figures) -> None:
    tables = public(year)
    assert cells(tables["compensation"]) == {"应赔偿（元）": "—", "已赔偿（元）": "—"}
    assert "violation_register" not in tables
    listed = cells(tables["violations"])
    assert listed["合计"] == " |  |  | 16"
    assert cells(tables["violations_by_clause"]) == {
        "七(一)": "<10 | —", "七(二)": "<10 | —", "合计": "16 | "}


def test_comparison_rates_hide_as_in_their_own_tables(year: Figures) -> None:
    table = cells(public(year)["comparison"])
    assert table["案件数"] == "54 | <10"
    assert table["按时受理（回执）（按时率）"] == "— | —"  # hidden in this year's own table
    assert table["按时办结（按时率）"] == "64.6% | —"  # last year: 3 cases, under 20


def test_internal_edition_shows_everything(year: Figures) -> None:
    report = prepare(year, t.Names("zh"), "internal", RULE)
    tables = {table.key: table for table in report.tables}
    assert not any(c.hidden for table in report.tables for c in table.cells.values())
    assert cells(tables["acknowledgement"])["按时率"] == "76.9%"
    register = tables["violation_register"]
    assert len(register.rows) == 16
    assert "staff-wangfang" in render(report, "上海生命绿洲公益服务中心")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_edition_names_no_one(year: Figures, lang: str) -> None:
    html = render(prepare(year, t.Names(lang), "public", RULE), "上海生命绿洲公益服务中心")
    for secret in SECRETS:
        assert secret not in html
    assert "<script" not in html.lower()
    assert "&lt;10" in html  # the rule is applied and stated
    assert ("Public edition" if lang == "en" else "公开版") in html


def test_charts_are_svg_with_text_as_text(year: Figures) -> None:
    html = render(prepare(year, t.Names("zh"), "public", RULE), "机构")
    assert html.count("<svg") == 5
    assert "邮件" in html.split('<section id="by_channel">')[1].split("</figure>")[0]


def test_secondary_suppression_reaches_a_fixed_point() -> None:
    table = t.Table("x", "x", [])
    parts = [table.add(f"p{i}", t.Cell(n)) for i, n in enumerate((3, 0, 40, 25))]
    table.groups.append((tuple(parts), table.add("total", t.Cell(68))))
    suppress(table, RULE)
    assert [table.cells[k].hidden for k in [*parts, "total"]] == [True, False, False, True,
                                                                  False]


def test_a_rule_needs_positive_numbers() -> None:
    with pytest.raises(ValueError):
        Rule(threshold=0)


def test_period_of_a_year_not_over() -> None:
    period = Period.year(2026, date(2026, 3, 1))
    assert (period.start, period.end, period.as_of) == (date(2026, 1, 1), date(2027, 1, 1),
                                                       date(2026, 3, 1))
