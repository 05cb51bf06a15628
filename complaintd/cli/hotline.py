"""Staff commands for the hotline: import call logs by hand, list and close follow-up calls."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from casework import queries
from casework.clock import SHANGHAI
from casework.tasks import CallTask, TaskAlreadyDone, TaskNotFound, complete_task
from complaintd.cli.context import Context, console, fail
from complaintd.cli.i18n import Translator
from intake.hotline import HotlineImporter, ImportReport
from intake.hotline.formats import estimate_rows


@click.group()
def hotline() -> None:
    """热线记录与回访 / hotline call logs and follow-up calls."""


@hotline.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False))  # fmt: skip
@click.pass_obj
def import_files(obj: Context, files: tuple[Path, ...]) -> None:
    """手工导入热线记录 / import call logs now (.csv .tsv .xlsx .jsonl).

    每个文件导入后移到归档目录，有错误的行写入旁边的错误报告；有行未导入时退出码为 1。
    Each file is moved to the archive with its error report; exit code 1 when rows were rejected.
    """
    app, t = obj.app()
    importer = app.hotline_importer()
    if importer is None:
        fail(t("hotline_off"))
        return
    reports = [r for r in (_import_one(importer, path, t) for path in files) if r is not None]
    console.print(_summary(reports, t))
    app.close()
    rejected = sum(r.rejected_rows for r in reports)
    if rejected:
        console.print(f"[yellow]{t('hotline_rejected_note', n=rejected)}[/yellow]")
    sys.exit(1 if rejected or len(reports) < len(files) else 0)


def _import_one(importer: HotlineImporter, path: Path, t: Translator) -> ImportReport | None:
    if not path.is_file():
        console.print(f"[red]{t('hotline_missing_file', file=path)}[/red]")
        return None
    with open(path, "rb") as fh:
        total = estimate_rows(fh)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(t("hotline_importing", file=path.name), total=total)
        report = importer.import_file(path, lambda done: progress.update(task, completed=done))
    if report is None:
        console.print(f"[yellow]{t('hotline_busy', file=path.name)}[/yellow]")
    return report


def _summary(reports: list[ImportReport], t: Translator) -> Table:
    """One column per file, one line per figure: readable in an 80-column terminal."""
    table = Table(title=t("hotline_summary_title"))
    table.add_column("")
    for r in reports:
        table.add_column(r.file, overflow="fold")
    lines = [
        ("hotline_col_imported", [str(r.imported) for r in reports]),
        ("hotline_col_follow_ups", [str(r.follow_ups) for r in reports]),
        ("hotline_col_duplicates", [str(r.duplicates) for r in reports]),
        ("hotline_col_rejected",
         [f"[red]{r.rejected_rows}[/red]" if r.rejected_rows else "0" for r in reports]),
        ("hotline_col_report", [str(r.report_path or "-") for r in reports]),
        ("hotline_col_moved_to", [str(r.archived_to) for r in reports]),
    ]  # fmt: skip
    for key, values in lines:
        table.add_row(t(key), *values)
    return table


@hotline.command("callbacks")
@click.option("--due", is_flag=True, help="只看今天及以前到期的 / only those due by today")
@click.pass_obj
def list_callbacks(obj: Context, due: bool) -> None:
    """列出待办回访电话 / list the follow-up calls still to make."""
    app, t = obj.app()
    today = app.clock.now().astimezone(SHANGHAI).date()
    with app.session_factory() as session:
        tasks = queries.due_tasks(session, today if due else None)
        rows = [_task_row(task, t) for task in tasks]
    app.close()
    if not rows:
        console.print(t("hotline_no_tasks"))
        return
    table = Table(title=t("hotline_tasks_title", n=len(rows)))
    for key in ("hotline_col_task", "col_reference", "hotline_col_kind", "hotline_col_phone",
                "hotline_col_due"):  # fmt: skip
        table.add_column(t(key), no_wrap=True)  # a number cut in two would be misdialled
    table.add_column(t("col_subject"), overflow="fold")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))  # names and subjects as typed
    console.print(table)


def _task_row(task: CallTask, t: Translator) -> tuple[str, ...]:
    return (str(task.id), task.case.reference, t(f"hotline_kind_{task.kind}"), task.phone,
            task.due.isoformat(), task.case.subject[:40])  # fmt: skip


@hotline.command("done")
@click.argument("task_id", type=int)
@click.option("--outcome", required=True, help="通话结果 / what came of the call")
@click.option("--by", "by", default=None, help="经办人（默认当前用户）/ who called (default: you)")
@click.pass_obj
def done(obj: Context, task_id: int, outcome: str, by: str | None) -> None:
    """完成回访任务 / close a follow-up call task with its outcome."""
    app, t = obj.app()
    try:
        with app.session_factory.begin() as session:
            task = complete_task(session, task_id, outcome=outcome, by=by or getpass.getuser(),
                                 now=app.clock.now())  # fmt: skip
            reference = task.case.reference
    except TaskNotFound:
        fail(t("hotline_task_not_found", id=task_id), code=1)
        return
    except TaskAlreadyDone:
        fail(t("hotline_task_already_done", id=task_id), code=1)
        return
    finally:
        app.close()
    console.print(t("hotline_task_done", id=task_id, ref=reference))

