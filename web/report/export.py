"""The figures for the supervising body (clause 三(四)): an Excel workbook with one sheet per
table and the definitions on a sheet of their own, and the same as one CSV file (a row per
cell: table, row, column, value), both from the tables the report shows."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from web.report import tables as t
from web.report.annual import Report, shown

_BOLD = Font(bold=True)


def workbook(report: Report) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for table in report.tables:
        _sheet(book, table, report)
    sheet = book.create_sheet("定义 Definitions" if report.lang == "zh" else "Definitions")
    sheet.append(["口径说明" if report.lang == "zh" else "Definitions"])
    sheet["A1"].font = _BOLD
    for zh, en in t.DEFINITIONS:
        sheet.append([en if report.lang == "en" else zh])
    sheet.append([_rule_line(report)])
    sheet.column_dimensions["A"].width = 120
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["table", "title", "row", "column", "value"])
    for table in report.tables:
        for row in table.rows:
            for head, cell in zip(table.head[1:], table.values(row), strict=False):
                if cell is not None:
                    writer.writerow([table.key, table.title, _safe(row.label), _safe(head),
                                     _safe(shown(cell, report.rule, report.lang))])
    return out.getvalue()


def _sheet(book: Workbook, table: t.Table, report: Report) -> None:
    # Sheet names: at most 31 characters, unique; the table's key is both.
    sheet = book.create_sheet(table.key[:31])
    sheet.append([table.title])
    sheet["A1"].font = _BOLD
    sheet.append(list(table.head))
    for cell in sheet[2]:
        cell.font = _BOLD
    for row in table.rows:
        sheet.append([_safe(row.label), *(_value(c, report) for c in table.values(row))])
    for index in range(1, len(table.head) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 18 if index > 1 else 34


def _value(cell: t.Cell | None, report: Report) -> object:
    """A number where the reader may see one (so the body can compute), else the text."""
    if cell is None:
        return None
    if cell.hidden or cell.value is None or cell.kind == "text":
        return _safe(shown(cell, report.rule, report.lang))
    if isinstance(cell.value, Decimal):
        return float(cell.value)
    if cell.kind in ("share", "rate") and isinstance(cell.value, float):
        return round(cell.value, 4)
    return cell.value


def _safe(text: str) -> str:
    """A text a spreadsheet would take for a formula is kept as text (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _rule_line(report: Report) -> str:
    if report.edition != "public":
        return ""
    rule = report.rule
    if report.lang == "en":
        return (f"Public edition: counts 1–{rule.threshold - 1} shown as <{rule.threshold}, "
                f"with secondary suppression; rates over at least {rule.min_denominator}.")
    return (f"公开版：1–{rule.threshold - 1} 的计数显示为 <{rule.threshold}，并作二次隐匿；"
            f"比率仅在分母不少于 {rule.min_denominator} 时显示。")
