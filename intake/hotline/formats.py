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

A file dropped here may be damaged or built to hurt: a workbook's members are checked
against ``MAX_UNZIPPED_BYTES`` and ``MAX_SHARED_STRINGS_BYTES`` (by the sizes the zip
directory declares: ``zipfile`` never inflates a member past its declared size) before
openpyxl reads anything, openpyxl parses the XML with defusedxml (a dependency: no entity
expansion), and any error while reading a workbook is the workbook's problem
(``BAD_WORKBOOK``), never a crash of the import.
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
# A workbook of 100,000 calls unzips to about 100 MiB; openpyxl keeps the shared strings
# (every distinct text) in memory whole. A 320 KB workbook that unzipped to gigabytes took
# 55 s and 819 MB before these bounds.
MAX_UNZIPPED_BYTES = 512 << 20
MAX_SHARED_STRINGS_BYTES = 64 << 20
MAX_MEMBERS = 1000
TOO_BIG_WORKBOOK = FieldProblem(
    "Excel 工作簿解压后过大（可能是恶意文件），未读取；请分成几个文件或另存为 CSV UTF-8",
    "the workbook is too large once unzipped (or built to be); split it or save it as CSV",
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


LONE_SURROGATE = FieldProblem(
    "这一行含有无效的字符（单独的代理码位 \\ud800–\\udfff）",
    "this line holds an invalid character (a lone surrogate \\ud800–\\udfff)",
)


def _json_object(line: str) -> dict[str, str] | FieldProblem:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return FieldProblem(f"这一行不是有效的 JSON：{exc.msg}", f"not valid JSON: {exc.msg}")
    except (RecursionError, ValueError) as exc:
        # Nested too deep, or a number of more digits than Python converts.
        kind = type(exc).__name__
        return FieldProblem(f"这一行的 JSON 无法读取（{kind}）",
                            f"this JSON cannot be read ({kind})")
    if not isinstance(value, dict):
        return FieldProblem("这一行应是一个 JSON 对象 {…}", "this line should be a JSON object {…}")
    try:
        cells = {str(key): cell_text(cell) for key, cell in value.items()}
    except (RecursionError, ValueError):
        return FieldProblem("这一行的 JSON 无法读取", "this JSON cannot be read")
    # JSON may escape half a character (\ud800); no database stores one.
    if any(_lone_surrogate(text) for pair in cells.items() for text in pair):
        return LONE_SURROGATE
    return cells


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# --- workbooks --------------------------------------------------------------------------


def check_unzipped_size(fh: BinaryIO) -> None:
    """TOO_BIG_WORKBOOK when the workbook would unzip past the bounds; BAD_WORKBOOK when it
    is no readable zip."""
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise BAD_WORKBOOK from None
    finally:
        fh.seek(0)
    shared = sum(m.file_size for m in members if m.filename.lower().endswith("sharedstrings.xml"))
    if (len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES
            or shared > MAX_SHARED_STRINGS_BYTES):
        raise TOO_BIG_WORKBOOK


@contextmanager
def open_workbook(fh: BinaryIO) -> Iterator[Workbook]:
    check_unzipped_size(fh)
    try:
        # read_only streams each sheet's XML; data_only gives a formula's last value.
        workbook = load_workbook(fh, read_only=True, data_only=True)
    except Exception:
        # A damaged workbook, whatever the part: zlib.error, ParseError, KeyError of a
        # missing part, RecursionError, defusedxml's refusals… Every one of them, since the
        # list of what a library raises on broken input is not ours to keep.
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
    except Exception as exc:  # as in open_workbook; the rows read so far stand
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
