"""``complaintd health``, the console's /health and /metrics, and the daemon's metrics port,
on a real installation (the console fixture's Maildir, routing rules and file transport),
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import socket
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from starlette.testclient import TestClient

from casework.calendar import WorkCalendar
from casework.clock import SystemClock
from casework.db import make_engine, make_sessionmaker
from complaintd.app import App
from complaintd.cli import main
from complaintd.migrate import upgrade
from complaintd.ops import status
from complaintd.ops.health import Limits, Mailbox, check_health
from complaintd.settings import load_settings
from notifications.models import OutboxMail, OutboxStatus
from tests.fixtures.web import Site

LOCAL = ("127.0.0.1", 40000)
REMOTE = ("203.0.113.9", 40000)
COMPLAINT = "12月1日在门诊挂号处排队两小时，工作人员态度恶劣。"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page by (name, labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def make_unsent_mail_old(site: Site, age: timedelta) -> None:
    with site.app.session_factory.begin() as session:
        session.execute(update(OutboxMail).values(
            status=OutboxStatus.PENDING, sent_at=None, created_at=site.clock.now() - age))


def test_a_working_installation_is_healthy_and_an_old_unsent_mail_is_not(
        console_site: Site) -> None:
    console_site.mail(COMPLAINT)
    report = status.health(console_site.app)
    assert report.problems == [] and report.ok
    checks = report.as_dict()
    assert checks["database"] == {"ok": True}
    [box] = checks["mailboxes"]
    assert box["mailbox"] == "maildir:local" and box["seconds_since_success"] == 0
    assert checks["outbox"]["depth"] == 0 and checks["outbox"]["oldest_unsent"] is None
    assert checks["calendar"]["next_year"] is True  # 2026 in December 2025
    assert checks["disk"]["free_bytes"] > 0

    make_unsent_mail_old(console_site, timedelta(hours=2))
    report = status.health(console_site.app)
    assert not report.ok
    assert report.checks["outbox"]["depth"] >= 1
    assert report.checks["outbox"]["oldest_unsent_seconds"] == 7200
    assert [p for p in report.problems if p.startswith("outbox: oldest unsent mail waits 7200")]


def test_the_health_command_prints_one_json_line_and_its_exit_code_tells(
        console_site: Site) -> None:
    console_site.mail(COMPLAINT)
    runner = CliRunner()
    # The command reads the system clock: the fixture's poll (at its fixed date) is long ago.
    result = runner.invoke(main, ["--config", str(console_site.config), "health"])
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert result.exit_code == 1 and report["ok"] is False
    assert any(p.startswith("mailbox maildir:local: no successful poll") for p in
               report["problems"])
    # No complainant's data in it: the text, the sender and the subject stay out.
    assert "patient@example.cn" not in lines[0] and "挂号" not in lines[0]


def test_an_unreachable_database_fails_the_database_check_alone(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = make_engine(f"postgresql+psycopg://nobody:secret@127.0.0.1:{port}/none",
                         connect_args={"connect_timeout": 2})
    report = check_health(make_sessionmaker(engine), now=SystemClock().now(), mailboxes=[
        Mailbox("imap:main", "INBOX")], calendar=WorkCalendar.build(), data_dir=tmp_path,
        limits=Limits())
    assert report.checks["database"] == {"ok": False, "error": "OperationalError"}
    assert report.problems[0] == "database: not reachable"
    assert "disk" in report.checks and "calendar" in report.checks
    assert "secret" not in json.dumps(report.as_dict())


def test_the_console_serves_health_and_metrics_to_loopback_or_the_token(
        console_site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    console_site.mail(COMPLAINT)
    local = TestClient(console_site.asgi, client=LOCAL)
    answer = local.get("/health")
    assert answer.status_code == 200 and answer.json()["ok"] is True
    assert local.get("/healthz").text == "ok"
    stranger = TestClient(console_site.asgi, client=REMOTE)
    assert stranger.get("/health").status_code == 403
    assert stranger.get("/metrics").status_code == 403
    assert stranger.get("/healthz").status_code == 200  # liveness tells nothing

    page = samples(local.get("/metrics").text)
    assert page[("complaintd_mails_taken_total",
                 (("mailbox", "local"), ("outcome", "case")))] == 1
    assert page[("complaintd_cases_opened_total", (("channel", "email"),))] == 1
    assert page[("complaintd_outbox_mails_total", (("result", "sent"),))] >= 1
    assert page[("complaintd_database_up", ())] == 1
    assert page[("complaintd_outbox_depth", ())] == 0
    assert page[("complaintd_intake_lag_seconds", (("mailbox", "maildir:local"),))] == 0
    assert page[("complaintd_sweep_duration_seconds_count", ())] == 1

    make_unsent_mail_old(console_site, timedelta(hours=2))
    assert local.get("/health").status_code == 503
    assert samples(local.get("/metrics").text)[("complaintd_outbox_depth", ())] >= 1

    monkeypatch.setenv("COMPLAINTD_STATUS_TOKEN", "t" * 40)
    guarded = console_site.app.web_console()
    # With a token, loopback needs it too (a reverse proxy here makes everyone local).
    assert TestClient(guarded, client=LOCAL).get("/metrics").status_code == 403
    bearer = {"Authorization": "Bearer " + "t" * 40}
    assert TestClient(guarded, client=REMOTE).get("/metrics", headers=bearer).status_code == 200
    wrong = {"Authorization": "Bearer " + "u" * 40}
    assert TestClient(guarded, client=REMOTE).get("/health", headers=wrong).status_code == 403


def test_the_daemon_serves_metrics_on_its_port(tmp_path: Path, sqlite_url: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "mail" / "new").mkdir(parents=True)
    config = tmp_path / "complaintd.toml"
    config.write_text(f"""
[storage]
database_url = "{sqlite_url}"
[[mailbox]]
kind = "maildir"
name = "local"
path = "mail"
[ops]
metrics_port = {port}
""", encoding="utf-8")
    app = App.build(load_settings(config))
    upgrade(app.engine)
    app.poll_mail()
    server = status.start_metrics_server(app)
    assert server is not None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            page = samples(answer.read().decode())
    finally:
        server.shutdown()
        server.server_close()
        app.close()
    assert page[("complaintd_database_up", ())] == 1
    assert page[("complaintd_intake_lag_seconds", (("mailbox", "maildir:local"),))] >= 0
