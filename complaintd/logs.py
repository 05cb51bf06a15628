"""Structured log lines, one event a line: logfmt (``ts=… level=… logger=… msg="…"``) by
default, or JSON objects (``[logging] format = "json"`` or ``COMPLAINTD_LOG_FORMAT=json``)
for journald and log shippers.

Complainants' names, addresses and text are logged at DEBUG only.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

FORMAT_ENV = "COMPLAINTD_LOG_FORMAT"


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = (f"ts={_timestamp(record)} level={record.levelname} logger={record.name} "
                f"msg={_quote(record.getMessage())}")
        if record.exc_info:
            line += f" exc={_quote(self.formatException(record.exc_info))}"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object a line; a traceback is a field, never a second line, so journald
    and a shipper keep one record per event."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": _timestamp(record), "level": record.levelname,
                 "logger": record.name, "msg": record.getMessage()}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def log_format(configured: str = "logfmt") -> str:
    """The format asked for: the environment (a unit file's ``Environment=``) wins."""
    wanted = os.environ.get(FORMAT_ENV, "").strip().lower()
    return wanted if wanted in {"logfmt", "json"} else configured


def configure_logging(level: str, fmt: str = "logfmt") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format(fmt) == "json" else LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler's own INFO lines ("Running job …") drown the ones that matter.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
