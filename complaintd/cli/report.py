"""``complaintd report``: the annual report, the supervising body's figures and the
director's monthly summary, by hand (the console and the scheduler use the same code)."""

from __future__ import annotations

from pathlib import Path

import click

from complaintd import reporting
from complaintd.cli.context import Context, console, fail
from complaintd.cli.i18n import MESSAGES
from web.report.annual import render
from web.report.export import csv_text, workbook

MESSAGES.update({
    "report_written": ("已写入 {path}", "written to {path}"),
    "report_bad_year": ("年份无效：{detail}", "bad year: {detail}"),
    "report_need_file": ("请用 --xlsx 或 --csv 指定输出文件", "give --xlsx FILE or --csv FILE"),
    "report_queued": ("月报已排队：{n} 封", "monthly summary queued: {n} mail(s)"),
    "report_no_director": ("未配置 [reports] director_to，未发送月报",
                           "no [reports] director_to configured: nothing queued"),
})

LANG = click.Choice(["zh", "en"])


@click.group()
def report() -> None:
    """统计报告 / reports: the annual report, figures for the supervising body, the
    director's monthly summary."""


@report.command()
@click.argument("year", type=int)
@click.option("--edition", type=click.Choice(["public", "internal"]), default="internal",
              show_default=True, help="公开版或内部版 / public (website) or internal (board)")
@click.option("--lang", "lang", type=LANG, default="zh", show_default=True,
              help="报告语言 / the report's language")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="输出文件 / output file (default annual-YEAR-EDITION-LANG.html)")
@click.pass_obj
def annual(obj: Context, year: int, edition: str, lang: str, out: Path | None) -> None:
    """年度报告（HTML，可打印）/ the annual report as one self-contained HTML file."""
    app, t = obj.app()
    try:
        made = reporting.annual(app, year, edition="public" if edition == "public" else
                                "internal", lang=lang)
    except ValueError as exc:
        fail(t("report_bad_year", detail=exc))
        return
    path = out or Path(f"annual-{year}-{edition}-{lang}.html")
    path.write_text(render(made, reporting.organisation(app, lang)), encoding="utf-8")
    console.print(t("report_written", path=path))
    app.close()


@report.command()
@click.argument("year", type=int)
@click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Excel 工作簿 / the workbook (one sheet per table, definitions)")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="CSV 文件 / one CSV file: table, row, column, value")
@click.option("--edition", type=click.Choice(["supervisor", "public"]), default="supervisor",
              show_default=True,
              help="报主管单位（全部数字，无姓名）或公开版 / every count without names, or public")
@click.option("--lang", "lang", type=LANG, default="zh", show_default=True)
@click.pass_obj
def figures(obj: Context, year: int, xlsx: Path | None, csv_path: Path | None, edition: str,
            lang: str) -> None:
    """报业务主管单位的统计数字 / the figures for the supervising body (clause 三(四))."""
    app, t = obj.app()
    if xlsx is None and csv_path is None:
        fail(t("report_need_file"))
    try:
        made = reporting.annual(app, year, edition="public" if edition == "public" else
                                "supervisor", lang=lang)
    except ValueError as exc:
        fail(t("report_bad_year", detail=exc))
        return
    if xlsx is not None:
        xlsx.write_bytes(workbook(made))
        console.print(t("report_written", path=xlsx))
    if csv_path is not None:
        # With a byte order mark: Excel opens UTF-8 Chinese correctly only so.
        csv_path.write_text(csv_text(made), encoding="utf-8-sig", newline="")
        console.print(t("report_written", path=csv_path))
    app.close()


@report.command()
@click.pass_obj
def monthly(obj: Context) -> None:
    """现在发送上月的月报（每月只发一次）/ queue last month's summary to the director now
    (once per month: a second run queues nothing new)."""
    app, t = obj.app()
    if not app.settings.reports.director_to:
        console.print(t("report_no_director"))
        return
    rows = reporting.mail_monthly_summary(app)
    console.print(t("report_queued", n=len(rows)))
    app.close()
