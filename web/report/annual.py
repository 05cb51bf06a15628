"""The annual report as one self-contained HTML file (styles and SVG charts inside, no
script, no link out), Chinese first, English on request; it prints and saves as PDF from
any browser. The internal edition for the board, the public one for the website."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from casework.figures import Figures
from web.report import tables as t
from web.report.charts import bar_chart
from web.report.disclosure import Rule, suppress_all

TEMPLATES = Path(__file__).parent / "templates"
# Tables drawn as a chart too, and whether the bars lie (long labels read better so).
CHARTS = {"by_month": False, "by_channel": True, "by_category": True,
          "resolution_days": False, "satisfaction": True, "solved": True}
# The console shows the report in a page of its own: no script, its own inline styles.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@dataclass(frozen=True)
class Report:
    """A report's tables after the disclosure rule (public) and its charts."""

    figures: Figures
    edition: t.Edition
    lang: str
    rule: Rule
    tables: list[t.Table]
    charts: dict[str, Markup]


def prepare(figures: Figures, names: t.Names, edition: t.Edition, rule: Rule) -> Report:
    tables = t.build(figures, names, edition, threshold=rule.threshold)
    if edition == "public":
        tables = suppress_all(tables, rule)
        _same_rates(tables, figures, names, rule, edition)
    hidden = f"<{rule.threshold}"
    # matplotlib's SVG writer escapes every text it draws: the markup is its own.
    charts = {table.key: Markup(bar_chart(table, hidden, horizontal=CHARTS[table.key]))
              for table in tables if table.key in CHARTS and _has_counts(table)}
    return Report(figures, edition, names.lang, rule, tables, charts)


def render(report: Report, organisation: str) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(
        default=True, default_for_string=True), trim_blocks=True, lstrip_blocks=True)
    env.filters["shown"] = lambda cell: shown(cell, report.rule, report.lang)
    return env.get_template("annual.html").render(
        r=report, org=organisation, year=report.figures.period.start.year,
        en=report.lang == "en", public=report.edition == "public", definitions=t.DEFINITIONS)


def shown(cell: t.Cell | None, rule: Rule, lang: str = "zh") -> str:
    """A cell as the reader sees it: hidden counts as "<10", other hidden figures as "—"."""
    if cell is None:
        return ""
    if cell.hidden:
        return f"<{rule.threshold}" if cell.kind == "count" else "—"
    value = cell.value
    if value is None:
        return "—"
    if cell.kind in ("share", "rate") and isinstance(value, float):
        return f"{value * 100:.1f}%"
    if cell.kind == "stat" and isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


# The figures the comparison with last year repeats: its cell ({when}: now or before) and
# the table and cell each year's own edition shows it in.
SHARED = (("acknowledgement_{when}", "acknowledgement", "rate"),
          ("resolution_{when}", "resolution", "rate"), ("solved_{when}", "solved", "s_yes"),
          ("forms_{when}", "activities", "t_t"), ("forms_{when}_m", "activities", "t_m"))


def _same_rates(tables: list[t.Table], figures: Figures, names: t.Names, rule: Rule,
                edition: t.Edition) -> None:
    """The comparison's figures hide when the year's own table hides them (this year's
    here, last year's as last year's public edition showed it)."""
    by_key = {table.key: table for table in tables}
    comparison = by_key.get("comparison")
    if comparison is None or figures.previous is None:
        return
    last_year = {table.key: table for table in suppress_all(
        t.build(figures.previous, names, edition, threshold=rule.threshold), rule)}
    for pattern, table_key, cell_key in SHARED:
        for when, own in (("now", by_key), ("before", last_year)):
            shared = comparison.cells.get(pattern.format(when=when))
            source = own.get(table_key)
            if shared is not None and source is not None:
                shared.hidden |= source.cells[cell_key].hidden


def _has_counts(table: t.Table) -> bool:
    return any(not row.total for row in table.rows)
