"""The daemon as a real process: it works until SIGTERM, then finishes and exits 0.
And the deadline sweep: an overdue case is marked once and listed by --overdue."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from casework.clock import SHANGHAI, FixedClock
from casework.models import Case
from complaintd.app import App
from complaintd.cli import main
from complaintd.migrate import upgrade
from complaintd.settings import load_settings

CONFIG = """
[storage]
data_dir = "var"
[schedule]
poll_seconds = 0.2
send_seconds = 0.2
sweep_seconds = 0.2
[[mailbox]]
kind = "maildir"
name = "local"
path = "mail"
[smtp]
transport = "file"
"""


def complaint(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"person{n}@example.cn"
    msg["Subject"] = f"投诉 {n}"
    msg["Message-ID"] = f"<svc-{n}@example.cn>"
    msg.set_content("服务太慢。", charset="utf-8")
    return bytes(msg)


def setup(tmp_path: Path) -> Path:
    config = tmp_path / "complaintd.toml"
    config.write_text(CONFIG, encoding="utf-8")
    (tmp_path / "mail" / "new").mkdir(parents=True)
    result = CliRunner().invoke(main, ["--config", str(config), "db", "upgrade"])
    assert result.exit_code == 0, result.output
    return config


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_daemon_works_until_sigterm_then_exits_cleanly(tmp_path: Path) -> None:
    config = setup(tmp_path)
    (tmp_path / "mail" / "new" / "1.M1.host").write_bytes(complaint(1))
    process = subprocess.Popen(
        [sys.executable, "-c", "from complaintd.cli import main; main()",
         "--config", str(config), "--lang", "en", "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        sent = tmp_path / "var" / "sent-mail"
        wait_for(lambda: sent.exists() and len(list(sent.glob("*.eml"))) == 1)
        # Mail that arrives while the daemon runs is picked up on the next poll.
        (tmp_path / "mail" / "new" / "2.M2.host").write_bytes(complaint(2))
        wait_for(lambda: len(list(sent.glob("*.eml"))) == 2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill() if process.poll() is None else None
    assert process.returncode == 0, err
    assert "complaintd stopped" in out
    assert 'msg="service stopped"' in err
    assert "SIGTERM" in err


def test_overdue_case_is_marked_once_and_listed(tmp_path: Path) -> None:
    config = setup(tmp_path)
    (tmp_path / "mail" / "new" / "1.M1.host").write_bytes(complaint(1))
    clock = FixedClock(datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI))
    app = App.build(load_settings(config), clock)
    upgrade(app.engine)
    app.run_once()
    with app.session_factory() as session:
        case = session.scalars(select(Case)).one()
        # Received on Tuesday 29 September; 15 working days skip the National Day holiday
        # (1–7 October) and count the make-up Saturday 10 October.
        assert case.resolve_due == datetime(2026, 10, 26).date()
    clock.advance(timedelta(days=27))
    assert app.run_once().overdue == []  # due today, not yet late
    clock.advance(timedelta(days=1))
    assert app.run_once().overdue == [case.reference]
    assert app.run_once().overdue == []  # recorded once
    with app.session_factory() as session:
        kinds = [e.kind for e in session.get_one(Case, case.id).events]
    assert kinds.count("deadline_missed") == 1
    app.close()
    listing = CliRunner().invoke(main, ["--config", str(config), "--lang", "en",
                                        "cases", "list", "--overdue"])
    assert listing.exit_code == 0
    assert case.reference in listing.output and "overdue" in listing.output


def test_flagged_cases_are_marked_in_the_list(tmp_path: Path) -> None:
    config = setup(tmp_path)
    (tmp_path / "mail" / "new" / "1.M1.host").write_bytes(complaint(1))
    app = App.build(load_settings(config), FixedClock(datetime(2026, 11, 24, 10, tzinfo=SHANGHAI)))
    app.run_once()
    with app.session_factory.begin() as session:
        case = session.scalars(select(Case)).one()
        assert not case.needs_attention
        case.needs_attention = case.phone_follow_up = True  # as a bounced acknowledgement does
    app.close()
    listing = CliRunner().invoke(main, ["--config", str(config), "--lang", "en", "cases", "list"])
    assert listing.exit_code == 0
    assert "needs attention" in listing.output and "call the complainant" in listing.output
