"""Call times in the forms hotline staff type them, read as Shanghai time.

Accepted: ISO (``2026-11-24 14:05``, ``2026-11-24T14:05:00+08:00``), slashes or dots
(``2026/11/24 14:05:00``, ``2026/1/5 9:05``, date alone ``2026/11/24`` = midnight),
Chinese (``2026年11月24日 14时05分``, ``2026年11月24日14:05``, ``下午2点半``), AM/PM, and
Excel serial numbers (``46350.5``). Day-first or month-first forms (``24/11/2026``) are
refused rather than guessed.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from casework.clock import SHANGHAI
from intake.hotline.problems import FieldProblem

# Excel counts days from 1899-12-30 (its day 60 is a 29 February 1900 that never was).
_EXCEL_EPOCH = datetime(1899, 12, 30)
# Serial numbers of 2000-01-01 and 2100-01-01: other numbers are not call times.
_SERIAL_RANGE = (36526.0, 73051.0)
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_DATE = re.compile(
    r"(?P<y>\d{4})\s*(?:[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})"
    r"|年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]?)"
)
_TIME = re.compile(
    r"(?P<H>\d{1,2})\s*[:时点]\s*"
    r"(?:(?P<half>半)|(?P<M>\d{1,2})\s*分?(?:\s*:?\s*(?P<S>\d{1,2}(?:\.\d+)?)\s*秒?)?)?"
)
_MERIDIEM = re.compile(r"上午|下午|中午|晚上|凌晨|早上|(?<![A-Za-z])[AaPp]\.?[Mm]\.?(?![A-Za-z])")
_AFTERNOON = frozenset({"下午", "中午", "晚上", "PM"})
_MORNING = frozenset({"上午", "凌晨", "早上", "AM"})

UNREADABLE = FieldProblem(
    "无法识别的时间，请写成 2026-11-24 14:05 这样的格式",
    "unrecognised time; write it like 2026-11-24 14:05",
)


def parse_call_time(text: str) -> datetime:
    """The moment ``text`` names, aware, in Asia/Shanghai; FieldProblem if it names none."""
    s = unicodedata.normalize("NFKC", text).strip()
    if not s:
        raise FieldProblem("来电时间为空", "the call time is empty")
    if _SERIAL.fullmatch(s):
        return _from_excel_serial(float(s))
    return _from_iso(s) or _from_typed(s)


def _from_excel_serial(serial: float) -> datetime:
    low, high = _SERIAL_RANGE
    if not low <= serial < high:
        raise FieldProblem(
            "这个数字不像 Excel 日期（应在 2000 至 2100 年之间）",
            "this number is not an Excel date between 2000 and 2100",
        )
    # Round to the second: Excel stores times as binary fractions of a day.
    moment = _EXCEL_EPOCH + timedelta(seconds=round(serial * 86400))
    return moment.replace(tzinfo=SHANGHAI)


def _from_iso(s: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(s)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def _from_typed(s: str) -> datetime:
    m = _DATE.match(s)
    if m is None:
        raise UNREADABLE
    year, month, day = int(m["y"]), int(m["m"] or m["m2"]), int(m["d"] or m["d2"])
    rest = s[m.end() :].strip()
    hour, minute, second = _clock_time(rest) if rest else (0, 0, 0)
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
    except ValueError:
        raise FieldProblem(
            "日期或时间不存在（例如 2 月 30 日或 25 点）",
            "no such date or time (such as 30 February or 25 o'clock)",
        ) from None


def _clock_time(rest: str) -> tuple[int, int, int]:
    meridiem = _MERIDIEM.search(rest)
    token = ""
    if meridiem is not None:
        token = meridiem.group().upper().replace(".", "")
        rest = (rest[: meridiem.start()] + rest[meridiem.end() :]).strip()
    m = _TIME.fullmatch(rest.removeprefix("T").strip())
    if m is None:
        raise UNREADABLE
    hour = int(m["H"])
    if token in _AFTERNOON and hour < 12:
        hour += 12
    elif token in _MORNING and hour == 12:
        hour = 0
    minute = 30 if m["half"] else int(m["M"] or 0)
    return hour, minute, int(float(m["S"] or 0))
