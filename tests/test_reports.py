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
from tests.fixtures.report_year import (
    AS_OF,
    COMMENTS,
    SECRETS,
    VISITOR_NAMED,
    YEAR,
    build_year,
)
from web.report import tables as t
from web.report.annual import prepare, render, shown
from web.report.disclosure import Rule, suppress, suppress_all

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


def test_problem_solved_by_answer_and_category(year: Figures) -> None:
    # The same answers as satisfaction (one per case); by mail: "not asked".
    assert year.solved == {
        "assistance_project": {"yes": 12, "partly": 5, "no": 3, "not_asked": 10},
        "staff_conduct": {"yes": 0, "partly": 0, "no": 3, "not_asked": 0}}
    assert year.solved_answers() == {"yes": 12, "partly": 5, "no": 6, "not_asked": 10}


def test_activity_feedback_by_event_and_last_year(year: Figures) -> None:
    # "社区  义诊" is 社区义诊; 23:00 on 31 December counts, 00:00 on 1 January does not.
    assert year.activities == {
        "助学金发放仪式": {5: 12, 4: 8, 3: 4, 2: 0, 1: 0},
        "社区义诊": {5: 5, 4: 3, 3: 0, 2: 3, 1: 0},
        VISITOR_NAMED: {5: 0, 4: 0, 3: 0, 2: 1, 1: 1}}
    assert year.activity_levels() == {5: 17, 4: 11, 3: 4, 2: 4, 1: 1}
    assert year.previous is not None
    assert year.previous.activities == {"社区义诊": {5: 0, 4: 6, 3: 0, 2: 0, 1: 0},
                                        "新春慰问": {5: 3, 4: 0, 3: 0, 2: 0, 1: 0}}


def test_activity_feedback_belongs_to_no_department(session: Session) -> None:
    service = figures(session, CALENDAR, Period.year(YEAR, AS_OF), Scope(department="service"),
                      with_previous=True)
    assert service.activities == {}
    tables = {table.key: table for table in t.build(service, t.Names("zh"), "internal")}
    assert "activities" not in tables
    assert "活动意见函（份）" not in cells(tables["comparison"])
    assert cells(tables["solved_by_category"])["staff_conduct"] == "0 | 0 | 3 | 3 | 0 | 3 | 0.0%"


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


def test_internal_edition_counts_solved_and_activity_feedback(year: Figures) -> None:
    report = prepare(year, t.Names("zh"), "internal", RULE)
    tables = {table.key: table for table in report.tables}
    assert cells(tables["solved"]) == {
        "已解决": "12 | 52.2%", "部分解决": "5 | 21.7%", "未解决": "6 | 26.1%",
        "作答合计": "23 | ", "未问及（邮件回复）": "10 | ", "回访合计": "33 | "}
    assert cells(tables["solved_by_category"]) == {
        "assistance_project": "12 | 5 | 3 | 20 | 10 | 30 | 60.0%",
        "staff_conduct": "0 | 0 | 3 | 3 | 0 | 3 | 0.0%",
        "合计": "12 | 5 | 6 | 23 | 10 | 33 | 52.2%"}
    # Last year's columns: the events of either year; the mean of 5.
    assert cells(tables["activities"]) == {
        "助学金发放仪式": "12 | 8 | 4 | 0 | 0 | 24 | 4.3 | 0 | —",
        "社区义诊": "5 | 3 | 0 | 3 | 0 | 11 | 3.9 | 6 | 4.0",
        VISITOR_NAMED: "0 | 0 | 0 | 1 | 1 | 2 | 1.5 | 0 | —",
        "新春慰问": "0 | 0 | 0 | 0 | 0 | 0 | — | 3 | 5.0",
        "合计": "17 | 11 | 4 | 4 | 1 | 37 | 4.1 | 9 | 4.3"}
    comparison = cells(tables["comparison"])
    assert comparison["问题已解决（占作答）"] == "52.2% | —"  # no survey last year
    assert (comparison["活动意见函（份）"], comparison["活动意见函平均分"]) == ("37 | 9",
                                                                          "4.1 | 4.3")
    html = render(report, "机构")
    assert VISITOR_NAMED in html  # the board sees every event as typed ...
    assert not [c for c in COMMENTS if c in html]  # ... but no comment: no edition has them


def test_public_solved_hides_what_the_survey_total_gives_away(year: Figures) -> None:
    tables = public(year)
    # 10 not asked is no small count, but the staff_conduct row (3) hides, its column's
    # totals with it, and then "not asked" (33 shown − 23 answered would give it away).
    assert cells(tables["solved"]) == {
        "已解决": "12 | —", "部分解决": "<10 | —", "未解决": "<10 | —", "作答合计": "<10 | ",
        "未问及（邮件回复）": "<10 | ", "回访合计": "33 | "}
    assert cells(tables["solved_by_category"]) == {
        "assistance_project": "12 | <10 | <10 | <10 | <10 | <10 | —",
        "staff_conduct": "0 | 0 | <10 | <10 | 0 | <10 | —",
        "合计": "12 | <10 | <10 | <10 | <10 | 33 | —"}
    # A category's answers are one cell in both tables: hidden in both; and every survey
    # answer is one cell in the three tables that show it.
    assert cells(tables["satisfaction_by_category"])["assistance_project"].endswith("<10 | —")
    assert (tables["satisfaction"].cells["total"] is tables["satisfaction_by_category"].cells["t"]
            is tables["solved"].cells["total"])
    assert cells(tables["comparison"])["问题已解决（占作答）"] == "— | —"


def test_public_solved_share_shown_over_the_minimum(session: Session) -> None:
    scoped = figures(session, CALENDAR, Period.year(YEAR, AS_OF),
                     Scope(category="assistance_project"), with_previous=True)
    tables = public(scoped)
    assert cells(tables["solved"]) == {
        "已解决": "12 | 60.0%", "部分解决": "<10 | —", "未解决": "<10 | —",
        "作答合计": "20 | ", "未问及（邮件回复）": "10 | ", "回访合计": "30 | "}
    assert cells(tables["comparison"])["问题已解决（占作答）"] == "60.0% | —"


def test_public_activity_feedback_pooled_and_suppressed(year: Figures) -> None:
    tables = public(year)
    # Events on fewer than 10 forms (this year's and last year's) are pooled unnamed; 社区义诊
    # (11) hides because 24 + 11 + the pooled 2 would give the pooled 2 away; 12 hides beside
    # 社区义诊's 5 in the "very satisfied" column; means only beside counts shown.
    assert cells(tables["activities"]) == {
        "助学金发放仪式": "<10 | <10 | <10 | 0 | 0 | 24 | — | 0 | —",
        "社区义诊": "<10 | <10 | 0 | <10 | 0 | <10 | — | <10 | —",
        "其他活动（每项不足10份，合并）": "0 | 0 | 0 | <10 | <10 | <10 | — | <10 | —",
        "合计": "17 | 11 | <10 | <10 | <10 | 37 | — | <10 | —"}
    comparison = cells(tables["comparison"])
    assert (comparison["活动意见函（份）"], comparison["活动意见函平均分"]) == ("37 | <10",
                                                                          "— | —")


def test_public_activity_means_shown_beside_shown_counts(year: Figures) -> None:
    rule = Rule(threshold=1, min_denominator=20)  # no count hidden: the means' own rule
    report = prepare(year, t.Names("zh"), "public", rule)
    table = {tb.key: tb for tb in report.tables}["activities"]
    rows = {row.label: " | ".join(shown(c, rule) for c in table.values(row))
            for row in table.rows}
    assert rows["助学金发放仪式"] == "12 | 8 | 4 | 0 | 0 | 24 | 4.3 | 0 | —"
    assert rows["社区义诊"] == "5 | 3 | 0 | 3 | 0 | 11 | — | 6 | —"  # 11, 6: under 20
    assert rows["合计"] == "17 | 11 | 4 | 4 | 1 | 37 | 4.1 | 9 | —"
    # Named on fewer than 1 form this year: only last year's 新春慰问, unnamed.
    assert rows["其他活动（每项不足1份，合并）"] == "0 | 0 | 0 | 0 | 0 | 0 | — | 3 | —"


def test_a_cell_two_tables_share_hides_in_both() -> None:
    first, second = t.Table("a", "a", []), t.Table("b", "b", [])
    shared = t.Cell(40)
    first.groups.append(((first.add("p", t.Cell(3)), first.add("q", shared)),
                         first.add("total", t.Cell(43))))
    second.groups.append(((second.add("q", shared), second.add("r", t.Cell(50))),
                          second.add("total", t.Cell(90))))
    suppress_all([second, first], RULE)  # the second table is judged first: a round more
    assert [first.cells[k].hidden for k in ("p", "q", "total")] == [True, True, False]
    assert [second.cells[k].hidden for k in ("q", "r", "total")] == [True, True, False]


@pytest.mark.parametrize("edition", ["public", "supervisor"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_comment_and_no_typed_name_outside_the_internal_edition(
        year: Figures, edition: t.Edition, lang: str) -> None:
    html = render(prepare(year, t.Names(lang), edition, RULE), "机构")
    assert not [s for s in (*COMMENTS, VISITOR_NAMED) if s in html]
    assert "助学金发放仪式" in html


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
    assert html.count("<svg") == 6
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
