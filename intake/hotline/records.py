"""One call of a call log, checked: a ``CallRecord`` or the list of what is wrong with it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from casework.inbound import Inbound, guess_language
from intake.hotline.columns import Cell, field_label
from intake.hotline.dates import parse_call_time
from intake.hotline.fields import (
    clean_text,
    is_anonymous_marker,
    normalise_call_id,
    normalise_email,
    normalise_reference,
    parse_callback,
)
from intake.hotline.phones import normalise_phone
from intake.hotline.problems import FieldProblem, RowError

T = TypeVar("T")

# A call typed with tomorrow's date is a typo; a little slack covers clocks that disagree.
_FUTURE_SLACK = timedelta(hours=1)
_SUBJECT_CHARS = 30


@dataclass(frozen=True)
class CallRecord:
    """A valid call: at least a time, what was said, and a way to reach the caller or 匿名."""

    row: int
    call_time: datetime  # aware, Asia/Shanghai
    content: str
    phone: str | None = None  # normalised, e.g. +8613812345678
    email: str | None = None
    caller_name: str | None = None
    anonymous: bool = False
    category: str | None = None
    operator: str | None = None
    callback: bool | None = None  # None: the cell was blank
    reference: str | None = None  # a case this call follows up, e.g. LO-2026-000001
    call_id: str | None = None
    extra: tuple[tuple[str, str], ...] = ()  # unmapped columns (heading, value)
    source: str = ""  # the file (and sheet) it came from, as errors name it

    def fingerprint(self) -> str:
        """SHA-256 of time, phone and content: the same call, whichever file it came in."""
        parts = (self.call_time.isoformat(), self.phone or "", self.content)
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()

    def ledger_uid(self) -> str:
        """The ledger key: the phone system's call id when there is one, else the fingerprint."""
        return self.call_id or self.fingerprint()

    def to_inbound(
        self, source_name: str, *, raw_sha256: str | None = None, raw_size: int = 0
    ) -> Inbound:
        language = guess_language(self.content)
        return Inbound(
            channel="hotline",
            received_at=self.call_time,
            subject=self._subject(language),
            text=self.content,
            language=language,
            sender_name=self.caller_name,
            sender_email=self.email,
            sender_phone=self.phone,
            anonymous=self.anonymous,
            raw_sha256=raw_sha256,
            raw_size=raw_size,
            reference_hint=self.reference,
            category_hint=self.category,
            origin=f"hotline {self.source or source_name} row {self.row}",
            extra=self._extra(),
        )

    def _subject(self, language: str) -> str:
        first_line = self.content.split("\n", 1)[0].strip()
        snippet = first_line[:_SUBJECT_CHARS]
        if len(first_line) > _SUBJECT_CHARS:
            # English is cut at a word, Chinese anywhere (it has no spaces to cut at).
            if language == "en" and " " in snippet:
                snippet = snippet.rsplit(" ", 1)[0]
            snippet += "…"
        if not self.category:
            return snippet
        return f"{self.category}：{snippet}" if language == "zh" else f"{self.category}: {snippet}"

    def _extra(self) -> dict[str, str]:
        extra = {f"column {heading}": value for heading, value in self.extra}
        if self.operator:
            extra["operator"] = self.operator
        if self.callback is not None:
            extra["callback"] = "yes" if self.callback else "no"
        if self.call_id:
            extra["call_id"] = self.call_id
        return extra


class _RowCheck:
    """Reads the cells of one row and collects every problem, so staff fix them all at once."""

    def __init__(self, cells: Mapping[str, Cell], file: str, row: int) -> None:
        self.cells, self.file, self.row = cells, file, row
        self.errors: list[RowError] = []

    def blank(self, field: str) -> bool:
        cell = self.cells.get(field)
        return cell is None or not cell.value.strip()

    def marked_anonymous(self, field: str) -> bool:
        cell = self.cells.get(field)
        return cell is not None and is_anonymous_marker(cell.value)

    def take(self, field: str, parse: Callable[[str], T]) -> T | None:
        cell = self.cells.get(field)
        if cell is None or not cell.value.strip():
            return None
        try:
            return parse(cell.value)
        except FieldProblem as problem:
            self.fail(problem, field)
            return None

    def required(self, field: str, parse: Callable[[str], T]) -> T | None:
        if self.blank(field):
            self.fail(FieldProblem("必填，不能为空", "required, cannot be blank"), field)
            return None
        return self.take(field, parse)

    def fail(self, problem: FieldProblem, field: str) -> None:
        cell = self.cells.get(field)
        column = cell.column if cell is not None else field_label(field)
        value = cell.value if cell is not None else ""
        self.errors.append(RowError.of(problem, self.file, self.row, column, value))


@dataclass(frozen=True)
class _Contact:
    phone: str | None
    email: str | None
    caller_name: str | None
    anonymous: bool


NO_CONTACT = FieldProblem(
    "没有联系方式：请填写电话或邮箱；匿名来电请在来电人一栏写“匿名”",
    "no way to reach the caller: give a phone or an email, or write 匿名 (anonymous) "
    "as the caller name",
)


def check_row(
    cells: Mapping[str, Cell],
    extra: tuple[tuple[str, str], ...],
    *,
    file: str,
    row: int,
    now: datetime | None = None,
) -> CallRecord | list[RowError]:
    """The call in one row, or all that is wrong with it. Pure: no disk, no database.

    ``now``, when given, refuses call times in the future (a mistyped year).
    """
    check = _RowCheck(cells, file, row)
    call_time = check.required("call_time", lambda v: _plausible(parse_call_time(v), now))
    content = check.required("content", clean_text)
    contact = _contact(check)
    category = check.take("category", clean_text)
    operator = check.take("operator", clean_text)
    callback = check.take("callback", parse_callback)
    reference = check.take("reference", normalise_reference)
    call_id = check.take("call_id", normalise_call_id)
    if check.errors or call_time is None or content is None:
        return check.errors
    return CallRecord(
        row=row,
        call_time=call_time,
        content=content,
        phone=contact.phone,
        email=contact.email,
        caller_name=contact.caller_name,
        anonymous=contact.anonymous,
        category=category,
        operator=operator,
        callback=callback,
        reference=reference,
        call_id=call_id,
        extra=extra,
        source=file,
    )


def _contact(check: _RowCheck) -> _Contact:
    """Phone, email and name; a row needs a phone or an email unless marked 匿名.

    Without that rule a forgotten number would silently become a case nobody can answer.
    """
    name_anonymous = check.marked_anonymous("caller_name")
    phone_anonymous = check.marked_anonymous("phone")
    phone = None if phone_anonymous else check.take("phone", normalise_phone)
    email = check.take("email", normalise_email)
    anonymous = name_anonymous or phone_anonymous
    if check.blank("phone") and check.blank("email") and not anonymous:
        check.fail(NO_CONTACT, "phone" if "phone" in check.cells else "email")
    caller_name = None if name_anonymous else check.take("caller_name", clean_text)
    return _Contact(phone, email, caller_name, anonymous)


def _plausible(moment: datetime, now: datetime | None) -> datetime:
    if moment.year < 2000:
        raise FieldProblem("年份不对（早于 2000 年）", "the year is before 2000")
    if now is not None and moment > now + _FUTURE_SLACK:
        raise FieldProblem("来电时间晚于现在，请检查年月日", "the call time is in the future")
    return moment
