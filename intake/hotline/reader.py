"""Call-log files (CSV or tab-separated text) to checked ``CallRecord``s. Pure: bytes in.

The encoding is found from the bytes, never from the file name: a byte-order mark, then
strict UTF-8, then GB18030 (a superset of GBK and GB2312, which Chinese Excel writes),
then charset-normalizer for anything else. The delimiter is the one the header line uses
most (comma, tab or semicolon), since phone systems export either. The header may sit
below a title line or two; it is the first of the top rows that names the required columns.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import charset_normalizer

from intake.hotline.columns import ColumnMap, HeaderLayout
from intake.hotline.problems import WHOLE_FILE, FieldProblem, RowError
from intake.hotline.records import CallRecord, check_row

_HEADER_SEARCH_ROWS = 5
# Labels that name a subset of GB18030: decoding as GB18030 reads everything they do and more.
_AS_GB18030 = frozenset({"gb2312", "gbk", "cp936", "gb18030"})
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class CallLog:
    """A call log as read: its valid calls and every problem found, in file order."""

    name: str
    encoding: str
    records: tuple[CallRecord, ...]
    errors: tuple[RowError, ...]
    data_rows: int  # non-blank rows below the header
    unreadable: bool = False  # the whole file was refused (encoding, missing columns)


def read_call_log(
    path: Path, *, columns: ColumnMap | None = None, now: datetime | None = None
) -> CallLog:
    return parse_call_log(path.read_bytes(), path.name, columns=columns, now=now)


def parse_call_log(
    data: bytes, name: str, *, columns: ColumnMap | None = None, now: datetime | None = None
) -> CallLog:
    """Check every row of the call log ``data``; ``now`` refuses call times in the future."""
    try:
        text, encoding = decode_call_log(data)
        rows = _split_rows(text)
    except FieldProblem as problem:
        return _refused(name, problem)
    try:
        header_index, layout = _find_header(rows, columns or ColumnMap.default())
    except FieldProblem as problem:
        return _refused(name, problem, encoding)
    except _MissingColumns as missing:
        return _missing_columns(name, missing, _data_rows(rows, missing.header_index), encoding)
    return _check_rows(name, encoding, rows[header_index + 1 :], header_index + 2, layout, now)


def _check_rows(
    name: str,
    encoding: str,
    rows: list[list[str]],
    first_row: int,
    layout: HeaderLayout,
    now: datetime | None,
) -> CallLog:
    records: list[CallRecord] = []
    errors: list[RowError] = []
    for number, row in enumerate(rows, start=first_row):
        if _blank(row):
            continue  # spreadsheets export trailing blank rows
        result = _overflow(row, layout, name, number) or check_row(
            layout.cells(row), layout.extras(row), file=name, row=number, now=now
        )
        if isinstance(result, CallRecord):
            records.append(result)
        else:
            errors.extend(result)
    return CallLog(name, encoding, tuple(records), tuple(errors), _data_rows(rows, -1))


def _overflow(row: list[str], layout: HeaderLayout, name: str, number: int) -> list[RowError]:
    """An error when the row has cells beyond the header: they would be lost otherwise.

    It happens when a comma typed in the content was not quoted, which cuts the text in two.
    """
    beyond = [cell for cell in row[len(layout.headings) :] if cell.strip()]
    if not beyond:
        return []
    problem = FieldProblem(
        "这一行的格子比表头多（内容里的逗号可能没有加引号），请检查后重新导出",
        "this row has more cells than the header (an unquoted comma in the text?)",
    )
    return [RowError.of(problem, name, number, "", ",".join(beyond))]


def _blank(row: Sequence[str]) -> bool:
    return not any(cell.strip() for cell in row)


def _data_rows(rows: list[list[str]], header_index: int) -> int:
    return sum(1 for row in rows[header_index + 1 :] if not _blank(row))


def decode_call_log(data: bytes) -> tuple[str, str]:
    """The text of ``data`` and the encoding it was in; FieldProblem when it is not text."""
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _NOT_TEXT
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict(data, encoding), encoding
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise _UNKNOWN_ENCODING
    encoding = "gb18030" if best.encoding.lower() in _AS_GB18030 else best.encoding
    return _strict(data, encoding), encoding


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise _UNKNOWN_ENCODING from None


_NOT_TEXT = FieldProblem(
    "这不是文本文件（如果是 Excel 工作簿，请“另存为” CSV UTF-8 格式）",
    "this is not a text file (an Excel workbook? save it as CSV UTF-8)",
)
_UNKNOWN_ENCODING = FieldProblem(
    "无法识别文件编码，请另存为 CSV UTF-8 格式",
    "the file's encoding is unknown; save it as CSV UTF-8",
)


def _split_rows(text: str) -> list[list[str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)  # ties go to the comma, listed first
    try:
        # newline="" keeps the line breaks inside quoted cells (multi-line content).
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise FieldProblem(f"CSV 格式错误：{exc}", f"the CSV is malformed: {exc}") from None


class _MissingColumns(Exception):
    def __init__(
        self, header_index: int, names: list[tuple[str, str]], headings: Sequence[str]
    ) -> None:
        super().__init__(", ".join(en for _zh, en in names))
        self.header_index, self.names, self.headings = header_index, names, headings


def _find_header(rows: list[list[str]], columns: ColumnMap) -> tuple[int, HeaderLayout]:
    candidates = [(i, columns.layout(r)) for i, r in enumerate(rows[:_HEADER_SEARCH_ROWS])]
    candidates = [(i, layout) for i, layout in candidates if any(h for h in layout.headings)]
    if not candidates:
        raise FieldProblem("文件是空的", "the file is empty")
    for index, layout in candidates:
        if not layout.missing():
            return index, layout
    # Name what the likeliest header row lacks: the one that matched the most fields.
    index, layout = max(candidates, key=lambda c: len(c[1].fields))
    raise _MissingColumns(index, layout.missing(), layout.headings)


def _refused(name: str, problem: FieldProblem, encoding: str = "") -> CallLog:
    error = RowError.of(problem, name, WHOLE_FILE, "", "")
    return CallLog(name, encoding, (), (error,), 0, unreadable=True)


def _missing_columns(name: str, missing: _MissingColumns, data_rows: int, encoding: str) -> CallLog:
    found = " | ".join(missing.headings)  # what the header did say, to spot the misspelling
    errors = tuple(
        RowError(
            name, missing.header_index + 1, f"{zh} / {en}", found,
            f"缺少必需的列：{zh}", f"a required column is missing: {en}",
        )
        for zh, en in missing.names
    )  # fmt: skip
    return CallLog(name, encoding, (), errors, data_rows, unreadable=True)
