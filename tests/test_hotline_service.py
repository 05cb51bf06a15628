"""The hotline in the daemon: follow-up call tasks from the real pipeline, the daily list of
due calls mailed to staff, the staff CLI, and a running daemon picking up a dropped file
at once (the drop-folder watcher) while its periodic scan is an hour away."""

from __future__ import annotations

import csv
import email
import re
import signal
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from email.policy import default as default_policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from casework.clock import SHANGHAI, FixedClock
from casework.models import Case
from casework.tasks import CallTask
from complaintd.app import App
from complaintd.cli import main
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from intake.hotline.watch import DropWatcher
from notifications.models import OutboxMail
from tests.test_hotline import ZH_HEADER, call
from tests.test_service import wait_for

# Tuesday 24 November 2026: acknowledgements are due the next working day, results in 15.
CALLED = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


def write_config(tmp_path: Path, database_url: str = "", *, min_age: float = 0) -> Path:
    config = tmp_path / "complaintd.toml"
    config.write_text(f"""
[storage]
data_dir = "var"
database_url = "{database_url}"
[schedule]
poll_seconds = 3600
send_seconds = 3600
sweep_seconds = 3600
hotline_seconds = 3600
[hotline]
drop_dir = "hotline"
min_age_seconds = {min_age}
report_languages = ["zh", "en"]
callback_list_to = ["hotline@example.org", "lead@example.org"]
callback_list_time = "08:30"
columns = {{ content = ["问题描述"] }}
[smtp]
transport = "file"
""", encoding="utf-8")  # fmt: skip
    return config


def write_calls(path: Path, rows: list[list[str]], header: list[str] = ZH_HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="gbk", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


CALLS = [
    call(来电人="无邮箱", 来电号码="13800000001", 是否回访="否"),
    call(来电人="有邮箱要回访", 来电号码="13800000002", 电子邮箱="a@example.cn", 是否回访="是"),
    call(来电人="匿名", 来电号码="", 是否回访="否", 诉求内容="匿名反映收费问题"),
    call(来电人="无邮箱要回访", 来电号码="13800000004", 是否回访="是", 诉求内容="药费"),
    call(来电人="有邮箱", 来电号码="13800000005", 电子邮箱="b@example.cn", 是否回访="否"),
]


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> App:
    settings = load_settings(write_config(tmp_path, db_url))
    app = App.build(settings, FixedClock(CALLED + timedelta(hours=6)))
    upgrade(app.engine)
    return app


def tasks_of(app: App) -> list[tuple[str, str, str, date]]:
    with app.session_factory() as session:
        tasks = session.scalars(select(CallTask).order_by(CallTask.id))
        return [(t.case.complainant.name or "-", t.kind, t.phone, t.due)  # type: ignore[union-attr]
                for t in tasks]  # fmt: skip


def test_callers_without_email_or_wanting_a_callback_get_call_tasks(app: App) -> None:
    assert app.settings.hotline.drop_dir is not None
    write_calls(app.settings.hotline.drop_dir / "calls.csv", CALLS)

    [report] = app.import_hotline()

    assert report.imported == 5
    next_working_day, fifteen_working_days = date(2026, 11, 25), date(2026, 12, 15)
    assert tasks_of(app) == [
        ("无邮箱", "acknowledge", "+8613800000001", next_working_day),
        ("有邮箱要回访", "callback", "+8613800000002", fifteen_working_days),
        ("无邮箱要回访", "acknowledge", "+8613800000004", next_working_day),
        ("无邮箱要回访", "callback", "+8613800000004", fifteen_working_days),
    ]  # the anonymous caller left no number; the caller with an address got the mail
    with app.session_factory() as session:
        case = session.scalars(select(Case).order_by(Case.id)).first()
        assert case is not None
        assert "call_task_planned" in [e.kind for e in case.events]
    app.close()


def test_a_duplicate_drop_plans_no_call_twice(app: App) -> None:
    assert app.settings.hotline.drop_dir is not None
    write_calls(app.settings.hotline.drop_dir / "calls.csv", CALLS)
    app.import_hotline()
    write_calls(app.settings.hotline.drop_dir / "calls.csv", CALLS)

    [again] = app.import_hotline()

    assert (again.imported, again.duplicates) == (0, 5)
    assert len(tasks_of(app)) == 4
    app.close()


def test_the_daily_callback_list_is_queued_once_per_recipient_and_day(app: App) -> None:
    assert app.settings.hotline.drop_dir is not None
    write_calls(app.settings.hotline.drop_dir / "calls.csv", CALLS)
    app.import_hotline()
    assert isinstance(app.clock, FixedClock)
    app.clock.set(datetime(2026, 11, 25, 8, 30, tzinfo=SHANGHAI))

    assert app.queue_callback_lists() == 2
    app.queue_callback_lists()  # the same day again (a restart): the outbox keeps one each

    with app.session_factory() as session:
        mails = session.scalars(select(OutboxMail).where(OutboxMail.case_id.is_(None))).all()
    assert sorted(m.recipient for m in mails) == ["hotline@example.org", "lead@example.org"]
    body = email.message_from_bytes(mails[0].raw, policy=default_policy)
    text = body.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    # Only the calls due by today: the two acknowledgements, not the later callbacks.
    assert "+8613800000001" in text and "+8613800000004" in text
    assert "+8613800000002" not in text
    app.close()


def test_no_list_is_mailed_on_a_day_without_due_calls(app: App) -> None:
    assert app.queue_callback_lists() == 0
    with app.session_factory() as session:
        assert session.scalars(select(OutboxMail)).all() == []
    app.close()


# --- the staff CLI ------------------------------------------------------------------------


def cli(config: Path, *args: str) -> object:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def test_staff_import_by_hand_then_list_and_close_calls(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert cli(config, "db", "upgrade").exit_code == 0  # type: ignore[attr-defined]
    header = [h if h != "诉求内容" else "问题描述" for h in ZH_HEADER]  # the site's own heading
    rows = [call(来电时间="2026-11-24 08:00", 来电号码="13800000001", 是否回访="否"),
            call(来电时间="昨天"),
            call(来电时间="2026-11-24 08:10", 诉求内容="补充", 关联编号="LO-2026-000001",
                 来电号码="13800000001")]  # fmt: skip
    source = write_calls(tmp_path / "今天的来电.csv", rows, header)

    result = cli(config, "--lang", "en", "hotline", "import", str(source))

    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    output = result.output  # type: ignore[attr-defined]
    assert "Hotline import" in output
    figures = dict(re.findall(r"│ ([A-Za-z -]+?)\s+│ (\d+)\s+│", output))
    assert figures == {"Imported": "2", "of which follow-ups": "1", "Duplicates": "0",
                       "Rejected rows": "1"}  # fmt: skip
    assert "1 rows were not imported" in output
    archived = next((tmp_path / "hotline" / "archive").glob("*/今天的来电.csv"))
    assert archived.with_name("今天的来电.errors.csv").exists() and not source.exists()

    listing = cli(config, "hotline", "callbacks", "--due")
    assert listing.exit_code == 0  # type: ignore[attr-defined]
    assert "待办回访电话（1 个）" in listing.output and "+8613800000001" in listing.output  # type: ignore[attr-defined]

    closed = cli(config, "--lang", "en", "hotline", "done", "1", "--outcome", "told the reference")
    again = cli(config, "--lang", "en", "hotline", "done", "1", "--outcome", "twice")
    assert closed.exit_code == 0 and "Task 1 (LO-2026-000001) done" in closed.output  # type: ignore[attr-defined]
    assert again.exit_code == 1 and "already done" in again.output  # type: ignore[attr-defined]
    assert "没有待办的回访电话" in cli(config, "hotline", "callbacks").output  # type: ignore[attr-defined]


def test_a_clean_import_exits_zero_in_chinese(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    cli(config, "db", "upgrade")
    source = write_calls(tmp_path / "calls.csv", [call(来电时间="2026-11-24 08:00")])

    result = cli(config, "hotline", "import", str(source))

    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "热线记录导入结果" in result.output and "已导入" in result.output  # type: ignore[attr-defined]


# --- instant pick-up ------------------------------------------------------------------------


def test_the_watcher_asks_for_a_scan_for_call_logs_only(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    (drop / "processing").mkdir(parents=True)
    asked = threading.Event()
    watcher = DropWatcher(drop, asked.set, settle_seconds=0.1, max_repeats=1)
    watcher.start()
    try:
        (drop / "notes.pdf").write_bytes(b"%PDF")
        (drop / "calls.csv.part").write_text("copying", encoding="utf-8")
        (drop / "processing" / "calls.csv").write_text("ours", encoding="utf-8")
        assert not asked.wait(1.5)
        (drop / "calls.csv.part").rename(drop / "calls.csv")  # the copy tool finishes
        assert asked.wait(10)
    finally:
        watcher.stop()


def test_the_daemon_picks_up_a_dropped_file_long_before_its_hourly_scan(tmp_path: Path) -> None:
    config = write_config(tmp_path, min_age=0.3)
    assert cli(config, "db", "upgrade").exit_code == 0  # type: ignore[attr-defined]
    # Taken by the scan at start-up: once it is archived, that scan has listed the folder.
    write_calls(tmp_path / "hotline" / "first.csv", [call(来电时间="2026-11-24 07:00")])
    stderr = (tmp_path / "daemon.log").open("w+", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-c", "from complaintd.cli import main; main()",
         "--config", str(config), "--lang", "en", "run"],
        stdout=subprocess.DEVNULL, stderr=stderr, text=True)  # fmt: skip

    def log_text() -> str:
        return (tmp_path / "daemon.log").read_text(encoding="utf-8")

    try:
        # Generous limits: the machine is shared and start-up imports a lot; the point is
        # that the file comes in long before the hour the periodic scan would take.
        wait_for(lambda: "watching the drop folder" in log_text()
                 and "service started" in log_text(), timeout=120)  # fmt: skip
        wait_for(lambda: "first.csv archived" in log_text(), timeout=60)
        partial = tmp_path / "hotline" / "calls.csv.part"
        write_calls(partial, [call(来电时间="2026-11-24 08:00")])
        partial.rename(tmp_path / "hotline" / "calls.csv")

        archive = tmp_path / "hotline" / "archive"
        wait_for(lambda: any(archive.glob("*/calls.csv")), timeout=120)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        stderr.close()
    assert "calls.csv archived: 1 imported" in log_text()


def test_the_callback_list_job_runs_daily_at_the_configured_time(tmp_path: Path) -> None:
    from complaintd.service import build_scheduler

    app = App.build(load_settings(write_config(tmp_path)))
    job = build_scheduler(app).get_job("callbacks")

    assert job is not None
    assert str(job.trigger) == "cron[hour='8', minute='30']"
    app.close()
