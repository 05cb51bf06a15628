"""Staff commands for the outbox: what was sent, what failed, and sending it again."""

from __future__ import annotations

import getpass

import click
from rich.markup import escape
from rich.table import Table

from casework.clock import SHANGHAI
from complaintd.cli.context import Context, console, fail
from complaintd.cli.i18n import Translator
from notifications.models import OutboxStatus
from notifications.review import AlreadySent, OutboxEntry, list_mail, retry_mail

_STATUS_NAMES = {
    OutboxStatus.PENDING: ("待发送", "pending"),
    OutboxStatus.SENT: ("已发送", "sent"),
    OutboxStatus.FAILED: ("发送失败", "failed"),
}


@click.group()
def outbox() -> None:
    """发件箱 / the outbox of notices."""


@outbox.command("list")
@click.option("--failed", is_flag=True, help="只看发送失败的邮件 / only mail that failed")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--offset", type=int, default=0, help="跳过前几封 / skip this many (next page)")
@click.pass_obj
def list_outbox(obj: Context, failed: bool, limit: int, offset: int) -> None:
    """列出发件箱邮件，最新的在前 / list outbox mail, newest first."""
    app, t = obj.app()
    with app.session_factory() as session:
        rows = list_mail(session, failed_only=failed, limit=limit, offset=offset)
        if rows:
            console.print(_table(rows, t, show_error=failed))
        else:
            console.print(t("outbox_empty"))
    app.close()


def _table(rows: list[OutboxEntry], t: Translator, *, show_error: bool) -> Table:
    table = Table(title=t("outbox_title", n=len(rows)))
    for key in ("col_id", "col_reference", "col_kind", "col_status"):
        table.add_column(t(key), no_wrap=True)
    for key in ("col_recipient", "col_subject", "col_attempts", "col_when"):
        table.add_column(t(key), overflow="fold")
    if show_error:
        table.add_column(t("col_error"), overflow="fold")
    for row, reference in rows:
        zh, en = _STATUS_NAMES[row.status]
        status = en if t.language == "en" else zh
        if row.status == OutboxStatus.FAILED:
            status = f"[red]{status}[/red]"
        when = row.sent_at if row.sent_at is not None else row.next_attempt_at
        # The subject quotes a complainant's, and a server's answer is not markup either.
        cells = [str(row.id), reference or "-", row.kind, status, escape(row.recipient),
                 escape(row.subject), str(row.attempts),
                 f"{when.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"]
        if show_error:
            cells.append(escape(row.last_error or "-"))
        table.add_row(*cells)
    return table


@outbox.command("retry")
@click.argument("outbox_id", type=int)
@click.pass_obj
def retry(obj: Context, outbox_id: int) -> None:
    """把失败的邮件重新排队 / queue a failed mail again (same message, same Message-ID)."""
    app, t = obj.app()
    now = app.clock.now()
    try:
        with app.session_factory.begin() as session:
            retry_mail(session, outbox_id, now=now, actor=f"cli:{getpass.getuser()}")
    except LookupError:
        fail(t("outbox_not_found", id=outbox_id), code=1)
    except AlreadySent as sent:
        at = f"{sent.sent_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if sent.sent_at else "-"
        fail(t("outbox_already_sent", id=outbox_id, at=at), code=1)
    console.print(t("outbox_retry_queued", id=outbox_id))
    app.close()
