"""What the public edition may show: small counts hidden, and every cell that would give a
hidden one away hidden with it.

Pure functions over a ``Table`` (``web.report.tables``). The rule, as stated on the report:

1. a count from 1 to ``threshold - 1`` is shown as "<threshold" (primary suppression);
2. in every group of cells that add up to a total shown (a row, a column, the total row),
   never exactly one cell is hidden: if one is, the smallest other non-zero count of the
   group is hidden too (or the total), again until no group has a single hidden cell
   (secondary suppression), so no hidden count is a total minus the shown ones;
3. a percentage is shown only over at least ``min_denominator`` cases and only when none
   of the counts it is computed from is hidden; a median, a percentile, a mean or a sum of
   money only over at least ``min_denominator`` cases (money: ``threshold`` entries);
4. a cell two tables share is hidden in both when either hides it (``suppress_all``).
"""

from __future__ import annotations

from dataclasses import dataclass

from web.report.tables import Cell, Table


@dataclass(frozen=True)
class Rule:
    threshold: int = 10
    min_denominator: int = 20

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.min_denominator < 1:
            raise ValueError("the suppression threshold and minimum denominator must be ≥ 1")


def suppress(table: Table, rule: Rule) -> Table:
    """``table`` with the cells the public may not see marked hidden (in place, returned)."""
    for cell in table.cells.values():
        if cell.kind == "count" and _small(cell, rule):
            cell.hidden = True
    while _secondary(table):
        pass
    for cell in table.cells.values():
        if cell.kind in ("share", "rate", "stat"):
            cell.hidden = cell.n < rule.min_denominator or any(
                table.cells[key].hidden for key in cell.of)
        elif cell.kind == "money":
            cell.hidden = 0 < cell.n < rule.threshold
    return table


def suppress_all(tables: list[Table], rule: Rule) -> list[Table]:
    """Every table under the rule. A cell two tables share (the same ``Cell``: a category's
    survey answers in satisfaction and in "problem solved") hidden by one is hidden in the
    other, whose groups may then hide more: rounds until no count changes."""
    while True:
        hidden = _hidden_counts(tables)
        for table in tables:
            suppress(table, rule)
        if _hidden_counts(tables) == hidden:
            return tables


def _hidden_counts(tables: list[Table]) -> int:
    return sum(c.hidden for table in tables for c in table.cells.values() if c.kind == "count")


def _small(cell: Cell, rule: Rule) -> bool:
    return isinstance(cell.value, int) and 0 < cell.value < rule.threshold


def _secondary(table: Table) -> bool:
    """One round over the groups; True when a cell was hidden (another round is due)."""
    changed = False
    for parts, total in table.groups:
        members = [*parts, total]
        if sum(table.cells[key].hidden for key in members) == 1:
            _hide_another(table, parts, total)
            changed = True
    return changed


def _hide_another(table: Table, parts: tuple[str, ...], total: str) -> None:
    """The smallest visible non-zero part; if none, the total (if it is the one visible)."""
    visible = [table.cells[key] for key in parts
               if not table.cells[key].hidden and _count(table.cells[key]) > 0]
    if visible:
        min(visible, key=_count).hidden = True
    else:
        table.cells[total].hidden = True


def _count(cell: Cell) -> int:
    return cell.value if isinstance(cell.value, int) else 0
