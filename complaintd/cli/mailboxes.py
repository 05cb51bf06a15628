"""Staff commands for the mailboxes: health of each one, and the reconciliation."""

from __future__ import annotations

from datetime import datetime

import click
from rich.table import Table

from casework.clock import SHANGHAI
from complaintd.cli.context import Context, console
from complaintd.cli.i18n import MESSAGES

MESSAGES.update({
    "mailboxes_none": ("还没有轮询过任何邮箱。", "No mailbox has been polled yet."),
    "mailboxes_alert": ("警告：{n} 个邮箱最近一次轮询失败。", "Alert: {n} mailbox(es) failed their "
                        "last poll."),
    "reconcile_ok": ("{source}：检查 {checked} 封，待处理 {waiting} 封，全部在台账中。",
                     "{source}: {checked} checked, {waiting} waiting, all in the ledger."),
    "reconcile_missing": ("{source}：{n} 封邮件既不在台账中也不在待处理队列中：",
                          "{source}: {n} message(s) neither in the ledger nor waiting:"),
})


@click.group()
def mailboxes() -> None:
    """邮箱 / the reporting mailboxes."""


@mailboxes.command("status")
@click.pass_obj
def status(obj: Context) -> None:
    """每个邮箱的位置与健康状况 / position and health of every mailbox."""
    app, t = obj.app()
    rows = app.mail_states.all()
    if not rows:
        console.print(t("mailboxes_none"))
        return
    table = Table()
    table.add_column("source", no_wrap=True)
    for name in ("folder", "UIDVALIDITY", "last UID", "last OK", "failures", "last error",
                 "reconciled", "missing"):
        table.add_column(name, overflow="fold")
    for row in rows:
        failing = row.failures > 0
        table.add_row(row.source, row.folder, str(row.uidvalidity), str(row.last_uid),
                      _when(row.last_success_at), f"[red]{row.failures}[/red]" if failing else "0",
                      (row.last_error or "-")[:200] if failing else "-",
                      _when(row.last_reconciled_at), str(row.reconcile_missing))
    console.print(table)
    failing_count = sum(1 for row in rows if row.failures > 0)
    if failing_count:
        console.print(f"[red]{t('mailboxes_alert', n=failing_count)}[/red]")


@mailboxes.command("reconcile")
@click.pass_obj
def reconcile_cmd(obj: Context) -> None:
    """对账：邮箱与台账比对 / compare every IMAP mailbox with the ledger now."""
    app, t = obj.app()
    missing_any = False
    for report in app.reconcile_mailboxes():
        if not report.missing:
            console.print(t("reconcile_ok", source=report.source, checked=report.checked,
                            waiting=report.waiting))
            continue
        missing_any = True
        console.print(t("reconcile_missing", source=report.source, n=len(report.missing)))
        console.print(report.describe(), markup=False)
    if missing_any:
        raise SystemExit(1)


def _when(value: object) -> str:
    if not isinstance(value, datetime):
        return "-"
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
