"""Operators' commands for personal-information duties (docs/privacy.md): a person's
copy, correction and erasure, the retention purge, the access log, and the store keys.
Every one of them is written to the privacy register with the operator's name."""

from __future__ import annotations

import getpass
import os
import sys
from datetime import datetime, time
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from casework.clock import SHANGHAI
from casework.sealing import SealError, new_key_line
from complaintd.app import App
from complaintd.cli.context import Context, console, fail
from privacy.access import access_csv, access_log
from privacy.person import (
    CORRECTABLE,
    ErasureReport,
    PersonNotFound,
    Who,
    correct_person,
    erase_person,
    erasure_summary,
    export_person,
    log_action,
)
from privacy.retention import PurgeReport

# Messages of these commands: (Simplified Chinese, English).
_WORDS: dict[str, tuple[str, str]] = {
    "not_found": ("没有保存与 {who} 有关的个人信息。", "Nothing is held about {who}."),
    "exported": ("已导出到 {path}（{size} 字节）。", "Exported to {path} ({size} bytes)."),
    "corrected": ("已更正 {fields}，涉及案件：{refs}", "Corrected {fields}; cases: {refs}"),
    "erased": ("已清除个人信息的案件：{refs}", "Personal data erased from cases: {refs}"),
    "would_erase": ("（演练）将清除的案件：{refs}", "(dry run) would erase cases: {refs}"),
    "held": ("保留（法定保存）：{ref} — {why}", "Kept (legal hold): {ref} — {why}"),
    "erase_counts": ("删除原始文件 {files} 个、当事人记录 {parties} 条；"
                     "他人案件中的来信清空 {msgs} 封；违诺登记保留 {violations} 条。",
                     "{files} raw files and {parties} party records removed; {msgs} messages to "
                     "other cases blanked; {violations} violation register rows kept."),
    "erase_call_logs": ("热线通话记录文件：删除 {removed} 个；{kept} 个仍为其他案件所需，"
                        "其中此人的一行在文件删除前仅保存、不再使用。",
                        "Hotline call-log files: {removed} removed; {kept} still needed by "
                        "other cases keep this person's row, stored only, until they go."),
    "purged": ("已清除 {n} 件超过保存期限的案件。", "Purged {n} cases past their retention."),
    "would_purge": ("（演练）将清除 {n} 件超过保存期限的案件：",
                    "(dry run) would purge {n} cases:"),
    "purge_counts": ("原始文件 {files} 个，当事人记录 {parties} 条，隔离邮件 {quarantine} 封，"
                     "热线通话记录文件 {call_logs} 个，热线归档文件夹 {archive} 个。",
                     "{files} raw files, {parties} party records, {quarantine} quarantined "
                     "mails, {call_logs} hotline call-log files, {archive} hotline archive "
                     "folders."),
    "confirm_erase": ("确认清除 {who} 的个人信息？此操作不可撤销。",
                      "Erase the personal data of {who}? This cannot be undone."),
    "resealed": ("已用当前密钥 {key_id} 重新加密 {n} 个文件（{current} 个已是当前密钥）。",
                 "Resealed {n} files with the current key {key_id} ({current} were current)."),
    "not_encrypting": ("未开启存储加密（privacy.encrypt_store）。",
                       "Encryption at rest is off (privacy.encrypt_store)."),
    "no_views": ("没有符合条件的查阅记录。", "No views match."),
}


def _say(obj: Context, key: str, **values: object) -> str:
    zh, en = _WORDS[key]
    return (en if obj.t().language == "en" else zh).format(**values)


def _actor(given: str | None) -> str:
    return given or f"cli:{getpass.getuser()}"


def _who(email: str | None, phone: str | None) -> Who:
    try:
        return Who(email=email or "", phone=phone or "")
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


_person = [
    click.option("--email", default=None, help="电子邮箱 / email address"),
    click.option("--phone", default=None, help="电话号码 / phone number"),
    click.option("--as", "actor", default=None,
                 help="操作人（记入登记）/ who asks (written to the register)"),
]


def _person_options(fn: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(_person):
        fn = option(fn)
    return fn


@click.group()
def privacy() -> None:
    """个人信息 / personal information (PIPL): copy, correct, erase, retention, access log."""


@privacy.command("export")
@_person_options
@click.option("--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="写入的 zip 文件 / the zip file to write")
@click.pass_obj
def export(obj: Context, email: str | None, phone: str | None, actor: str | None,
           out_path: Path) -> None:
    """导出某人的全部个人信息（zip：JSON 与原始文件）/ everything held about a person."""
    app, _t = obj.app()
    who = _who(email, phone)
    try:
        with app.session_factory.begin() as session:
            data = export_person(session, app.raw_store, who)
            log_action(session, at=app.clock.now(), actor=_actor(actor), action="export",
                       subject=app.privacy_subject(who), dry_run=False,
                       details={"bytes": len(data)})
    except PersonNotFound:
        fail(_say(obj, "not_found", who=escape(email or phone or "")), code=1)
    # The copy holds health information: the operator's alone, as the raw store is.
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    console.print(_say(obj, "exported", path=escape(str(out_path)), size=len(data)))
    app.close()


@privacy.command("correct")
@_person_options
@click.option("--set", "changes", multiple=True, required=True, metavar="FIELD=VALUE",
              help=f"要更正的字段（{', '.join(CORRECTABLE)}）/ a field to correct")
@click.pass_obj
def correct(obj: Context, email: str | None, phone: str | None, actor: str | None,
            changes: tuple[str, ...]) -> None:
    """更正某人的姓名、邮箱或电话 / correct a person's name, email or phone."""
    app, _t = obj.app()
    who = _who(email, phone)
    wanted = dict(_pair(c) for c in changes)
    try:
        with app.session_factory.begin() as session:
            refs = correct_person(session, who, wanted, now=app.clock.now(),
                                  actor=_actor(actor))
            log_action(session, at=app.clock.now(), actor=_actor(actor), action="correct",
                       subject=app.privacy_subject(who), dry_run=False,
                       details={"cases": refs, "fields": sorted(wanted)})
    except PersonNotFound:
        fail(_say(obj, "not_found", who=escape(email or phone or "")), code=1)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    console.print(_say(obj, "corrected", fields=", ".join(sorted(wanted)),
                       refs=", ".join(refs) or "-"))
    app.close()


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep:
        raise click.UsageError(f"--set {text!r}: write FIELD=VALUE")
    return name.strip(), value


@privacy.command("erase")
@_person_options
@click.option("--dry-run", is_flag=True, help="只列出，不清除 / list only, change nothing")
@click.option("--yes", is_flag=True, help="不再确认 / do not ask for confirmation")
@click.pass_obj
def erase(obj: Context, email: str | None, phone: str | None, actor: str | None,
          dry_run: bool, yes: bool) -> None:
    """清除某人的个人信息（进行中的案件与违诺登记依法保留）/ erase a person's data
    (open cases and the violations register are kept: legal hold)."""
    app, _t = obj.app()
    who = _who(email, phone)
    if not dry_run and not yes:
        click.confirm(_say(obj, "confirm_erase", who=email or phone), abort=True)
    try:
        with app.session_factory.begin() as session:
            report = erase_person(session, app.raw_store, who, now=app.clock.now(),
                                  actor=_actor(actor), dry_run=dry_run)
            log_action(session, at=app.clock.now(), actor=_actor(actor), action="erase",
                       subject=app.privacy_subject(who), dry_run=dry_run,
                       details=erasure_summary(report))
    except PersonNotFound:
        fail(_say(obj, "not_found", who=escape(email or phone or "")), code=1)
    _print_erasure(obj, report, dry_run)
    app.close()


def _print_erasure(obj: Context, report: ErasureReport, dry_run: bool) -> None:
    refs = ", ".join(report.erased) or "-"
    console.print(_say(obj, "would_erase" if dry_run else "erased", refs=refs))
    for ref, why in report.held:
        console.print(_say(obj, "held", ref=ref, why=why))
    console.print(_say(obj, "erase_counts", files=report.files_removed,
                       parties=report.parties_removed, msgs=report.messages_blanked,
                       violations=report.violations_kept))
    if report.call_logs_removed or report.call_logs_kept:
        console.print(_say(obj, "erase_call_logs", removed=report.call_logs_removed,
                           kept=report.call_logs_kept))


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="只列出，不清除 / list only, change nothing")
@click.option("--as", "actor", default=None, help="操作人 / who runs it")
@click.pass_obj
def purge_cmd(obj: Context, dry_run: bool, actor: str | None) -> None:
    """清除超过保存期限的个人信息 / purge personal data past its retention."""
    app, _t = obj.app()
    report = app.purge_personal_data(dry_run=dry_run, actor=_actor(actor))
    _print_purge(obj, report, dry_run)
    app.close()


def _print_purge(obj: Context, report: PurgeReport, dry_run: bool) -> None:
    if dry_run:
        console.print(_say(obj, "would_purge", n=len(report.purged)))
        for ref, end in report.purged:
            console.print(f"  {ref}  {end.isoformat()}")
        for name in report.call_logs:
            console.print(f"  {escape(name)}")
    else:
        console.print(_say(obj, "purged", n=len(report.purged)))
    for ref, why in report.held:
        console.print(_say(obj, "held", ref=ref, why=why))
    console.print(_say(obj, "purge_counts", files=report.files_removed,
                       parties=report.parties_removed, quarantine=report.quarantine_cleared,
                       call_logs=len(report.call_logs), archive=len(report.archive_folders)))


@privacy.command("access-log")
@click.option("--case", "reference", default=None, help="案件编号 / a case's reference")
@click.option("--staff", default=None, help="查阅人 / who viewed")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="起始日期（含）/ from this day (Shanghai)")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="截止日期（不含）/ up to this day, exclusive")
@click.option("--csv", "as_csv", is_flag=True, help="输出 CSV / write CSV to stdout")
@click.pass_obj
def access(obj: Context, reference: str | None, staff: str | None, since: datetime | None,
           until: datetime | None, as_csv: bool) -> None:
    """案件查阅记录（谁在何时查看了哪件案件）/ the access log: who viewed which case, when."""
    app, _t = obj.app()
    with app.session_factory() as session:
        entries = access_log(session, reference=reference, staff=staff,
                             since=_day_start(since), until=_day_start(until))
    if as_csv:
        sys.stdout.write(access_csv(entries))
    elif not entries:
        console.print(_say(obj, "no_views"))
    else:
        table = Table()
        for column in ("at", "staff", "reference", "what"):
            table.add_column(column)
        for e in entries:
            table.add_row(f"{e.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}", escape(e.staff),
                          e.reference, escape(e.what))
        console.print(table)
    app.close()


def _day_start(day: datetime | None) -> datetime | None:
    return None if day is None else datetime.combine(day.date(), time(), SHANGHAI)


@privacy.command("new-key")
@click.option("--id", "key_id", default=None, help="密钥编号 / the key's id (default: today)")
def new_key(key_id: str | None) -> None:
    """生成一个存储加密密钥（id:base64）/ print a new store key (id:base64)."""
    try:
        click.echo(new_key_line(key_id or datetime.now(SHANGHAI).strftime("k%Y%m%d")))
    except SealError as exc:
        raise click.UsageError(str(exc)) from exc


@privacy.command("reseal")
@click.option("--as", "actor", default=None, help="操作人 / who runs it")
@click.pass_obj
def reseal(obj: Context, actor: str | None) -> None:
    """用当前密钥重新加密全部原始文件（密钥轮换）/ reseal every stored file with the
    current key (key rotation; also encrypts files written before encryption was on)."""
    app, _t = obj.app()
    sealer = app.raw_store.sealer
    if sealer is None:
        fail(_say(obj, "not_encrypting"), code=1)
        return
    try:
        rewritten, current = app.raw_store.reseal()
    except SealError as exc:
        fail(str(exc), code=1)
        return
    _log_reseal(app, actor, rewritten, current, sealer.current.key_id)
    console.print(_say(obj, "resealed", n=rewritten, current=current,
                       key_id=sealer.current.key_id))
    app.close()


def _log_reseal(app: App, actor: str | None, rewritten: int, current: int, key: str) -> None:
    with app.session_factory.begin() as session:
        log_action(session, at=app.clock.now(), actor=_actor(actor), action="reseal",
                   subject=None, dry_run=False,
                   details={"rewritten": rewritten, "current": current, "key": key})
