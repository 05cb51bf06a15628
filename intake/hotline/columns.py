"""Which column of a call log holds which field, found by its heading.

Headings are compared after NFKC (full-width letters and spaces become plain), case
folding and removal of spaces, ``_``, ``-``, ``*`` and ``:``, so ``来电 时间``,
``ＣＡＬＬ　ＴＩＭＥ`` and ``call_time`` all find the call time, in any column order.
When a file has two columns for one field (``联系电话`` and ``来电号码``), the one whose
alias comes first is read, and the next one when that cell is blank.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# field -> (Chinese label, English label), for messages about missing columns.
FIELDS: dict[str, tuple[str, str]] = {
    "call_time": ("来电时间", "call time"),
    "phone": ("来电号码", "phone"),
    "caller_name": ("来电人", "caller name"),
    "email": ("电子邮箱", "email"),
    "content": ("诉求内容", "content"),
    "category": ("类别", "category"),
    "operator": ("接线员", "operator"),
    "callback": ("是否回访", "callback wanted"),
    "reference": ("关联编号", "reference"),
    "call_id": ("通话编号", "call id"),
}
REQUIRED = ("call_time", "content")
# A file needs at least one of these: a call nobody can be reached about is the exception.
CONTACT = ("phone", "email")

DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "call_time": ("来电时间", "呼入时间", "来电日期", "call time", "call date", "time", "date"),
    "phone": (
        "来电号码", "联系电话", "电话", "电话号码", "手机", "手机号码", "主叫号码",
        "phone", "phone number", "telephone", "tel", "caller number", "caller id",
    ),
    "caller_name": ("来电人", "来电人姓名", "姓名", "投诉人", "caller name", "caller", "name"),
    "email": ("电子邮箱", "邮箱", "电子邮件", "email", "e-mail", "mail"),
    "content": (
        "诉求内容", "内容摘要", "来电内容", "投诉内容", "内容",
        "content", "summary", "complaint", "details",
    ),
    "category": ("类别", "分类", "诉求类别", "类型", "category", "type"),
    "operator": ("接线员", "受理人", "坐席", "operator", "agent"),
    "callback": ("是否回访", "需要回访", "回访", "callback wanted", "callback", "call back"),
    "reference": ("关联编号", "案件编号", "关联案件", "reference", "case reference", "ref"),
    "call_id": ("通话编号", "通话id", "呼叫编号", "call id", "call no", "call number"),
}  # fmt: skip

_DECORATION = re.compile(r"[\s_\-*:\ufeff\u200b]+")


def normalise_heading(text: str) -> str:
    return _DECORATION.sub("", unicodedata.normalize("NFKC", text).casefold())


def field_label(field: str) -> str:
    zh, en = FIELDS[field]
    return f"{zh} / {en}"


@dataclass(frozen=True)
class Cell:
    column: str  # the heading as written in the file
    value: str


@dataclass(frozen=True)
class HeaderLayout:
    """The columns of one file: where each field is, and the headings we do not know."""

    headings: tuple[str, ...]
    fields: Mapping[str, tuple[int, ...]]  # field -> column indexes, preferred first

    def missing(self) -> list[tuple[str, str]]:
        """The required columns this file lacks, as (Chinese, English) names."""
        names = [FIELDS[f] for f in REQUIRED if f not in self.fields]
        if not any(f in self.fields for f in CONTACT):
            names.append((" 或 ".join(FIELDS[f][0] for f in CONTACT), " or ".join(CONTACT)))
        return names

    def cells(self, row: Sequence[str]) -> dict[str, Cell]:
        """The cell read for each field present: the first non-blank one by preference."""
        found: dict[str, Cell] = {}
        for field, indexes in self.fields.items():
            cells = [Cell(self.headings[i], row[i] if i < len(row) else "") for i in indexes]
            found[field] = next((c for c in cells if c.value.strip()), cells[0])
        return found

    def extras(self, row: Sequence[str]) -> tuple[tuple[str, str], ...]:
        """Non-blank cells under headings we do not map (备注 and the like): kept, not lost."""
        mapped = {i for indexes in self.fields.values() for i in indexes}
        return tuple(
            (heading, row[i].strip())
            for i, heading in enumerate(self.headings)
            if i not in mapped and i < len(row) and row[i].strip() and heading.strip()
        )


class ColumnMap:
    """Heading aliases per field; ``extended`` adds a site's own (they take precedence)."""

    def __init__(self, aliases: Mapping[str, Sequence[str]]) -> None:
        unknown = set(aliases) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown call-log fields: {', '.join(sorted(unknown))}")
        self.aliases = {field: tuple(names) for field, names in aliases.items()}
        self._lookup: dict[str, tuple[str, int]] = {}
        for field, names in self.aliases.items():
            for rank, name in enumerate(names):
                self._register(normalise_heading(name), field, rank)

    def _register(self, key: str, field: str, rank: int) -> None:
        owner = self._lookup.get(key)
        if owner is not None and owner[0] != field:
            # One heading meaning two fields would make the import depend on column order.
            raise ValueError(f"heading alias {key!r} is given for both {owner[0]} and {field}")
        if owner is None:
            self._lookup[key] = (field, rank)

    @classmethod
    def default(cls) -> ColumnMap:
        return cls(DEFAULT_ALIASES)

    def extended(self, extra: Mapping[str, Sequence[str]]) -> ColumnMap:
        # Unknown fields in ``extra`` are passed on so that __init__ refuses them (a typo).
        merged = {f: (*extra.get(f, ()), *self.aliases.get(f, ())) for f in [*FIELDS, *extra]}
        return ColumnMap(merged)

    def layout(self, headings: Sequence[str]) -> HeaderLayout:
        ranked: dict[str, list[tuple[int, int]]] = {}
        for index, heading in enumerate(headings):
            hit = self._lookup.get(normalise_heading(heading))
            if hit is not None:
                ranked.setdefault(hit[0], []).append((hit[1], index))
        fields = {f: tuple(i for _rank, i in sorted(hits)) for f, hits in ranked.items()}
        return HeaderLayout(tuple(h.strip() for h in headings), fields)
