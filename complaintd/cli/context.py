"""What every ``complaintd`` command shares: the settings, the App, messages and errors."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console

from casework.clock import SystemClock
from complaintd.app import App, RoundReport
from complaintd.cli.i18n import Translator, pick_language
from complaintd.logs import configure_logging
from complaintd.settings import ConfigError, Settings, load_settings
from notifications.renderer import TemplateCheckError

console = Console()

# Files and folders the service creates (database, raw store, outbox, hotline folders) are
# its user's alone: they hold complainants' health data.
PRIVATE_UMASK = 0o077


@dataclass
class Context:
    config_path: Path
    lang_option: str | None

    def __post_init__(self) -> None:
        # Every command (run, demo, import…) starts here, before anything is written.
        os.umask(PRIVATE_UMASK)

    def settings(self) -> Settings:
        if not self.config_path.exists():
            fail(self.t()("no_config", path=self.config_path))
        try:
            return load_settings(self.config_path)
        except ConfigError as exc:
            fail(self.t()("config_error", detail=exc))
        raise AssertionError("unreachable")

    def t(self, settings: Settings | None = None) -> Translator:
        configured = settings.organisation.language if settings else None
        return Translator(pick_language(self.lang_option, configured))

    def app(self) -> tuple[App, Translator]:
        settings = self.settings()
        configure_logging(settings.logging.level, settings.logging.format)
        t = self.t(settings)
        try:
            return App.build(settings, SystemClock()), t
        except TemplateCheckError as exc:
            fail(t("config_error", detail=f"{self.config_path}: templates.override_dir: {exc}"))
        raise AssertionError("unreachable")


def fail(message: str, code: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(code)



def print_round(report: RoundReport, t: Translator) -> None:
    console.print(t(
        "round_done", cases=report.count("case"), follow_ups=report.count("follow_up"),
        ignored=report.count("ignored"), quarantined=report.count("quarantined"),
        duplicates=report.count("duplicate"),
        hotline=sum(r.imported + r.follow_ups for r in report.hotline),
        sent=report.sent, retried=report.retried, failed=report.failed,
        overdue=len(report.overdue)))
    for error in report.errors:
        console.print(f"[red]{error}[/red]")
