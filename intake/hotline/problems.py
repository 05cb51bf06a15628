"""What can be wrong with a call log, said in Chinese for the hotline staff and in English."""

from __future__ import annotations

from dataclasses import dataclass

# Row numbers are the ones Excel shows: the header is usually row 1, so the first call is
# row 2. Problems with the whole file (encoding, not a CSV at all) use row 0.
WHOLE_FILE = 0


class FieldProblem(ValueError):
    """One cell (or the whole file) cannot be read; the message is for the staff who typed it."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class RowError:
    """One problem in one row of one file, as listed in the ``.errors.csv`` report."""

    file: str
    row: int
    column: str  # the heading as written in the file, or the expected one when it is missing
    value: str
    problem_zh: str
    problem_en: str

    @classmethod
    def of(cls, problem: FieldProblem, file: str, row: int, column: str, value: str) -> RowError:
        return cls(file, row, column, value, problem.zh, problem.en)
