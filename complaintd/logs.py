"""Structured log lines (logfmt: ``ts=… level=… logger=… msg="…"``), one event a line.

Complainants' names, addresses and text are logged at DEBUG only.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = (f"ts={ts} level={record.levelname} logger={record.name} "
                f"msg={_quote(record.getMessage())}")
        if record.exc_info:
            line += f" exc={_quote(self.formatException(record.exc_info))}"
        return line


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler's own INFO lines ("Running job …") drown the ones that matter.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
