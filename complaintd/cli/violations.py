"""The register of commitment violations (clause 七), for staff at the server."""

from __future__ import annotations

import click
from rich.table import Table

from casework import queries
from casework.models import Violation
from complaintd.cli.actions import ActionGroup
from complaintd.cli.context import Context, console
from complaintd.cli.i18n import MESSAGES, Translator

MESSAGES.update({
    "violations_title": ("违诺登记（{n} 条）", "Violations register ({n})"),
    "col_staff": ("人员", "Staff"),
    "col_category": ("类别", "Category"),
    "col_clause": ("条款", "Clause"),
    "col_tier": ("处理档次", "Sanction tier"),
    "col_compensation": ("赔偿（元）", "Compensation (CNY)"),
    "col_source": ("来源", "Source"),
    "col_id": ("编号", "No."),
    "col_carried_out": ("落实情况", "Carried out"),
    "sanction_applied": ("已处理 {at} {by}", "sanction applied {at} by {by}"),
    "sanction_open": ("待处理", "sanction not yet applied"),
    "compensation_paid": ("已赔偿 {at} {by}", "compensation paid {at} by {by}"),
    "compensation_open": ("待赔偿", "compensation not yet paid"),
})


@click.group(cls=ActionGroup)
def violations() -> None:
    """违诺登记 / the register of commitment violations (clause 七); recording that a
    sanction was applied or compensation paid is a staff action (``sanction-applied``,
    ``compensation-paid``, supervisors)."""


@violations.command("list")
@click.option("--staff", default=None, help="只看此人 / only this staff id")
@click.option("--open", "open_only", is_flag=True,
              help="只看未落实的（未处理或未赔偿）/ only those not yet carried out")
@click.pass_obj
def list_violations(obj: Context, staff: str | None, open_only: bool) -> None:
    """列出违诺及处理档次、赔偿 / list violations with sanction tier and compensation."""
    app, t = obj.app()
    with app.session_factory() as session:
        rows = queries.violation_register(session, staff=staff, open_only=open_only)
    table = Table(title=t("violations_title", n=len(rows)))
    for key in ("col_id", "col_reference", "col_staff", "col_category", "col_clause",
                "col_tier", "col_compensation", "col_source", "col_time", "col_carried_out"):
        table.add_column(t(key), overflow="fold")
    for row in rows:
        v = row.violation
        table.add_row(str(v.id), row.reference, v.staff or "-", v.category, v.clause,
                      v.sanction_tier, f"{v.compensation:.2f}", v.source,
                      f"{v.recorded_at:%Y-%m-%d}", _carried_out(v, t))
    console.print(table)


def _carried_out(v: Violation, t: Translator) -> str:
    if v.sanction_applied_at is not None:
        done = [t("sanction_applied", at=f"{v.sanction_applied_at:%Y-%m-%d}",
                  by=v.sanction_applied_by)]
    else:
        done = [t("sanction_open")]
    if v.compensation > 0:
        done.append(t("compensation_paid", at=f"{v.compensation_paid_at:%Y-%m-%d}",
                      by=v.compensation_paid_by) if v.compensation_paid_at is not None
                    else t("compensation_open"))
    return "\n".join(done)
