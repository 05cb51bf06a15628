"""The register of commitment violations (clause 七), for staff at the server."""

from __future__ import annotations

import click
from rich.table import Table

from casework import queries
from complaintd.cli.context import Context, console
from complaintd.cli.i18n import MESSAGES

MESSAGES.update({
    "violations_title": ("违诺登记（{n} 条）", "Violations register ({n})"),
    "col_staff": ("人员", "Staff"),
    "col_category": ("类别", "Category"),
    "col_clause": ("条款", "Clause"),
    "col_tier": ("处理档次", "Sanction tier"),
    "col_compensation": ("赔偿（元）", "Compensation (CNY)"),
    "col_source": ("来源", "Source"),
})


@click.group()
def violations() -> None:
    """违诺登记 / the register of commitment violations (clause 七)."""


@violations.command("list")
@click.option("--staff", default=None, help="只看此人 / only this staff id")
@click.pass_obj
def list_violations(obj: Context, staff: str | None) -> None:
    """列出违诺及处理档次、赔偿 / list violations with sanction tier and compensation."""
    app, t = obj.app()
    with app.session_factory() as session:
        rows = queries.violation_register(session, staff=staff)
    table = Table(title=t("violations_title", n=len(rows)))
    for key in ("col_reference", "col_staff", "col_category", "col_clause", "col_tier",
                "col_compensation", "col_source", "col_time"):
        table.add_column(t(key), overflow="fold")
    for row in rows:
        v = row.violation
        table.add_row(row.reference, v.staff or "-", v.category, v.clause, v.sanction_tier,
                      f"{v.compensation:.2f}", v.source, f"{v.recorded_at:%Y-%m-%d}")
    console.print(table)
