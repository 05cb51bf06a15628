"""The ``complaintd`` command: the service, and what staff and operators run by hand."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from casework.clock import SHANGHAI, SystemClock
from complaintd.app import App
from complaintd.cli import (
    cases,
    demo,
    handle,
    hotline,
    mailboxes,
    ops,
    outbox,
    partners,
    privacy,
    quarantine,
    report,
    templates,
    users,
    violations,
)
from complaintd.cli.context import Context, console, fail, print_round
from complaintd.cli.i18n import Translator
from complaintd.migrate import current_and_head, upgrade
from notifications.renderer import TemplateCheckError

if TYPE_CHECKING:
    from web.serve import Background


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              default=lambda: os.environ.get("COMPLAINTD_CONFIG", "complaintd.toml"),
              help="配置文件 / settings file (TOML); env COMPLAINTD_CONFIG")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="界面语言 / language of messages (zh, en); env COMPLAINTD_LANG")
@click.pass_context
def main(ctx: click.Context, config_path: Path, lang: str | None) -> None:
    """complaintd：投诉热线与举报邮箱的受理服务 / complaint hotline and mailbox service."""
    ctx.obj = Context(config_path, lang)


@main.command()
@click.option("--once", is_flag=True,
              help="每项任务各运行一轮后退出 / one round of every job, then exit")
@click.pass_obj
def run(obj: Context, once: bool) -> None:
    """运行服务 / run the service."""
    from complaintd.service import run_forever

    app, t = obj.app()
    current, head = current_and_head(app.engine)
    if current != head:
        fail(t("db_not_current", current=current or "-", head=head))
    try:
        app.start_up_checks()
    except TemplateCheckError as exc:
        fail(t("config_error", detail=exc))
    if once:
        report = app.run_once()
        print_round(report, t)
        app.close()
        sys.exit(1 if report.errors else 0)
    background = _start_web(app, t) if app.settings.web.enabled else None
    console.print(t("service_started"))
    run_forever(app)
    if background is not None:
        background.stop()
    console.print(t("service_stopped"))
    app.close()


def _start_web(app: App, t: Translator) -> Background:
    """The staff console in a thread of the daemon (``[web] enabled = true``)."""
    from complaintd.settings import ConfigError
    from web.serve import Background

    try:
        console_app = app.web_console()
    except ConfigError as exc:
        fail(t("config_error", detail=exc))
        raise
    web = app.settings.web
    background = Background(console_app, web.bind, web.port).start()
    console.print(t("web_started", url=web.base_url))
    return background


@main.command()
@click.option("--bind", default=None, help="地址 / address (default: [web] bind)")
@click.option("--port", type=int, default=None, help="端口 / port (default: [web] port)")
@click.pass_obj
def web(obj: Context, bind: str | None, port: int | None) -> None:
    """运行员工工作台 / serve the staff console."""
    from complaintd.settings import ConfigError
    from web.serve import listen, server

    app, t = obj.app()
    current, head = current_and_head(app.engine)
    if current != head:
        fail(t("db_not_current", current=current or "-", head=head))
    try:
        console_app = app.web_console()
    except ConfigError as exc:
        fail(t("config_error", detail=exc))
        return
    settings = app.settings.web
    sock = listen(bind or settings.bind, settings.port if port is None else port)
    actual = settings.model_copy(update={"bind": bind or settings.bind,
                                         "port": sock.getsockname()[1]})
    console.print(t("web_serving", url=actual.base_url))
    server(console_app).run(sockets=[sock])
    app.close()


@main.group()
def db() -> None:
    """数据库 / database."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Context) -> None:
    """升级数据库结构 / migrate the schema to the newest revision."""
    app, t = obj.app()
    upgrade(app.engine)
    console.print(t("db_upgraded", url=app.engine.url.render_as_string(hide_password=True)))
    app.close()


@main.command("calendar")
@click.argument("action", type=click.Choice(["check"]))
@click.pass_obj
def calendar_cmd(obj: Context, action: str) -> None:
    """检查工作日历 / check the working-day calendar (holidays, make-up days)."""
    settings = obj.settings()
    from casework.calendar import WorkCalendar, years_from_config

    t = obj.t(settings)
    cal = WorkCalendar.build(extra=years_from_config(settings.calendar.years),
                             fallback=settings.calendar.fallback)  # checked when loaded
    years = cal.years()
    console.print(t("calendar_ok", years=f"{years[0]}–{years[-1]}" if years else "-"))
    warnings = cal.check(SystemClock().now().astimezone(SHANGHAI).date())
    for warning in warnings:
        # Escaped: the text names the key literally, [calendar.years."2027"], which Rich
        # would otherwise take for markup and print as nothing.
        text = warning.en if t.language == "en" else warning.zh
        console.print(f"[yellow]{escape(text)}[/yellow]")
    sys.exit(1 if warnings else 0)


@main.command("config")
@click.argument("action", type=click.Choice(["check"]))
@click.pass_obj
def config_cmd(obj: Context, action: str) -> None:
    """检查配置与模板 / validate the settings and render every template."""
    app, t = obj.app()
    try:
        app.renderer.check_all()
    except TemplateCheckError as exc:
        fail(t("config_error", detail=exc))
    console.print(f"OK: {obj.config_path}")
    app.close()


for group in (cases.cases, quarantine.quarantine, mailboxes.mailboxes, demo.demo,
              outbox.outbox, templates.templates, hotline.hotline, handle.handle,
              violations.violations, users.users, partners.partners, privacy.privacy,
              report.report):
    main.add_command(group)

# Operating it (complaintd.ops): health, backup, restore, units; SQLite → PostgreSQL.
for command in (ops.health, ops.backup, ops.restore, ops.install_units):
    main.add_command(command)
db.add_command(ops.copy_to)
