"""The console's report page (supervisors, the director, auditors, administrators): the
year's figures with filters by year, department and category, and the same as the annual
report (HTML, internal or public edition) and the supervising body's workbook and CSV.

Every figure comes from ``casework.figures`` through ``web.report`` (the CLI's code too).
The page itself shows the edition for the supervising body: every count, no names; the
internal edition (violations by staff member and case) is the director's and auditors'.
"""

from __future__ import annotations

import base64
from datetime import date

from starlette.responses import HTMLResponse, Response

from casework.calendar import WorkCalendar
from casework.clock import SHANGHAI
from casework.figures import FIRST_YEAR, Period, Scope, figures
from web.i18n import TEXT
from web.plumbing import Ctx, Missing, Refused
from web.report import labels
from web.report.annual import REPORT_CSP, Report, prepare, render, shown
from web.report.disclosure import Rule
from web.report.export import csv_text, workbook
from web.report.tables import Edition

TEXT.update({
    "reports": ("统计报告", "Reports"),
    "report_year": ("年份", "Year"),
    "report_show": ("查看", "Show"),
    "report_public": ("年度报告（公开版）", "Annual report (public edition)"),
    "report_internal": ("年度报告（内部版）", "Annual report (internal edition)"),
    "report_xlsx": ("报主管单位：Excel", "For the supervising body: Excel"),
    "report_csv": ("报主管单位：CSV", "For the supervising body: CSV"),
    "report_downloads": ("导出", "Export"),
    "report_note": ("本页显示全部数字、不含姓名；公开版按小数字规则隐去 1–{n} 的计数。",
                    "This page shows every count and no names; the public edition hides "
                    "counts from 1 to {n} by the small-number rule."),
    "report_bad": ("年份无效", "Not a year we can report on"),
})
READERS_OF_NAMES = frozenset({"director", "auditor"})


def report_page(ctx: Ctx) -> Response:
    """The figures of the chosen year and scope, as tables and charts."""
    year, scope = _chosen(ctx)
    made = _report(ctx, year, scope, "supervisor")
    charts = {key: "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
              for key, svg in made.charts.items()}
    desk = ctx.console.desk()
    config = desk.config if desk is not None else None
    return ctx.render(
        "reports.html", report=made, charts=charts, year=year, scope=scope,
        years=list(range(_today(ctx).year, FIRST_YEAR - 1, -1))[:10],
        departments=sorted(config.departments) if config else [],
        categories=sorted(config.categories) if config else [],
        query=_query(year, scope), names_allowed=_reads_names(ctx),
        threshold=made.rule.threshold - 1, shown=lambda cell: shown(cell, made.rule))


def annual_page(ctx: Ctx) -> Response:
    """The annual report as the board or the website gets it, in a page of its own."""
    year, scope = _chosen(ctx)
    edition: Edition = "public"
    if ctx.request.query_params.get("edition") == "internal":
        if not _reads_names(ctx):
            raise Refused
        edition = "internal"
    lang = ctx.t.lang
    made = _report(ctx, year, scope, edition, lang)
    html = render(made, ctx.console.config.organisation)
    return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP})


def figures_xlsx(ctx: Ctx) -> Response:
    year, scope = _chosen(ctx)
    made = _report(ctx, year, scope, "supervisor")
    return Response(workbook(made), media_type="application/vnd.openxmlformats-officedocument"
                    ".spreadsheetml.sheet", headers=_attachment(f"figures-{year}.xlsx"))


def figures_csv(ctx: Ctx) -> Response:
    year, scope = _chosen(ctx)
    made = _report(ctx, year, scope, "supervisor")
    return Response(csv_text(made).encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers=_attachment(f"figures-{year}.csv"))


def _report(ctx: Ctx, year: int, scope: Scope, edition: Edition,
            lang: str | None = None) -> Report:
    calendar = ctx.console.calendar
    if not isinstance(calendar, WorkCalendar):  # the figures count working days by it
        raise Missing
    found = figures(ctx.db, calendar, Period.year(year, _today(ctx)), scope,
                    with_previous=True)
    desk = ctx.console.desk()
    names = labels.names(desk.config if desk is not None else None, lang or ctx.t.lang)
    config = ctx.console.config
    return prepare(found, names, edition, Rule(config.report_threshold,
                                               config.report_min_denominator))


def _chosen(ctx: Ctx) -> tuple[int, Scope]:
    """The year and scope asked for; refused unless the person may read the figures."""
    if ctx.user is None or not ctx.user.reads_register:
        raise Refused
    params = ctx.request.query_params
    today = _today(ctx)
    raw = params.get("year", "")
    year = int(raw) if raw.isdigit() and len(raw) == 4 else today.year
    year = min(max(year, FIRST_YEAR), today.year)
    desk = ctx.console.desk()
    config = desk.config if desk is not None else None
    department = params.get("department") or None
    category = params.get("category") or None
    # Only keys the routing file knows: a filter is a choice, never free text.
    if config is not None:
        department = department if department in config.departments else None
        category = category if category in config.categories else None
    else:
        department = category = None
    return year, Scope(department=department, category=category)


def _reads_names(ctx: Ctx) -> bool:
    return ctx.user is not None and bool(ctx.user.role_set & READERS_OF_NAMES)


def _today(ctx: Ctx) -> date:
    return ctx.now.astimezone(SHANGHAI).date()


def _query(year: int, scope: Scope) -> str:
    parts = [f"year={year}"]
    if scope.department:
        parts.append(f"department={scope.department}")
    if scope.category:
        parts.append(f"category={scope.category}")
    return "&".join(parts)


def _attachment(name: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{name}"'}
