"""Every notice that states a limit or a date states the unit it was counted in (issue 13).

A category may count its limit in calendar days (``medical_institution``: 30 calendar
days) or in working days (``staff_conduct``: 15). Each notice is rendered for both, in
Chinese, English and both, text and HTML, with the date computed by the real calendar in
that unit; the line that gives the date must name that unit and number of days, and
never the other unit.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from casework.calendar import WorkCalendar
from notifications.contexts import DigestRow, Limit
from notifications.renderer import TemplateRenderer, en_date, zh_date
from notifications.samples import SAMPLE_CONTEXTS

CALENDAR = WorkCalendar.build()
START = date(2026, 4, 28)  # the May Day holiday and a make-up Saturday lie ahead
WORKING = Limit(15, "working")
CALENDAR_DAYS = Limit(30, "calendar")
UNITS = {"working": ("工作日", "working day"), "calendar": ("自然日", "calendar day")}

# notice -> (the key of its limit, the key of the date counted in it)
DATED: dict[str, tuple[str, str]] = {
    "acknowledgement": ("limit", "resolve_due"),
    "clock_started": ("limit", "resolve_due"),
    "routed_internally": ("limit", "resolve_due"),
    "assignment": ("limit", "resolve_due"),
    "handler_reminder": ("limit", "resolve_due"),
    "supervisor_escalation": ("limit", "resolve_due"),
    "extension": ("extension", "new_due"),
    "referred_to_authority": ("answer_limit", "answer_due"),
    "authority_referral": ("answer_limit", "answer_due"),
    "authority_follow_up": ("answer_limit", "answer_due"),
    "triage_new_case": ("limit", "resolve_due"),
}
# Dates that are facts, not counted from a limit (the day something happened).
FACT_DATES = {"received_on", "referred_on", "resolved_on", "digest_date", "list_date",
              "complete_on", "reply_by", "previous_due", "appointment_date", "today",
              # the monthly summary: the month it reports and the month it compares with
              "month", "before"}


def due(limit: Limit, start: date = START) -> date:
    if limit.kind == "calendar":
        return CALENDAR.add_calendar_days(start, limit.days)
    return CALENDAR.add_working_days(start, limit.days)


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


def _texts(renderer: TemplateRenderer, notice: str, lang: str,
           context: dict[str, Any]) -> list[str]:
    mail = renderer.render(notice, lang, context)
    html = re.sub(r"<[^>]+>", " ", mail.html or "")
    return [mail.text, html]


def _lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def _check_line(text: str, day: date, limit: Limit, lang: str, where: str) -> None:
    forms = {"zh": [(zh_date(day), 0)], "en": [(en_date(day), 1)],
             "bilingual": [(zh_date(day), 0), (en_date(day), 1)]}[lang]
    wrong = Limit(limit.days, "calendar" if limit.kind == "working" else "working")
    for shown, side in forms:
        lines = _lines_with(text, shown)
        assert lines, f"{where}: the date {shown} is not stated"
        for line in lines:
            stated = (limit.zh, limit.en)[side]
            assert stated in line, f"{where}: {stated!r} not beside {shown}: {line}"
            assert (limit.counted_zh, limit.counted_en)[side] in line, f"{where}: {line}"
            assert (wrong.zh, wrong.en)[side] not in line, f"{where}: the wrong unit: {line}"


@pytest.mark.parametrize("limit", [WORKING, CALENDAR_DAYS], ids=["working", "calendar"])
@pytest.mark.parametrize("lang", ["zh", "en", "bilingual"])
@pytest.mark.parametrize("notice", sorted(DATED))
def test_the_date_and_its_unit_agree(renderer: TemplateRenderer, notice: str, lang: str,
                                     limit: Limit) -> None:
    if notice not in SAMPLE_CONTEXTS:
        pytest.skip(f"{notice} has no templates yet")
    limit_key, date_key = DATED[notice]
    context = SAMPLE_CONTEXTS[notice]()
    start = context.get("previous_due", START) if notice == "extension" else START
    day = due(limit, start)
    context.update({limit_key: limit, date_key: day})
    for text in _texts(renderer, notice, lang, context):
        _check_line(text, day, limit, lang, f"{notice}/{lang}/{limit.kind}")


def test_working_and_calendar_dates_differ_so_the_test_can_fail() -> None:
    # 15 working days and 30 calendar days from 28 April 2026 fall on different days,
    # and neither unit's date equals the other's count (a unit swapped is caught).
    assert due(WORKING) != due(CALENDAR_DAYS)
    assert due(Limit(30, "working")) != due(CALENDAR_DAYS)


@pytest.mark.parametrize("limit", [WORKING, CALENDAR_DAYS], ids=["working", "calendar"])
@pytest.mark.parametrize("lang", ["zh", "en", "bilingual"])
def test_missing_material_states_the_limit_and_that_it_starts_later(
        renderer: TemplateRenderer, lang: str, limit: Limit) -> None:
    context = {**SAMPLE_CONTEXTS["missing_material"](), "limit": limit, "reply_by": None}
    text, _html = _texts(renderer, "missing_material", lang, context)
    if lang != "en":
        assert limit.zh in text and "自材料齐全之日起计算" in text
    if lang != "zh":
        assert limit.en in text and "from that day" in text


@pytest.mark.parametrize("limit", [WORKING, CALENDAR_DAYS], ids=["working", "calendar"])
@pytest.mark.parametrize("lang", ["zh", "en", "bilingual"])
def test_acknowledgement_awaiting_material_promises_no_date(
        renderer: TemplateRenderer, lang: str, limit: Limit) -> None:
    context = {**SAMPLE_CONTEXTS["acknowledgement"](), "limit": limit, "resolve_due": None,
               "awaiting_material": True}
    for text in _texts(renderer, "acknowledgement", lang, context):
        assert "不晚于" not in text and "we will finish by" not in text
        if lang != "en":
            assert f"{limit.zh}，自材料齐全之日起计算" in text
        if lang != "zh":
            assert f"{limit.en} from the day your material is complete" in text


@pytest.mark.parametrize("lang", ["zh", "en", "bilingual"])
def test_digest_rows_name_their_unit(renderer: TemplateRenderer, lang: str) -> None:
    rows = [DigestRow("LO-2026-000001", "investigating", None, due(WORKING), False, "working"),
            DigestRow("LO-2026-000002", "referred", None, due(CALENDAR_DAYS), False,
                      "calendar")]
    context = {**SAMPLE_CONTEXTS["supervisor_digest"](), "rows": rows}
    text = renderer.render("supervisor_digest", lang, context).text
    for row, (zh_unit, en_unit) in zip(rows, (UNITS["working"], UNITS["calendar"]),
                                       strict=True):
        line = _lines_with(text, row.reference)[0]
        if lang != "en":
            assert zh_date(row.resolve_due) in text and f"按{zh_unit}计" in line
        if lang == "en":
            assert en_date(row.resolve_due) in line and f"in {en_unit}s" in line


def test_every_counted_date_of_every_notice_has_its_unit() -> None:
    """A notice with a date that is not a fact must be in DATED (a new notice is caught)."""
    unchecked: dict[str, list[str]] = {}
    for notice, sample in SAMPLE_CONTEXTS.items():
        context = sample()
        dates = [k for k, v in context.items() if isinstance(v, date) and k not in FACT_DATES]
        counted = {DATED[notice][1]} if notice in DATED else set()
        missing = [k for k in dates if k not in counted]
        if missing:
            unchecked[notice] = missing
    assert unchecked == {}


@pytest.mark.parametrize("awaiting", [False, True])
def test_the_limit_line_keeps_the_blank_line_after_it(renderer: TemplateRenderer,
                                                      awaiting: bool) -> None:
    context = {**SAMPLE_CONTEXTS["acknowledgement"](), "awaiting_material": awaiting}
    if awaiting:
        context["resolve_due"] = None
    assert "\n\n办理程序\n" in renderer.render("acknowledgement", "zh", context).text
    assert "\n\nHow we handle it\n" in renderer.render("acknowledgement", "en", context).text
    for resolve_due in (date(2026, 3, 20), None):
        staff = {**SAMPLE_CONTEXTS["assignment"](), "resolve_due": resolve_due}
        assert "）\n\n请按期办结" in renderer.render("assignment", "zh", staff).text
