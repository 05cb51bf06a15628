"""Call-log files to checked ``CallRecord``s, as a stream. Pure: a file object in, no database.

``CallLogScan`` yields every valid call and every problem in file order while it reads,
so a 100,000-row file is never held in memory; ``read_call_log`` / ``parse_call_log``
collect a whole (small) file into a ``CallLog`` for callers that want it at once.

The header may sit below a title line or two: it is the first of the top rows that names
the required columns. In a workbook every sheet is read (or the one configured); a sheet
without a single known heading (说明, 统计…) is skipped with a log line when another sheet
of the workbook holds calls, and reported like a bad file when none does.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from typing import BinaryIO

from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from intake.hotline import formats
from intake.hotline.columns import ColumnMap, HeaderLayout
from intake.hotline.encoding import detect_encoding
from intake.hotline.problems import WHOLE_FILE, FieldProblem, RowError
from intake.hotline.records import CallRecord, check_row

log = logging.getLogger("complaintd.hotline")

_HEADER_SEARCH_ROWS = 5
_EMPTY = FieldProblem("文件是空的", "the file is empty")
Item = CallRecord | RowError


@dataclass(frozen=True)
class CallLog:
    """A call log as read: its valid calls and every problem found, in file order."""

    name: str
    encoding: str
    records: tuple[CallRecord, ...]
    errors: tuple[RowError, ...]
    data_rows: int  # non-blank rows below the header
    unreadable: bool = False  # the whole file was refused (encoding, missing columns)
    rejected_rows: int = 0  # data rows not imported because of the errors


def read_call_log(
    path: Path, *, columns: ColumnMap | None = None, now: datetime | None = None,
    sheet: str | None = None,
) -> CallLog:  # fmt: skip
    with open(path, "rb") as fh:
        return collect(CallLogScan(fh, path.name, columns=columns, now=now, sheet=sheet))


def parse_call_log(
    data: bytes, name: str, *, columns: ColumnMap | None = None, now: datetime | None = None,
    sheet: str | None = None,
) -> CallLog:  # fmt: skip
    """Check every row of the call log ``data``; ``now`` refuses call times in the future."""
    return collect(CallLogScan(io.BytesIO(data), name, columns=columns, now=now, sheet=sheet))


def collect(scan: CallLogScan) -> CallLog:
    items = list(scan)
    records = tuple(i for i in items if isinstance(i, CallRecord))
    errors = tuple(i for i in items if isinstance(i, RowError))
    return CallLog(scan.name, scan.encoding, records, errors, scan.data_rows,
                   scan.unreadable, scan.rejected_rows)  # fmt: skip


def decode_call_log(data: bytes) -> tuple[str, str]:
    """The text of ``data`` and the encoding it was in; FieldProblem when it is not text."""
    encoding = detect_encoding(io.BytesIO(data))
    return data.decode(encoding), encoding


class CallLogScan:
    """One pass over a call log: iterate it once for its calls and problems, in file order.

    The counts (``data_rows``, ``rejected_rows``) are complete once the iteration ends.
    """

    def __init__(
        self, fh: BinaryIO, name: str, *, columns: ColumnMap | None = None,
        now: datetime | None = None, sheet: str | None = None,
    ) -> None:  # fmt: skip
        self.fh, self.name, self.now, self.sheet = fh, name, now, sheet
        self.columns = columns or ColumnMap.default()
        self.encoding = ""
        self.data_rows = 0  # non-blank rows below a header
        self.rejected_rows = 0  # of those, the ones that gave no call
        self.checked_rows = 0  # rows read under a good header
        self.refused = False  # a file, sheet or the rest of a file could not be read

    @property
    def unreadable(self) -> bool:
        """Nothing of the file could be read: it was refused as a whole."""
        return self.refused and self.checked_rows == 0

    def __iter__(self) -> Iterator[Item]:
        try:
            kind = formats.sniff(self.fh, self.name)
            if kind == "xlsx":
                yield from self._workbook()
                return
            self.encoding = detect_encoding(self.fh)
            if kind == "jsonl":
                yield from self._json_lines()
            else:
                yield from self._table(self.name, formats.text_rows(self.fh, self.encoding))
        except FieldProblem as problem:
            self.refused = True
            yield RowError.of(problem, self.name, WHOLE_FILE, "", "")
        except Exception as exc:
            # A damaged file is the file's problem, reported once, not an import that fails
            # at every scan: the calls read before it stand. Its type only (no data).
            self.refused = True
            log.info("hotline: %s could not be read to the end (%s)", self.name,
                     type(exc).__name__)
            yield RowError.of(_damaged(exc), self.name, WHOLE_FILE, "", "")

    # -- tables (CSV and sheets) ----------------------------------------------------------

    def _table(self, label: str, rows: Iterator[formats.Row]) -> Iterator[Item]:
        try:
            head = list(islice(rows, _HEADER_SEARCH_ROWS))
            header = _find_header(head, self.columns)
        except csv.Error as exc:
            raise _malformed(exc) from None
        if header is None:
            raise _EMPTY
        index, layout = header
        below = chain(head[index + 1 :], rows)
        if layout.missing():
            yield from self._missing_columns(label, head[index][0], layout, below)
            return
        yield from self._rows(label, layout, below)

    def _rows(
        self, label: str, layout: HeaderLayout, rows: Iterator[formats.Row]
    ) -> Iterator[Item]:
        number = 0
        try:
            for number, row in rows:
                if formats.blank(row):
                    continue  # spreadsheets export trailing blank rows
                self.data_rows += 1
                self.checked_rows += 1
                yield from self._row(label, layout, number, row)
        except csv.Error as exc:
            self.refused = True
            problem = _malformed(exc, stopped=True)
            yield RowError.of(problem, label, number + 1, "", "")

    def _row(self, label: str, layout: HeaderLayout, number: int, row: list[str]) -> Iterator[Item]:
        result = _overflow(row, layout, label, number) or check_row(
            layout.cells(row), layout.extras(row), file=label, row=number, now=self.now
        )
        if isinstance(result, CallRecord):
            yield result
        else:
            self.rejected_rows += 1
            yield from result

    def _missing_columns(
        self, label: str, header_row: int, layout: HeaderLayout, below: Iterator[formats.Row]
    ) -> Iterator[Item]:
        self.refused = True
        uncounted = sum(1 for _n, row in below if not formats.blank(row))
        self.data_rows += uncounted
        self.rejected_rows += uncounted
        found = " | ".join(layout.headings)  # what the header did say, to spot the misspelling
        for zh, en in layout.missing():
            yield RowError(
                label, header_row, f"{zh} / {en}", found,
                f"缺少必需的列：{zh}", f"a required column is missing: {en}",
            )  # fmt: skip

    # -- workbooks --------------------------------------------------------------------------

    def _workbook(self) -> Iterator[Item]:
        self.encoding = "xlsx"
        with formats.open_workbook(self.fh) as workbook:
            sheets = formats.chosen_sheets(workbook, self.sheet)
            foreign = [s for s in sheets if not self._looks_like_call_log(s)]
            for sheet in sheets:
                if sheet not in foreign:
                    label = f"{self.name} [{sheet.title}]"
                    yield from self._table(label, formats.sheet_rows(sheet))
            if len(foreign) < len(sheets):
                for sheet in foreign:
                    log.info("hotline: %s: sheet %d has no call-log headings; skipped",
                             self.name, sheets.index(sheet) + 1)  # fmt: skip
            else:
                yield from self._foreign_sheets(foreign)

    def _looks_like_call_log(self, sheet: ReadOnlyWorksheet) -> bool:
        head = [row for _n, row in islice(formats.sheet_rows(sheet), _HEADER_SEARCH_ROWS)]
        return any(self.columns.layout(row).fields for row in head)

    def _foreign_sheets(self, sheets: list[ReadOnlyWorksheet]) -> Iterator[Item]:
        """No sheet holds calls: say what each non-empty one lacks, or that all are empty."""
        for sheet in sheets:
            try:
                yield from self._table(f"{self.name} [{sheet.title}]", formats.sheet_rows(sheet))
            except FieldProblem as problem:
                if problem is not _EMPTY:
                    raise
        if not self.refused:
            raise FieldProblem("工作簿是空的", "the workbook is empty")

    # -- JSON lines -------------------------------------------------------------------------

    def _json_lines(self) -> Iterator[Item]:
        layouts: dict[tuple[str, ...], HeaderLayout] = {}
        for number, line in formats.json_lines(self.fh, self.encoding):
            self.data_rows += 1
            if isinstance(line, FieldProblem):
                self.rejected_rows += 1
                yield RowError.of(line, self.name, number, "", "")
                continue
            keys = tuple(line)
            layout = layouts.get(keys) or layouts.setdefault(keys, self.columns.layout(keys))
            self.checked_rows += 1
            yield from self._row(self.name, layout, number, list(line.values()))


def _damaged(exc: Exception) -> FieldProblem:
    kind = type(exc).__name__
    return FieldProblem(f"文件已损坏，此处以后的内容未读取（{kind}）；请重新保存后再放入",
                        f"the file is damaged; nothing after this point was read ({kind})")


def _malformed(exc: csv.Error, *, stopped: bool = False) -> FieldProblem:
    rest_zh, rest_en = ("", "")
    if stopped:
        rest_zh, rest_en = "；此行及以后的行未读取", "; this row and the rest were not read"
    return FieldProblem(f"CSV 格式错误：{exc}{rest_zh}", f"the CSV is malformed: {exc}{rest_en}")


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


def _find_header(
    head: Sequence[formats.Row], columns: ColumnMap
) -> tuple[int, HeaderLayout] | None:
    """Index in ``head`` and layout of the header row; None when there is no row at all.

    When no row names every required column, the likeliest one (the most fields) is
    returned, and its ``missing()`` says what it lacks.
    """
    candidates = [(i, columns.layout(row)) for i, (_n, row) in enumerate(head)]
    candidates = [(i, layout) for i, layout in candidates if any(h for h in layout.headings)]
    if not candidates:
        return None
    for index, layout in candidates:
        if not layout.missing():
            return index, layout
    return max(candidates, key=lambda c: len(c[1].fields))
