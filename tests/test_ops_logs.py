"""Log lines as JSON when asked: one object a line, tracebacks inside it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from complaintd.logs import configure_logging


@pytest.fixture(autouse=True)
def _root_logger_kept() -> Iterator[None]:
    """These tests set the root logger up; the tests after them get it back as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_keep_one_event_a_line(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLAINTD_LOG_FORMAT", raising=False)
    configure_logging("INFO", "json")
    log = logging.getLogger("complaintd.test")
    log.info("mailbox %s: %d taken", "本地", 3)
    try:
        raise ValueError("line one\nline two")
    except ValueError:
        log.exception("job failed")
    log.debug("not shown at INFO")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["msg"] == "mailbox 本地: 3 taken"
    assert (first["level"], first["logger"]) == ("INFO", "complaintd.test")
    assert first["ts"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: line one\nline two" in second["exc"]


def test_the_environment_chooses_the_format(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTD_LOG_FORMAT", "json")
    configure_logging("INFO", "logfmt")
    logging.getLogger("complaintd.test").warning("from the unit file")
    assert json.loads(capsys.readouterr().err)["msg"] == "from the unit file"
    monkeypatch.setenv("COMPLAINTD_LOG_FORMAT", "logfmt")
    configure_logging("INFO", "json")
    logging.getLogger("complaintd.test").warning("plain")
    assert 'msg="plain"' in capsys.readouterr().err
