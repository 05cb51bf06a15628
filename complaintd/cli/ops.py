"""Operators' commands: ``health``, ``backup``, ``restore``, ``install-units`` and
``db copy-to`` (complaintd.ops)."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from casework.db import make_engine
from complaintd.cli.context import Context, console, fail
from complaintd.cli.i18n import Translator
from complaintd.logs import configure_logging
from complaintd.migrate import current_and_head
from complaintd.ops import backup as backups
from complaintd.ops import status, units
from complaintd.ops.copy import CopyError, copy_database
from complaintd.settings import ConfigError, store_sealer

MESSAGES: dict[str, tuple[str, str]] = {
    "backup_done": ("备份完成：{path}（{db}，{cases} 件案件，{files} 个文件）。",
                    "Backup written: {path} ({db}, {cases} cases, {files} files)."),
    "backup_failed": ("备份失败：{detail}", "Backup failed: {detail}"),
    "restore_done": ("恢复完成：{cases} 件案件，{files} 个文件，全部核对无误。",
                     "Restored: {cases} cases, {files} files, every one checked."),
    "restore_old": ("备份的数据库结构为 {rev}，请运行：complaintd db upgrade",
                    "The backup's schema is {rev}; run: complaintd db upgrade"),
    "restore_problems": ("恢复后核对发现问题：", "The check after restoring found problems:"),
    "restore_failed": ("恢复失败：{detail}", "Restore failed: {detail}"),
    "copy_table": ("  {table}：{rows} 行", "  {table}: {rows} rows"),
    "copy_done": ("已复制到 {url}：共 {rows} 行，各表行数核对一致。请把配置中的 "
                  "storage.database_url 改为新数据库。",
                  "Copied to {url}: {rows} rows, every table's count checked. Point "
                  "storage.database_url in the settings at the new database."),
    "copy_failed": ("复制失败（目标数据库未作改动）：{detail}",
                    "Copy failed (the target database is unchanged): {detail}"),
    "units_written": ("已写入 {path}", "Written: {path}"),
    "units_next": ("下一步：systemctl daemon-reload && systemctl enable --now complaintd",
                   "Next: systemctl daemon-reload && systemctl enable --now complaintd"),
}


def say(t: Translator, key: str, **values: object) -> str:
    zh, en = MESSAGES[key]
    return (en if t.language == "en" else zh).format(**values)


@click.command("health")
@click.pass_obj
def health(obj: Context) -> None:
    """检查运行状况，输出一行 JSON / check the installation: one JSON line; exit 1 if unwell."""
    app, _t = obj.app()
    report = status.health(app)
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    app.close()
    sys.exit(0 if report.ok else 1)


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path), required=False)
@click.pass_obj
def backup(obj: Context, dest: Path | None) -> None:
    """备份数据库与原始文件 / back up the database and the raw store into one tar file."""
    app, t = obj.app()
    now = datetime.now(UTC)
    dest = dest or Path(f"complaintd-backup-{now:%Y%m%dT%H%M%SZ}.tar")
    revision = current_and_head(app.engine)[0]
    try:
        report = backups.backup(app.engine, app.settings.data_dir, dest.resolve(),
                                revision=revision, now=now)
    except (backups.BackupError, OSError) as exc:
        fail(say(t, "backup_failed", detail=exc), code=1)
        return
    console.print(escape(say(t, "backup_done", path=report.path, db=report.database,
                             cases=report.rows.get("cases", 0), files=report.files)))
    app.close()


@click.command("restore")
@click.argument("source", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.pass_obj
def restore(obj: Context, source: Path) -> None:
    """从备份恢复到空的数据目录 / restore a backup into an empty data folder and database."""
    settings = obj.settings()  # no App: it would create the database file being restored
    t = obj.t(settings)
    configure_logging(settings.logging.level, settings.logging.format)
    engine = make_engine(settings.database_url)
    try:
        report = backups.restore(source, engine, settings.data_dir, store_sealer(settings))
    except (backups.BackupError, OSError, ConfigError) as exc:
        fail(say(t, "restore_failed", detail=exc), code=1)
        return
    finally:
        engine.dispose()
    if report.problems:
        console.print(f"[red]{escape(say(t, 'restore_problems'))}[/red]")
        for problem in report.problems:
            console.print(f"[red]  {escape(problem)}[/red]")
        sys.exit(1)
    console.print(say(t, "restore_done", cases=report.rows.get("cases", 0), files=report.files))
    engine = make_engine(settings.database_url)
    current, head = current_and_head(engine)
    engine.dispose()
    if current != head:
        console.print(say(t, "restore_old", rev=current or "-"))


@click.command("copy-to")
@click.argument("url")
@click.pass_obj
def copy_to(obj: Context, url: str) -> None:
    """把数据复制到一个空的 PostgreSQL 数据库 / copy every row into an empty PostgreSQL
    database (URL like postgresql+psycopg://user@host/db; password from PGPASSWORD)."""
    app, t = obj.app()
    target = make_engine(url)
    shown = target.url.render_as_string(hide_password=True)
    try:
        report = copy_database(app.engine, target, progress=lambda table, rows: console.print(
            say(t, "copy_table", table=table, rows=rows)))
    except (CopyError, SQLAlchemyError, OSError) as exc:
        fail(say(t, "copy_failed", detail=exc), code=1)
        return
    finally:
        target.dispose()
    console.print(say(t, "copy_done", url=shown, rows=sum(report.rows.values())))
    app.close()


@click.command("install-units")
@click.option("--dir", "directory", type=click.Path(path_type=Path), required=True,
              help="写入目录 / where to write, e.g. /etc/systemd/system")
@click.option("--user", default="complaintd", show_default=True,
              help="运行服务的专用用户 / the dedicated user the service runs as")
@click.option("--exec", "executable", type=click.Path(path_type=Path), default=None,
              help="complaintd 可执行文件 / the complaintd executable (default: this one)")
@click.option("--env-file", type=click.Path(path_type=Path),
              default=Path("/etc/complaintd/complaintd.env"), show_default=True,
              help="存放密钥的环境文件 / environment file with the secrets (0600)")
@click.pass_obj
def install_units(obj: Context, directory: Path, user: str, executable: Path | None,
                  env_file: Path) -> None:
    """写入 systemd 单元文件 / write the hardened systemd units of the daemon and console."""
    settings = obj.settings()
    t = obj.t(settings)
    found = shutil.which("complaintd")
    options = units.UnitOptions(
        exec=(executable or Path(found or sys.argv[0])).absolute(),  # a venv link stays
        config=obj.config_path.resolve(), data_dir=settings.data_dir.resolve(), user=user,
        env_file=env_file, writable=units.writable_paths(settings))
    try:
        written = units.install(options, directory)
    except ValueError as exc:
        fail(str(exc), code=1)
        return
    for path in written:
        console.print(say(t, "units_written", path=path))
    console.print(say(t, "units_next"))
