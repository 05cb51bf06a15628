"""The working-day calendar: official 2026 days, the Civil Code count, config years, fallbacks.

Pure: no database, no clock. Dates in comments name the weekday because that is what the
assertions turn on.
"""

from __future__ import annotations

import logging
import sys
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest

from casework.calendar import (
    CalendarWarning,
    WorkCalendar,
    YearData,
    chinese_calendar_years,
    years_from_config,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "calendar-2027.example.toml"

# A made-up 2027 for tests only, NOT the official arrangement: 1 January (a Friday) off.
TEST_2027 = YearData(2027, frozenset({date(2027, 1, 1)}), frozenset(), "config")


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.build()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- agreement with chinese_calendar ---------------------------------------------------------


def test_every_day_chinese_calendar_knows_agrees_with_it(cal: WorkCalendar) -> None:
    first, last = cal.years()[0], cal.years()[-1]
    assert (first, last) == (2004, 2026)
    for day in _days(date(first, 1, 1), date(last, 12, 31)):
        assert cal.is_working_day(day) == chinese_calendar.is_workday(day), day
    assert cal.fallback_years_used == frozenset()


def test_years_are_read_from_chinese_calendar_and_labelled() -> None:
    years = chinese_calendar_years()
    assert years[2026].source == "chinese-calendar"
    assert date(2026, 10, 10) in years[2026].workdays
    assert date(2026, 10, 1) in years[2026].holidays


# --- 2026: National Day and Spring Festival with their make-up days ------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 20), True),  # Sunday, make-up day for National Day
        (date(2026, 10, 1), False),  # Thursday, National Day
        (date(2026, 10, 7), False),  # Wednesday, last day off
        (date(2026, 10, 8), True),  # Thursday
        (date(2026, 10, 10), True),  # Saturday, make-up day
        (date(2026, 10, 11), False),  # Sunday
        (date(2026, 2, 14), True),  # Saturday, make-up day for Spring Festival
        (date(2026, 2, 16), False),  # Monday, Spring Festival
        (date(2026, 2, 23), False),  # Monday, last day off
        (date(2026, 2, 28), True),  # Saturday, make-up day
        (date(2026, 3, 1), False),  # Sunday
    ],
)
def test_2026_official_days(cal: WorkCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Fri → the make-up Sunday
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # Wed → over the whole holiday
        (date(2026, 9, 30), 3, date(2026, 10, 10)),  # … to the make-up Saturday
        (date(2026, 9, 30), 4, date(2026, 10, 12)),  # … then past the Sunday
        (date(2026, 10, 3), 1, date(2026, 10, 8)),  # received during the holiday
        (date(2026, 9, 25), 15, date(2026, 10, 22)),  # a 15-day limit over it all
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Fri → the make-up Saturday
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # over Spring Festival
        (date(2026, 2, 27), 1, date(2026, 2, 28)),  # Fri → the make-up Saturday
        (date(2026, 2, 12), 5, date(2026, 2, 26)),  # 13, 14, 24, 25, 26
    ],
)
def test_add_working_days_over_2026_holidays(
    cal: WorkCalendar, start: date, n: int, due: date
) -> None:
    assert cal.add_working_days(start, n) == due


# --- the Civil Code count (第201条, 第203条) ---------------------------------------------------


def test_day_of_receipt_does_not_count(cal: WorkCalendar) -> None:
    assert cal.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Fri → Mon
    assert cal.add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # Sat → Mon
    assert cal.add_working_days(date(2026, 3, 9), 1) == date(2026, 3, 10)  # Mon → Tue


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (date(2026, 9, 26), 5, date(2026, 10, 8)),  # lands on 1 Oct, holiday → 8 Oct
        (date(2026, 2, 6), 10, date(2026, 2, 24)),  # lands on 16 Feb, Spring Festival
        (date(2026, 3, 2), 6, date(2026, 3, 9)),  # lands on Sunday 8 Mar → Monday
        (date(2026, 10, 3), 7, date(2026, 10, 10)),  # lands on the make-up Saturday: stays
        (date(2026, 3, 2), 3, date(2026, 3, 5)),  # lands on a Thursday: stays
    ],
)
def test_calendar_days_ending_on_a_rest_day_move_to_the_next_working_day(
    cal: WorkCalendar, start: date, n: int, due: date
) -> None:
    assert cal.add_calendar_days(start, n) == due


@pytest.mark.parametrize("n", [0, -1])
def test_a_period_must_be_at_least_one_day(cal: WorkCalendar, n: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_working_days(date(2026, 3, 6), n)
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_calendar_days(date(2026, 3, 6), n)


def test_a_datetime_is_refused_because_it_never_equals_a_date(cal: WorkCalendar) -> None:
    with pytest.raises(TypeError, match="date"):
        cal.is_working_day(datetime(2026, 10, 1, 9, 0))
    with pytest.raises(TypeError, match="date"):
        cal.add_working_days(datetime(2026, 9, 30, 9, 0), 1)


def test_working_days_between(cal: WorkCalendar) -> None:
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert cal.working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
    assert cal.working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert cal.working_days_between(date(2026, 3, 6), date(2026, 3, 6)) == 0


def test_working_days_between_inverts_add_working_days(cal: WorkCalendar) -> None:
    for start in _days(date(2026, 1, 1), date(2026, 12, 31)):
        for n in (1, 2, 5, 15):
            due = cal.add_working_days(start, n)
            assert cal.working_days_between(start, due) == n, (start, n)


# --- across the end of the data: December 2026 into 2027 ----------------------------------


def test_december_receipt_into_2027_counts_weekends_only_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cal = WorkCalendar.build()
    with caplog.at_level(logging.WARNING, logger="complaintd.calendar"):
        assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)  # Thu → Fri
        assert cal.add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 4)
    assert cal.fallback_years_used == frozenset({2027})
    assert not cal.covers(2027)
    warnings = [r for r in caplog.records if r.name == "complaintd.calendar"]
    assert len(warnings) == 1
    assert "2027" in warnings[0].getMessage()
    assert warnings[0].levelno == logging.WARNING


def test_december_receipt_into_a_config_year_uses_that_year() -> None:
    cal = WorkCalendar.build({2027: TEST_2027})
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)  # Fri 1 Jan off
    assert cal.covers(2027)
    assert cal.fallback_years_used == frozenset()
    assert cal.years()[-1] == 2027


def test_config_year_replaces_chinese_calendars_year() -> None:
    # A made-up correction: 2026 with National Day only, no make-up days.
    only_oct_1 = YearData(2026, frozenset({date(2026, 10, 1)}), frozenset(), "config")
    cal = WorkCalendar.build({2026: only_oct_1})
    assert cal.year_data(2026).source == "config"
    assert cal.is_working_day(date(2026, 10, 2))
    assert not cal.is_working_day(date(2026, 10, 10))


def test_a_notice_may_put_a_make_up_day_in_the_december_before() -> None:
    # Made up, as the 2012 notice did with 2011-12-31: the 2027 notice names Sat 26 Dec 2026.
    with_december = YearData(2027, TEST_2027.holidays, frozenset({date(2026, 12, 26)}), "config")
    cal = WorkCalendar.build({2027: with_december})
    assert cal.is_working_day(date(2026, 12, 26))
    assert cal.add_working_days(date(2026, 12, 25), 1) == date(2026, 12, 26)


def test_uncovered_years(cal: WorkCalendar) -> None:
    dates = [date(2026, 12, 31), date(2027, 1, 4), date(2028, 3, 1), date(2027, 6, 1)]
    assert cal.uncovered_years(dates) == [2027, 2028]


# --- operator warnings -----------------------------------------------------------------------


def test_november_without_next_year_warns_in_both_languages(cal: WorkCalendar) -> None:
    warnings = cal.check(date(2026, 11, 1))
    assert [w.code for w in warnings] == ["calendar-next-year-missing"]
    (warning,) = warnings
    assert isinstance(warning, CalendarWarning)
    assert "2027" in warning.zh and "国务院办公厅" in warning.zh
    assert "2027" in warning.en and "State Council" in warning.en
    assert '[calendar.years."2027"]' in warning.en


def test_no_next_year_warning_before_november(cal: WorkCalendar) -> None:
    assert cal.check(date(2026, 10, 31)) == []


def test_november_with_next_year_has_no_warning() -> None:
    cal = WorkCalendar.build({2027: TEST_2027})
    assert cal.check(date(2026, 11, 24)) == []
    assert cal.check(date(2026, 12, 31)) == []


def test_current_year_without_data_warns_all_year(cal: WorkCalendar) -> None:
    assert [w.code for w in cal.check(date(2027, 3, 1))] == ["calendar-year-uncovered"]
    codes = [w.code for w in cal.check(date(2027, 11, 2))]
    assert codes == ["calendar-year-uncovered", "calendar-next-year-missing"]


# --- fallbacks -------------------------------------------------------------------------------


def test_unknown_fallback_is_refused() -> None:
    with pytest.raises(ValueError, match="fallback"):
        WorkCalendar.build(fallback="guess")


def test_holidays_package_fallback_knows_the_festivals() -> None:
    pytest.importorskip("holidays")
    cal = WorkCalendar.build(fallback="holidays-package")
    assert not cal.is_working_day(date(2027, 1, 1))  # New Year's Day, a Friday
    assert not cal.is_working_day(date(2027, 10, 1))  # National Day, a Friday
    assert cal.year_data(2027).source == "holidays-package"
    assert not cal.covers(2027)
    assert cal.fallback_years_used == frozenset({2027})
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_holidays_package_missing_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "holidays", None)  # what an uninstalled package looks like
    with pytest.raises(ImportError, match="'holidays' package"):
        WorkCalendar.build(fallback="holidays-package")


# --- the config form -------------------------------------------------------------------------


def test_years_from_config_reads_dates_and_ranges() -> None:
    years = years_from_config({
        "2027": {
            "holidays": ["2027-01-01", "2027-02-05..2027-02-07", date(2027, 10, 1)],
            "workdays": ["2027-02-13"],
        }
    })
    data = years[2027]
    assert data.holidays == {date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 6),
                             date(2027, 2, 7), date(2027, 10, 1)}
    assert data.workdays == {date(2027, 2, 13)}
    assert data.source == "config"


def test_workdays_default_to_none() -> None:
    assert years_from_config({"2027": {"holidays": ["2027-01-01"]}})[2027].workdays == set()


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"holidays": ["2027-02-30"]}, ["holidays", "2027-02-30"]),  # no such day
        ({"holidays": ["2027/01/01"]}, ["holidays", "2027/01/01"]),  # not ISO
        ({"holidays": ["20270101"]}, ["holidays", "20270101"]),  # ISO, but not YYYY-MM-DD
        ({"holidays": [20270101]}, ["holidays", "20270101"]),  # not a string
        ({"holidays": ["2026-12-31"]}, ["holidays", "2026-12-31", "not in 2027"]),
        ({"holidays": ["2027-12-31..2028-01-02"]}, ["holidays", "2028-01-02"]),
        ({"holidays": ["2027-01-01"], "workdays": ["2028-01-02"]}, ["workdays", "2028-01-02"]),
        ({"holidays": ["2027-02-07..2027-02-05"]}, ["holidays", "ends before"]),
        ({"holidays": ["2027-02-05..2027-02-07..2027-02-09"]}, ["holidays", "one '..'"]),
        ({"holidays": ["2027-02-05.."]}, ["holidays", "2027-02-05.."]),
        ({"holidays": ["2027-01-01..2027-12-31"]}, ["holidays", "longer than"]),
        ({"holidays": "2027-01-01"}, ["holidays", "list"]),
        ({"holidays": ["2027-02-06"], "workdays": ["2027-02-06"]}, ["2027-02-06", "both"]),
        ({"holidays": ["2027-01-01"], "workdays": ["2027-02-10"]}, ["workdays", "Wednesday"]),
        ({"holidays": ["2027-01-01"], "workday": ["2027-02-13"]}, ["workday", "unknown"]),
        ({"workdays": ["2027-02-13"]}, ["holidays", "missing"]),
    ],
)
def test_config_errors_name_year_key_and_value(body: dict[str, Any], names: list[str]) -> None:
    with pytest.raises(ValueError) as caught:
        years_from_config({"2027": body})
    message = str(caught.value)
    assert "2027" in message
    for name in names:
        assert name in message


@pytest.mark.parametrize("table", [{"next": {"holidays": []}}, {"2027": ["2027-01-01"]}])
def test_config_errors_in_the_shape(table: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"calendar\.years"):
        years_from_config(table)


def test_year_data_refuses_dates_of_another_year() -> None:
    with pytest.raises(ValueError, match="outside 2027"):
        YearData(2027, frozenset({date(2026, 12, 31)}), frozenset(), "test")
    with pytest.raises(ValueError, match="both"):
        YearData(2027, frozenset({date(2027, 2, 6)}), frozenset({date(2027, 2, 6)}), "test")


def test_example_config_has_no_active_data_and_its_2026_sample_is_official() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert tomllib.loads(text) == {}  # all commented: copying it in changes nothing
    sample = text.split("# --- example 2026 ---\n")[1].split("# --- end of example ---")[0]
    uncommented = "\n".join(line.removeprefix("#").removeprefix(" ") for line in
                            sample.splitlines())
    years = years_from_config(tomllib.loads(uncommented)["calendar"]["years"])
    official = chinese_calendar_years()[2026]
    assert years[2026].holidays == official.holidays
    assert years[2026].workdays == official.workdays
