"""Staff commands for reading cases in a terminal: the list and one case with its timeline."""

from __future__ import annotations

import getpass
import json
from datetime import date

import click
from rich.markup import escape
from rich.table import Table

from casework import queries
from casework.clock import SHANGHAI
from casework.models import Case, Message
from casework.status import CaseStatus
from complaintd.cli.actions import ActionGroup
from complaintd.cli.context import Context, console, fail
from complaintd.cli.i18n import Translator
from privacy.access import record_view


@click.group(cls=ActionGroup)
def cases() -> None:
    """案件 / cases."""


@cases.command("list")
@click.option("--status", type=click.Choice([s.value for s in CaseStatus]), default=None,
              help="只看此状态 / only this status")
@click.option("--overdue", is_flag=True,
              help="只看已逾期未办结 / only open cases past their deadline")
@click.option("--authority-overdue", is_flag=True,
              help="只看行政机关逾期未答复 / only cases an authority has not answered in time")
@click.option("--channel", default=None, help="只看此渠道 / only this channel (email, hotline)")
@click.option("--category", default=None, help="只看此类别 / only this category")
@click.option("--department", default=None, help="只看此部门 / only this department")
@click.option("--handler", default=None, help="只看此承办人 / only this handler's cases")
@click.option("--search", default=None, help="编号或主题包含 / reference or subject contains")
@click.option("--limit", type=int, default=200, show_default=True)
@click.option("--offset", type=int, default=0, help="跳过前几件 / skip this many (next page)")
@click.pass_obj
def list_cases(obj: Context, status: str | None, overdue: bool, authority_overdue: bool,
               channel: str | None,
               category: str | None, department: str | None, handler: str | None,
               search: str | None, limit: int, offset: int) -> None:  # fmt: skip
    """列出案件 / list cases, newest first."""
    app, t = obj.app()
    today = app.clock.now().astimezone(SHANGHAI).date()
    with app.session_factory() as session:
        rows = queries.list_cases(
            session, status=CaseStatus(status) if status else None,
            overdue_on=today if overdue else None, channel=channel, category=category,
            department=department, handler=handler, search=search, limit=limit, offset=offset,
            authority_overdue_on=today if authority_overdue else None)
        late = queries.overdue_by_authority(session, today=today, case_ids=[r.id for r in rows])
    if not rows:
        console.print(t("no_cases"))
        return
    console.print(_case_table(rows, today, t, late))


def _case_table(rows: list[Case], today: date | None, t: Translator,
                authority_late: set[int] | None = None) -> Table:
    """The cases, their deadline marked red when overdue on ``today`` (None: no marks),
    or as the authority's delay for the ids in ``authority_late``."""
    table = Table(title=t("cases_title", n=len(rows)))
    table.add_column(t("col_reference"), no_wrap=True)
    for key in ("col_status", "col_channel", "col_received", "col_due", "col_department",
                "col_subject"):
        table.add_column(t(key), overflow="fold")
    for case in rows:
        due = case.resolve_due.isoformat() if case.resolve_due else "-"
        if case.id in (authority_late or set()):
            # The authority's delay, followed up by the sweep; not our lateness.
            due = f"[magenta]{due} {t('authority_overdue_mark')}[/magenta]"
        elif today is not None and queries.is_overdue(case, today):
            due = f"[red]{due} {t('overdue_mark')}[/red]"
        table.add_row(case.reference + _flags(case, t), t.status(case.status.value),
                      t.channel(case.channel),
                      case.received_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
                      due, case.department or "-", escape(case.subject[:40]))
    return table


def _flags(case: Case, t: Translator) -> str:
    """Marks staff must not miss: a failed mail or bounce, a call to make."""
    marks = []
    if case.needs_attention:
        marks.append(f"[red]{t('flag_attention')}[/red]")
    if case.phone_follow_up:
        marks.append(f"[yellow]{t('flag_phone')}[/yellow]")
    return ("\n" + " ".join(marks)) if marks else ""


@cases.command("show")
@click.argument("reference")
@click.option("--as", "viewer", default=None,
              help="查阅人（记入查阅记录）/ who views it (written to the access log)")
@click.pass_obj
def show_case(obj: Context, reference: str, viewer: str | None) -> None:
    """显示案件及其时间线（记入查阅记录）/ show a case and its timeline (access-logged)."""
    app, t = obj.app()
    with app.session_factory.begin() as session:
        case = queries.case_by_reference(session, reference)
        if case is None:
            fail(t("case_not_found", ref=reference))
            return
        # PIPL: every view of a case is recorded, the operator's as the console's.
        record_view(session, case, staff=viewer or f"cli:{getpass.getuser()}",
                    at=app.clock.now())
        console.print(_case_table([case], None, t))
        console.print(case.summary[:2000], markup=False)  # a stranger's text, as sent
        console.print(_messages(case, queries.case_messages(session, case)))
        console.print(_timeline(case, t))


def _messages(case: Case, messages: list[Message]) -> Table:
    """Each mail with the sender's DKIM/SPF/DMARC results (a failure is shown, not acted on);
    the mail of a case merged into this one is shown too, marked with its reference."""
    table = Table(title="邮件 / messages")
    table.add_column("#")
    table.add_column("案件 / case", no_wrap=True)
    table.add_column("认证 / DKIM·SPF·DMARC", no_wrap=True)
    for name in ("方向 / dir", "发件人 / from", "分类 / class"):
        table.add_column(name, overflow="fold")
    for message in messages:
        auth = message.authentication or "-"
        if "fail" in auth:
            auth = f"[red]{auth}[/red]"
        via = "" if message.case_id == case.id else message.case.reference
        table.add_row(str(message.id), via, auth, message.direction,
                      escape(message.sender or "-"), escape(message.classification or "-"))
    return table


def _timeline(case: Case, t: Translator) -> Table:
    table = Table(title=t("timeline_title", ref=case.reference))
    for key in ("col_time", "col_actor", "col_event", "col_details"):
        table.add_column(t(key), overflow="fold")
    for event in case.events:
        table.add_row(event.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"), event.actor,
                      _event_words(event.kind, t),
                      escape(json.dumps(event.details, ensure_ascii=False)))
    return table


def _event_words(kind: str, t: Translator) -> str:
    """The event in the reader's words, its key kept under it (what scripts and the docs
    name; the console keeps it as the title of the words)."""
    words = t.event(kind)
    return escape(words) if words == kind else f"{escape(words)}\n[dim]{escape(kind)}[/dim]"
