"""Staff commands for the quarantine: list, show one item, retry it."""

from __future__ import annotations

from datetime import datetime

import click
from rich.markup import escape
from rich.table import Table

from casework import queries
from casework.clock import SHANGHAI
from complaintd.cli.context import Context, console, fail
from complaintd.cli.i18n import MESSAGES
from intake.ledger import RetryError, SourceItem, Understood, retry_quarantined
from intake.mail import parse_mail
from intake.understand import understand_mail
from intake.webdoor import SOURCE as WEB_SOURCE
from intake.webdoor import read_item

MESSAGES.update({
    "quarantine_not_found": ("找不到隔离项 {id}。", "No quarantine item {id}."),
    "quarantine_retried": ("隔离项 {id} 已重新处理：{kind} {ref}", "Quarantine item {id} "
                           "processed again: {kind} {ref}"),
    "quarantine_retry_failed": ("隔离项 {id} 重新处理失败，仍在隔离区：{error}",
                                "Quarantine item {id} failed again and stays quarantined: "
                                "{error}"),
    "quarantine_raw_missing": ("原始内容不在存储中。", "The raw bytes are not in the store."),
})


def parse_any(item: SourceItem, digest: str, now: datetime) -> Understood:
    """A quarantined item read again by its own door's parser: a web submission is JSON."""
    if item.source == WEB_SOURCE:
        return read_item(item, digest, now)
    return understand_mail(item, digest, now)


@click.group()
def quarantine() -> None:
    """隔离区 / items that could not be processed."""


@quarantine.command("list")
@click.option("--all", "show_all", is_flag=True, help="含已处理 / include resolved items")
@click.pass_obj
def list_quarantine(obj: Context, show_all: bool) -> None:
    """列出隔离项 / list quarantined items with their reasons."""
    app, t = obj.app()
    with app.session_factory() as session:
        items = queries.quarantine_items(session, include_resolved=show_all)
    if not items:
        console.print(t("quarantine_empty"))
        return
    table = Table()
    for name in ("ID", "source", "location", "reason"):
        table.add_column(name, overflow="fold")
    for item in items:
        table.add_row(str(item.id), item.source, escape(item.location),
                      escape(item.reason[:200]))
    console.print(table)


@quarantine.command("show")
@click.argument("item_id", type=int)
@click.pass_obj
def show_quarantine(obj: Context, item_id: int) -> None:
    """显示一个隔离项 / show one item: where from, why, and what the mail looks like."""
    app, t = obj.app()
    with app.session_factory() as session:
        item = queries.quarantine_item(session, item_id)
    if item is None:
        fail(t("quarantine_not_found", id=item_id))
        return
    console.print(f"ID {item.id}  {item.source}  {item.location}")
    console.print(f"{item.created_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}  "
                  f"resolved: {item.resolved_at or '-'}")
    console.print(item.reason, markup=False)
    if not item.raw_sha256 or item.raw_sha256 not in app.raw_store:
        console.print(t("quarantine_raw_missing"))
        return
    raw = app.raw_store.get(item.raw_sha256)
    console.print(f"raw: {len(raw)} bytes, sha256 {item.raw_sha256}")
    try:
        mail = parse_mail(raw)
    except Exception as exc:  # the item is here because it may not parse
        console.print(f"(unparseable: {type(exc).__name__}: {exc})", markup=False)
        return
    console.print(f"From: {mail.from_name} <{mail.from_email}>\nSubject: {mail.subject}\n\n"
                  f"{mail.text[:2000]}", markup=False)


@quarantine.command("retry")
@click.argument("item_id", type=int)
@click.pass_obj
def retry_quarantine(obj: Context, item_id: int) -> None:
    """重新处理一个隔离项 / process one item again (it stays if it fails again)."""
    app, t = obj.app()
    with app.session_factory() as session:
        item = queries.quarantine_item(session, item_id)
    if item is None or not item.source.startswith(("imap:", "maildir:")):
        fail(t("quarantine_not_found", id=item_id) + " (mail items only)")
        return
    try:
        outcome = retry_quarantined(app.ledger, item_id, parse_any)
    except RetryError as exc:
        fail(t("quarantine_not_found", id=item_id) + f" ({exc})")
        return
    except Exception as exc:
        fail(t("quarantine_retry_failed", id=item_id, error=f"{type(exc).__name__}: {exc}"))
        return
    console.print(t("quarantine_retried", id=item_id, kind=outcome.kind,
                    ref=outcome.reference or ""))
