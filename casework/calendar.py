"""The working-day calendar (Asia/Shanghai) that every deadline is counted in.

The calendar is *data*, one ``YearData`` per year, because no library knows the future:
the State Council publishes each year's arrangement (国务院办公厅关于某年部分节假日安排的
通知) in the November before, and ``chinese_calendar`` 1.11 stops at 2026 while a case
received in December 2026 already has deadlines in 2027.

Sources, later ones winning for the same year:

1. ``chinese_calendar``'s own tables, every year it knows (read once, never per day);
2. the config, ``[calendar.years."2027"]`` tables parsed by ``years_from_config``: how an
   operator adds a new year's notice (or corrects one) without waiting for a release.

A year in neither is counted by the *fallback* and is not ``covers()``-ed; the first
computation in such a year logs one WARNING on ``complaintd.calendar`` and the year is
listed in ``fallback_years_used``:

- ``"weekends"`` (default): Monday to Friday work, nothing else. Predictable and needs no
  extra package; it counts public holidays as working days, so deadlines usually come out
  *earlier* than the official ones, the safe side for a promise to finish in time.
- ``"holidays-package"``: the optional ``holidays`` package's estimate (``holidays.China``):
  the statutory festivals with lunar dates and weekend-to-Monday substitutes, but for a
  year without a published notice no bridging days off and no make-up working days, so
  it can also come out *later* than the official deadline. Missing package: ImportError
  at ``build()``, naming the package.

Counting follows the Civil Code (民法典): the day of receipt does not count and the
period starts the next day (第201条); a period whose last day is a rest day ends on the
next working day (第203条). Pass Shanghai dates (``clock.local_date(t).date()``): a
``datetime`` is refused, because ``datetime == date`` is always False and would silently
miss every holiday.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

import chinese_calendar

log = logging.getLogger("complaintd.calendar")

FALLBACKS: Final = ("weekends", "holidays-package")
SOURCE_CHINESE_CALENDAR: Final = "chinese-calendar"
SOURCE_CONFIG: Final = "config"
# No official block so far is longer than 10 days (2020); a longer range is a typo.
MAX_RANGE_DAYS: Final = 31
NOTICE_MONTH: Final = 11

_ONE_DAY: Final = timedelta(days=1)
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_FALLBACK_ZH: Final = {
    "weekends": "仅按周末（周一至周五为工作日，不含法定节假日和调休）",
    "holidays-package": "holidays 软件包推算（不含调休上班日）",
}


@dataclass(frozen=True)
class YearData:
    """One year's official days off and make-up working days (调休).

    Days in neither set follow the week: Monday to Friday work. ``workdays`` may also hold
    days of the December before ``year``: the notices for 2002, 2006, 2007 and 2012 put
    make-up days there.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str

    def __post_init__(self) -> None:
        for day in sorted(self.holidays | self.workdays):
            _refuse_datetime(day)
        stray = [d for d in self.holidays if d.year != self.year]
        stray += [d for d in self.workdays if not _in_notice_span(d, self.year)]
        if stray:
            raise ValueError(f"{self.year}: {min(stray).isoformat()} lies outside {self.year}")
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"{self.year}: {min(both).isoformat()} is both holiday and workday")

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() < 5


@dataclass(frozen=True)
class CalendarWarning:
    """Something an operator must fix in the calendar data, in Chinese and English."""

    code: str
    zh: str
    en: str
    year: int = 0  # the year whose data is missing
    # Where the operator adds it, written literally (no markup: Rich would eat the brackets).
    key: str = ""


class WorkCalendar:
    """Working days from per-year data, with a fallback for years the data lacks."""

    def __init__(self, data: Mapping[int, YearData], fallback: str = "weekends") -> None:
        if fallback not in FALLBACKS:
            raise ValueError(f"calendar fallback {fallback!r}: use one of {FALLBACKS}")
        if fallback == "holidays-package":
            _import_holidays_package()  # fail at start-up, not at the first deadline
        for year, year_data in data.items():
            if year_data.year != year:
                raise ValueError(f"calendar data for {year} is labelled {year_data.year}")
        self._data = dict(data)
        self._fallback = fallback
        self._estimates: dict[int, YearData] = {}
        # A later notice's make-up day in December wins over the earlier year's data.
        self._early_workdays = frozenset(
            d for y in self._data.values() for d in y.workdays if d.year != y.year
        )
        # The data never changes after this: a deadline counted once is kept (a call
        # log's cases share a few receipt days and limits, each counted day by day).
        self._added: dict[tuple[date, int], date] = {}

    @classmethod
    def build(
        cls, extra: Mapping[int, YearData] | None = None, fallback: str = "weekends"
    ) -> WorkCalendar:
        """``chinese_calendar``'s years, replaced or extended year by year by ``extra``.

        The installed ``chinese_calendar`` is asked first, so a newer release that knows
        next year is used without any config; a year given in the config too is taken
        from the config (an operator's correction), and a difference is logged.
        """
        known = chinese_calendar_years()
        for year, data in (extra or {}).items():
            package = known.get(year)
            if package is not None and (package.holidays, package.workdays) != \
                    (data.holidays, data.workdays):
                log.warning("calendar: the config's %d differs from chinese_calendar's; "
                            "the config's is used", year)
        return cls({**known, **(extra or {})}, fallback)

    def source_of(self, year: int) -> str:
        """Where ``year``'s days come from: "chinese-calendar", "config" or "fallback"."""
        known = self._data.get(year)
        return known.source if known is not None else "fallback"

    @property
    def fallback(self) -> str:
        return self._fallback

    @property
    def fallback_years_used(self) -> frozenset[int]:
        """Years some computation counted by the fallback since this calendar was built."""
        return frozenset(self._estimates)

    def covers(self, year: int) -> bool:
        return year in self._data

    def years(self) -> list[int]:
        return sorted(self._data)

    def uncovered_years(self, dates: Iterable[date]) -> list[int]:
        return sorted({d.year for d in dates if not self.covers(d.year)})

    def year_data(self, year: int) -> YearData:
        """The data for ``year``, or the fallback's estimate (logged once per year)."""
        known = self._data.get(year)
        if known is not None:
            return known
        if year not in self._estimates:
            self._estimates[year] = self._estimate(year)
            log.warning(
                "calendar: no holiday data for %d, counting it by the %r fallback; "
                'add the State Council notice under [calendar.years."%d"] in the config',
                year, self.fallback, year,
            )
        return self._estimates[year]

    def is_working_day(self, day: date) -> bool:
        _refuse_datetime(day)
        if day in self._early_workdays:
            return True
        return self.year_data(day.year).is_working_day(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; ``start`` itself never counts (第201条).

        ``n`` must be at least 1: a time limit of zero working days has no meaning here.
        """
        _require_positive(n)
        _refuse_datetime(start)
        found = self._added.get((start, n))
        if found is None:
            found = start
            for _ in range(n):
                found = self.next_working_day(found)
            if len(self._added) >= _ADDED_KEPT:
                self._added.clear()
            self._added[(start, n)] = found
        return found

    def add_calendar_days(self, start: date, n: int) -> date:
        """``start`` + ``n`` days, moved to the next working day if that is a rest day (第203条)."""
        _require_positive(n)
        _refuse_datetime(start)
        last = start + timedelta(days=n)
        return last if self.is_working_day(last) else self.next_working_day(last)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b``; negative when ``b < a``.

        ``working_days_between(today, due)`` is the days left, and minus the days overdue.
        """
        if b < a:
            return -self.working_days_between(b, a)
        return sum(1 for day in _days(a + _ONE_DAY, b) if self.is_working_day(day))

    def check(self, today: date) -> list[CalendarWarning]:
        """What operators must fix: this year without data, and from 1 November next year.

        Next year is not flagged before November: its notice does not exist yet, so a
        warning all year long would be noise nobody can act on.
        """
        warnings = []
        if not self.covers(today.year):
            warnings.append(_year_uncovered(today.year, self.fallback))
        if today.month >= NOTICE_MONTH and not self.covers(today.year + 1):
            warnings.append(_notice_due(today.year + 1, self.fallback))
        return warnings

    def _estimate(self, year: int) -> YearData:
        if self.fallback == "holidays-package":
            return holidays_package_year(year)
        return YearData(year, frozenset(), frozenset(), "weekends")


def chinese_calendar_years() -> dict[int, YearData]:
    """Every year ``chinese_calendar`` knows, read from its tables in one pass."""
    holidays = _by_year(chinese_calendar.holidays)
    workdays = _by_year(chinese_calendar.workdays)
    # Its own notion of "supported": from the first to the last year with holidays.
    known = range(min(holidays), max(holidays) + 1)
    return {
        y: YearData(y, holidays.get(y, frozenset()), workdays.get(y, frozenset()),
                    SOURCE_CHINESE_CALENDAR)
        for y in known
    }


def holidays_package_year(year: int) -> YearData:
    """The optional ``holidays`` package's estimate of ``year`` (make-up days if it has any)."""
    china = _import_holidays_package().China(years=year, categories=("public",))
    days_off = frozenset(d for d in china if d.year == year)
    makeup = frozenset(d for d in getattr(china, "weekend_workdays", ()) if d.year == year)
    return YearData(year, days_off, makeup - days_off, "holidays-package")


def years_from_config(table: Mapping[str, Any]) -> dict[int, YearData]:
    """Parse the ``[calendar.years]`` table: ``{"2027": {"holidays": [...], "workdays": [...]}}``.

    Entries are ``"YYYY-MM-DD"`` (or TOML dates) and inclusive ``"YYYY-MM-DD..YYYY-MM-DD"``
    ranges. ``workdays`` must be Saturdays or Sundays: a weekday there changes nothing and
    means a line was copied wrong, so it is refused rather than accepted silently.
    Errors are ``ValueError`` naming the year, key and value; the caller adds the file.
    """
    years = [_year_from_config(key, body) for key, body in table.items()]
    return {data.year: data for data in years}


def _year_from_config(key: object, body: object) -> YearData:
    year = _parse_year(key)
    where = f'calendar.years."{year}"'
    if not isinstance(body, Mapping):
        raise ValueError(f"{where}: expected a table with holidays and workdays, got {body!r}")
    unknown = sorted(set(body) - {"holidays", "workdays"})
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} (expected holidays, workdays)")
    if "holidays" not in body:
        raise ValueError(f"{where}.holidays: missing; copy the days off from the notice")
    holidays = _parse_days(year, "holidays", body["holidays"])
    workdays = _parse_days(year, "workdays", body.get("workdays", []))
    for day in sorted(workdays):
        if day.weekday() < 5:
            raise ValueError(f"{where}.workdays: bad value {day.isoformat()!r}: a "
                             f"{day:%A}, but make-up working days (调休) fall on weekends")
    both = holidays & workdays
    if both:
        raise ValueError(f"{where}: {min(both).isoformat()} is in both holidays and workdays")
    return YearData(year, holidays, workdays, SOURCE_CONFIG)


def _parse_year(key: object) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and re.fullmatch(r"\d{4}", key):
        return int(key)
    raise ValueError(f"calendar.years: bad year {key!r}; expected e.g. \"2027\"")


def _parse_days(year: int, key: str, entries: object) -> frozenset[date]:
    where = f'calendar.years."{year}".{key}'
    if not isinstance(entries, list):
        raise ValueError(f"{where}: expected a list of dates, got {entries!r}")
    days: set[date] = set()
    for entry in entries:
        try:
            days.update(_entry_days(entry, year, key))
        except ValueError as exc:
            raise ValueError(f"{where}: bad value {entry!r}: {exc}") from None
    return frozenset(days)


def _entry_days(entry: object, year: int, key: str) -> Iterator[date]:
    if isinstance(entry, date) and not isinstance(entry, datetime):
        first = last = entry
    elif isinstance(entry, str):
        first, last = _parse_range(entry)
    else:
        raise ValueError("expected 'YYYY-MM-DD' or 'YYYY-MM-DD..YYYY-MM-DD'")
    if last < first:
        raise ValueError("the range ends before it starts")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValueError(f"the range is longer than {MAX_RANGE_DAYS} days")
    in_span = _in_notice_span if key == "workdays" else _in_year
    for day in (first, last):
        if not in_span(day, year):
            raise ValueError(f"{day.isoformat()} is not in {year}")
    return _days(first, last)


def _parse_range(text: str) -> tuple[date, date]:
    parts = [_parse_iso(part.strip()) for part in text.split("..")]
    if len(parts) > 2:
        raise ValueError("a range has exactly one '..'")
    return parts[0], parts[-1]


def _parse_iso(text: str) -> date:
    # Strict: fromisoformat alone would also take "20270101" and week dates.
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a date written YYYY-MM-DD")
    return date.fromisoformat(text)


def _in_year(day: date, year: int) -> bool:
    return day.year == year


def _in_notice_span(day: date, year: int) -> bool:
    return day.year == year or (day.year == year - 1 and day.month == 12)


def _days(first: date, last: date) -> Iterator[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _by_year(table: Iterable[date]) -> dict[int, frozenset[date]]:
    grouped: dict[int, set[date]] = {}
    for day in table:
        grouped.setdefault(day.year, set()).add(day)
    return {year: frozenset(days) for year, days in grouped.items()}


_ADDED_KEPT = 4096  # deadlines kept per calendar; a day's intake asks for a handful


def _require_positive(n: int) -> None:
    if n < 1:
        raise ValueError(f"a period must be at least 1 day, got {n}")


def _refuse_datetime(day: date) -> None:
    if isinstance(day, datetime):
        raise TypeError("pass a Shanghai date, not a datetime: local_date(t).date()")


def _import_holidays_package() -> Any:
    try:
        return importlib.import_module("holidays")
    except ImportError as exc:
        raise ImportError(
            "calendar fallback 'holidays-package' needs the optional 'holidays' package "
            "(pip install holidays); install it or use fallback = \"weekends\""
        ) from exc


def _year_uncovered(year: int, fallback: str) -> CalendarWarning:
    return CalendarWarning(
        year=year, key=f'[calendar.years."{year}"]',
        code="calendar-year-uncovered",
        zh=(f"日历数据中没有{year}年的节假日安排，本年期限正按“{_FALLBACK_ZH[fallback]}”估算，"
            f"可能不准确。请按国务院办公厅通知在配置的 [calendar.years.\"{year}\"] 中补充。"),
        en=(f"The calendar has no holiday data for {year}; this year's deadlines are estimated "
            f"by the {fallback!r} fallback and may be wrong. Add the State Council notice "
            f"under [calendar.years.\"{year}\"] in the config."),
    )


def _notice_due(year: int, fallback: str) -> CalendarWarning:
    return CalendarWarning(
        year=year, key=f'[calendar.years."{year}"]',
        code="calendar-next-year-missing",
        zh=(f"国务院办公厅通常此时已发布{year}年部分节假日安排的通知，但日历数据中还没有{year}年；"
            f"跨入{year}年的期限正按“{_FALLBACK_ZH[fallback]}”估算。"
            f"请在配置的 [calendar.years.\"{year}\"] 中添加。"),
        en=(f"The State Council has usually published the {year} holiday notice by now; "
            f"deadlines reaching into {year} are estimated by the {fallback!r} fallback. "
            f"Add it under [calendar.years.\"{year}\"] in the config."),
    )
