"""CLI twins of every handler command, recategorisation and the violations register.

Staff at the server act as themselves (``--as NAME``); the same rules apply as to a command
by mail: only the case's handler, the deputy or the supervisor may act, and nobody named in
the complaint. Each command runs in one transaction and queues the same mail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

import click
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.investigation import Violation
from casework.models import Case
from complaintd.cli import Context, console, fail
from complaintd.cli_cases import cases
from complaintd.i18n import MESSAGES, Translator
from routing import actions
from routing.actions import ActionRefused, Actor
from routing.commands import CommandError, split_items
from routing.conflicts import excluded
from routing.desk import Desk
from routing.router import reroute
from routing.staffmail import parse_resolve, role_of

MESSAGES.update({
    "routing_off": ("未配置分派规则（[routing] rules_file）。",
                    "No routing rules configured ([routing] rules_file)."),
    "unknown_staff": ("没有名为 {name} 的工作人员。", "No staff member called {name}."),
    "not_allowed": ("{name} 不是本案承办人、代理人或主管，不能操作。",
                    "{name} is not the handler, deputy or supervisor of this case."),
    "action_refused": ("未执行：{why}", "Not done: {why}"),
    "action_done": ("已完成：{ref} 现为 {status}，办结期限 {due}。",
                    "Done: {ref} is now {status}, due {due}."),
    "violations_title": ("违诺登记（{n} 条）", "Violations register ({n})"),
    "col_staff": ("人员", "Staff"),
    "col_category": ("类别", "Category"),
    "col_clause": ("条款", "Clause"),
    "col_tier": ("处理档次", "Sanction tier"),
    "col_compensation": ("赔偿（元）", "Compensation (CNY)"),
    "col_source": ("来源", "Source"),
})

Work = Callable[[Session, Desk, Case, Actor, datetime], object]


@click.group()
def handle() -> None:
    """承办人指令（与邮件指令相同）/ handler commands (the twins of the mail commands)."""


def _run(obj: Context, reference: str, as_name: str, work: Work,
         *, supervisor_only: bool = False) -> None:
    app, t = obj.app()
    if app.desk is None:
        fail(t("routing_off"))
        return
    desk = app.desk
    now = app.clock.now()
    with _case(app.session_factory, reference, t) as (session, case):
        staff = desk.config.staff_by_name(as_name)
        if staff is None:
            fail(t("unknown_staff", name=as_name))
            return
        role = role_of(session, desk, case, staff)
        if not role or staff in excluded(session, case.id) or \
                (supervisor_only and role != "supervisor"):
            fail(t("not_allowed", name=as_name))
        try:
            with session.begin_nested():
                work(session, desk, case, Actor(staff, role, via="cli"), now)
        except (ActionRefused, CommandError, ValueError) as exc:
            fail(t("action_refused", why=exc))
        session.commit()
        console.print(t("action_done", ref=case.reference, status=t.status(str(case.status)),
                        due=case.resolve_due or "-"))


@contextmanager
def _case(factory: Callable[[], Session], reference: str,
          t: Translator) -> Iterator[tuple[Session, Case]]:
    with factory() as session:
        case = session.scalar(select(Case).where(Case.reference == reference.upper()))
        if case is None:
            fail(t("case_not_found", ref=reference))
        assert case is not None
        yield session, case


_REF = click.argument("reference")
_AS = click.option("--as", "as_name", required=True, help="你的姓名或工号 / your name or staff id")


@handle.command("accept")
@_REF
@_AS
@click.pass_obj
def accept(obj: Context, reference: str, as_name: str) -> None:
    """受理 / accept the case (#受理)."""
    _run(obj, reference, as_name, lambda s, d, c, a, now: actions.accept(s, d, c, a, now))


@handle.command("note")
@_REF
@click.argument("text")
@_AS
@click.pass_obj
def note(obj: Context, reference: str, text: str, as_name: str) -> None:
    """备注 / add a note (#备注)."""
    _run(obj, reference, as_name, lambda s, d, c, a, now: actions.note(c, a, text, now))


@handle.command("request-material")
@_REF
@click.argument("items")
@_AS
@click.pass_obj
def request_material(obj: Context, reference: str, items: str, as_name: str) -> None:
    """补充材料 / ask for missing material, items separated by ； (#补充材料)."""
    _run(obj, reference, as_name,
         lambda s, d, c, a, now: actions.ask_material(s, d, c, a, split_items(items), now))


@handle.command("extend")
@_REF
@click.argument("days", type=click.IntRange(1, 60))
@click.argument("reason")
@_AS
@click.pass_obj
def extend(obj: Context, reference: str, days: int, reason: str, as_name: str) -> None:
    """延期 / ask for the one extension (#延期); a supervisor's own is approved at once."""
    _run(obj, reference, as_name,
         lambda s, d, c, a, now: actions.extend(s, d, c, a, days, reason, now))


@handle.command("approve-extension")
@_REF
@_AS
@click.pass_obj
def approve_extension(obj: Context, reference: str, as_name: str) -> None:
    """批准延期 / approve the extension asked for (#批准延期; supervisors only)."""
    _run(obj, reference, as_name, lambda s, d, c, a, now: actions.approve(s, d, c, a, now),
         supervisor_only=True)


@handle.command("reassign")
@_REF
@click.argument("name")
@_AS
@click.pass_obj
def reassign(obj: Context, reference: str, name: str, as_name: str) -> None:
    """转办 / hand the case to someone else (#转办)."""
    _run(obj, reference, as_name,
         lambda s, d, c, a, now: actions.reassign(s, d, c, a, name, now))


@handle.command("refer")
@_REF
@click.argument("authority")
@_AS
@click.pass_obj
def refer(obj: Context, reference: str, authority: str, as_name: str) -> None:
    """移送 / refer the case to an administrative authority (#移送)."""
    _run(obj, reference, as_name,
         lambda s, d, c, a, now: actions.refer_to(s, d, c, a, authority, now))


@handle.command("resolve")
@_REF
@click.argument("finding")
@click.option("--outcome", required=True, help="告知投诉人的办理结果 / the outcome text")
@click.option("--violation", default="", help="违诺类别 / violation category")
@click.option("--staff", default="", help="责任人 / the staff member at fault")
@click.option("--compensation", default=None, help="赔偿金额（元）/ compensation owed (CNY)")
@_AS
@click.pass_obj
def resolve(obj: Context, reference: str, finding: str, outcome: str, violation: str,
            staff: str, compensation: str | None, as_name: str) -> None:
    """办结 / resolve: 属实|部分属实|不属实 (#办结)."""
    found, _ = parse_resolve(finding)
    fault = (violation, staff) if violation else None
    owed = Decimal(compensation) if compensation else None
    _run(obj, reference, as_name, lambda s, d, c, a, now: actions.resolve(
        s, d, c, a, finding=found, outcome=outcome, violation=fault, now=now,
        compensation=owed))


@cases.command("recategorise")
@_REF
@click.argument("category")
@_AS
@click.pass_obj
def recategorise(obj: Context, reference: str, category: str, as_name: str) -> None:
    """重新分类并重新分派 / recategorise: routing runs again (supervisors only)."""
    _run(obj, reference, as_name, lambda s, d, c, a, now: reroute(
        s, d, c, category, actor=a.label, now=now), supervisor_only=True)


@click.group()
def violations() -> None:
    """违诺登记 / the register of commitment violations (clause 七)."""


@violations.command("list")
@click.option("--staff", default=None, help="只看此人 / only this staff id")
@click.pass_obj
def list_violations(obj: Context, staff: str | None) -> None:
    """列出违诺及处理档次、赔偿 / list violations with sanction tier and compensation."""
    app, t = obj.app()
    query = select(Violation, Case.reference).join(Case, Case.id == Violation.case_id) \
        .order_by(Violation.id)
    if staff:
        query = query.where(Violation.staff == staff)
    with app.session_factory() as session:
        rows = list(session.execute(query))
    table = Table(title=t("violations_title", n=len(rows)))
    for key in ("col_reference", "col_staff", "col_category", "col_clause", "col_tier",
                "col_compensation", "col_source", "col_time"):
        table.add_column(t(key), overflow="fold")
    for v, reference in rows:
        table.add_row(reference, v.staff or "-", v.category, v.clause, v.sanction_tier,
                      f"{v.compensation:.2f}", v.source, f"{v.recorded_at:%Y-%m-%d}")
    console.print(table)
