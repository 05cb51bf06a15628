"""The kinds of call-log file, and their rows as plain text cells, read as a stream.

* CSV or tab-separated text (``.csv``, ``.tsv``, ``.txt``): the delimiter is the one the
  first line uses most (comma, tab or semicolon), since phone systems export either.
* Excel workbooks (``.xlsx``, ``.xlsm``), read with openpyxl in read-only mode: rows are
  parsed from the sheet's XML as they are asked for, never the whole sheet at once.
  Dates come as dates, numbers as numbers: both are turned back into the text a person
  would have typed (``13800001201``, not ``13800001201.0``).
* JSON lines (``.jsonl``): one object per line, its keys read like column headings.

The kind is told from the bytes (a workbook is a zip file), the name only tells JSON lines
from CSV. Old ``.xls`` workbooks are refused with a clear message.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from itertools import chain
from typing import BinaryIO

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from intake.hotline.problems import FieldProblem

CALL_LOG_SUFFIXES = frozenset(
    {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".jsonl", ".ndjson", ".xls"}
)
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of old .xls workbooks

Row = tuple[int, list[str]]  # (row number as Excel shows it, cells)

OLD_EXCEL = FieldProblem(
    "这是旧版 Excel 文件（.xls），请另存为 .xlsx 或 CSV UTF-8 格式",
    "this is an old Excel file (.xls); save it as .xlsx or CSV UTF-8",
)
BAD_WORKBOOK = FieldProblem(
    "Excel 工作簿已损坏或不完整，无法读取；请重新保存后再放入",
    "the Excel workbook is damaged or incomplete; save it again",
)


def is_call_log_name(name: str) -> bool:
    """Whether a file of this name may be a call log (others are left alone)."""
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in CALL_LOG_SUFFIXES


def sniff(fh: BinaryIO, name: str) -> str:
    """``"xlsx"``, ``"jsonl"`` or ``"text"``; FieldProblem for an old .xls workbook."""
    fh.seek(0)
    head = fh.read(8)
    fh.seek(0)
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_OLE2):
        raise OLD_EXCEL
    if name.lower().endswith((".jsonl", ".ndjson")):
        return "jsonl"
    return "text"


# --- text -------------------------------------------------------------------------------


def text_rows(fh: BinaryIO, encoding: str) -> Iterator[Row]:
    """The rows of a CSV/TSV in ``fh``; csv.Error when the quoting is broken."""
    fh.seek(0)
    # newline="" keeps the line breaks inside quoted cells (multi-line content).
    text = io.TextIOWrapper(fh, encoding=encoding, newline="")
    try:
        first = text.readline()
        delimiter = max(",\t;", key=first.count)  # ties go to the comma, listed first
        reader = csv.reader(chain([first], text), delimiter=delimiter)
        yield from enumerate(reader, start=1)
    finally:
        _release(text)


def json_lines(fh: BinaryIO, encoding: str) -> Iterator[tuple[int, dict[str, str] | FieldProblem]]:
    """Each non-blank line as a dict of text cells, or the problem with it."""
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=encoding)
    try:
        for number, line in enumerate(text, start=1):
            if line.strip():
                yield number, _json_object(line)
    finally:
        _release(text)


def _release(text: io.TextIOWrapper) -> None:
    """Let go of the binary file without closing it: the caller owns (and has locked) it."""
    with contextlib.suppress(ValueError):  # the caller closed it first (a scan left halfway)
        text.detach()


def _json_object(line: str) -> dict[str, str] | FieldProblem:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return FieldProblem(f"这一行不是有效的 JSON：{exc.msg}", f"not valid JSON: {exc.msg}")
    if not isinstance(value, dict):
        return FieldProblem("这一行应是一个 JSON 对象 {…}", "this line should be a JSON object {…}")
    return {str(key): cell_text(cell) for key, cell in value.items()}


# --- workbooks --------------------------------------------------------------------------


@contextmanager
def open_workbook(fh: BinaryIO) -> Iterator[Workbook]:
    fh.seek(0)
    try:
        # read_only streams each sheet's XML; data_only gives a formula's last value.
        workbook = load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise BAD_WORKBOOK from None
    try:
        yield workbook
    finally:
        workbook.close()


def chosen_sheets(workbook: Workbook, wanted: str | None) -> list[ReadOnlyWorksheet]:
    """Every worksheet, or the one named ``wanted``; FieldProblem when it is not there."""
    sheets: list[ReadOnlyWorksheet] = [
        s for s in workbook.worksheets if isinstance(s, ReadOnlyWorksheet)
    ]
    if not wanted:
        return sheets
    found: list[ReadOnlyWorksheet] = [s for s in sheets if s.title.strip() == wanted.strip()]
    if not found:
        names = "、".join(s.title for s in sheets)
        raise FieldProblem(
            f"工作簿里没有名为“{wanted}”的工作表（有：{names}）",
            f"the workbook has no sheet named {wanted!r} (it has: {names})",
        )
    return found


def sheet_rows(sheet: ReadOnlyWorksheet) -> Iterator[Row]:
    """The rows of a sheet as text cells; BAD_WORKBOOK when its XML is broken."""
    # The dimension a writer records may be wrong; without it every row is read.
    sheet.reset_dimensions()
    try:
        for number, values in enumerate(sheet.values, start=1):
            yield number, [cell_text(v) for v in values]
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError) as exc:
        raise BAD_WORKBOOK from exc


def cell_text(value: object) -> str:
    """A cell as the text a person would have typed into it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _whole_second(value).isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        # A phone number or call id kept as a number: 13800001201.0 is 13800001201.
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _whole_second(moment: datetime) -> datetime:
    # Excel keeps times as fractions of a day: 14:05 may come back as 14:04:59.999.
    if moment.microsecond == 0:
        return moment
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)


def blank(row: Sequence[str]) -> bool:
    return not any(cell.strip() for cell in row)


def estimate_rows(fh: BinaryIO) -> int | None:
    """Roughly how many rows the file has (for a progress bar); None when unknown."""
    fh.seek(0)
    if fh.read(4).startswith(_ZIP):
        try:
            with open_workbook(fh) as workbook:
                sizes = [s.max_row for s in workbook.worksheets if isinstance(s, ReadOnlyWorksheet)]
        except FieldProblem:
            return None
        return sum(n or 0 for n in sizes) or None
    fh.seek(0)
    lines = 0
    while chunk := fh.read(1 << 20):
        lines += chunk.count(b"\n")
    fh.seek(0)
    return lines or None
