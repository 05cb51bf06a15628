"""The ``<name>.errors.csv`` report that goes back to hotline staff beside their file."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from intake.hotline.problems import WHOLE_FILE, RowError

REPORT_SUFFIX = ".errors.csv"
REPORT_HEADINGS = ("文件 file", "行 row", "列 column", "内容 value", "问题", "problem")
_PLACE_ZH = ("文件", "行", "列", "内容")
LANGUAGES = ("zh", "en")
# Excel runs a cell that starts with one of these as a formula, even from a CSV file.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_error_report(
    target: Path, errors: Sequence[RowError], languages: Sequence[str] = LANGUAGES
) -> Path:
    """Write ``errors`` to ``target`` as UTF-8 with a BOM (so Excel reads the Chinese).

    ``languages`` chooses the problem columns: Chinese, English or both (in that order).
    Written to a temporary name and renamed, so a crash never leaves half a report.
    """
    chosen = [lang for lang in LANGUAGES if lang in languages] or ["zh"]
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(_headings(chosen))
        for error in errors:
            row = "" if error.row == WHOLE_FILE else str(error.row)
            problems = {"zh": error.problem_zh, "en": error.problem_en}
            cells = (error.file, row, error.column, error.value,
                     *(problems[lang] for lang in chosen))  # fmt: skip
            # Every cell, the file name too: a hotline worker or a caller chose them all.
            writer.writerow([inert(cell) for cell in cells])
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target


def _headings(languages: Sequence[str]) -> tuple[str, ...]:
    if list(languages) == ["zh", "en"]:
        return REPORT_HEADINGS
    if list(languages) == ["en"]:
        return ("file", "row", "column", "value", "problem")
    return (*_PLACE_ZH, "问题")


def inert(value: str) -> str:
    """``value`` quoted as text when a spreadsheet would run it as a formula (OWASP's rule)."""
    return "'" + value if value.startswith(_FORMULA_START) else value
