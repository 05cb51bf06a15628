"""Two daemons on one PostgreSQL (issue 17): fed 1,000 mails (real Dovecot) and 1,000
hotline rows while one daemon is killed (SIGKILL) and started again. Every item becomes
exactly one case, every acknowledgement and every reminder is queued once, and the SMTP
server (aiosmtpd) receives each of them; only a mail the killed daemon had in flight at
the moment it died may arrive twice, with the same Message-ID, so the receiving side
recognises the copy (SMTP has no two-phase commit; no mail is ever queued twice)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from casework.clock import SHANGHAI
from casework.db import make_engine
from casework.models import Assignment, Case, IngestedItem, TimelineEvent
from notifications.models import OutboxMail, OutboxStatus
from tests.fixtures.database import reset_postgres
from tests.test_hotline import ZH_HEADER, call

# The 1,000 each; fewer for a quick look on a busy machine (a multiple of FILES).
MAILS = ROWS = int(os.environ.get("COMPLAINTD_TEST_TWO_DAEMON_ITEMS", "1000"))
FILES = 10
SEND_BATCH = 10
ROUTING = Path(__file__).resolve().parents[1] / "config" / "routing.toml"
ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.postgres, pytest.mark.dovecot]


@pytest.fixture
def pg_url(_pg_session_database: Engine) -> str:
    with _pg_session_database.begin() as conn:
        reset_postgres(conn, False)
    return _pg_session_database.url.render_as_string(hide_password=False)


def settings_text(db_url: str, imap: Any, smtp: Any) -> str:
    return f"""
[storage]
data_dir = "var"
database_url = "{db_url}"
[schedule]
poll_seconds = 0.5
send_seconds = 0.5
sweep_seconds = 1
hotline_seconds = 0.5
[[mailbox]]
kind = "imap"
name = "reporting"
host = "{imap.host}"
port = {imap.port}
security = "plain"
username = "{imap.user}"
password = "{imap.password}"
idle = false
[hotline]
drop_dir = "hotline"
min_age_seconds = 0
watch = false
[intake]
acknowledgements_per_domain_per_hour = 100000
auto_replies_per_hour = 1000000
[routing]
rules_file = "{ROUTING}"
[notices]
lease_minutes = 0.1
[smtp]
transport = "smtp"
host = "{smtp.host}"
port = {smtp.port}
security = "plain"
from_address = "complaints@example.org"
batch_size = {SEND_BATCH}
"""


def complaint(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"person{n}@example{n % 7}.cn"
    msg["To"] = "complaints@example.org"
    msg["Subject"] = f"投诉：救助款迟迟未发放 {n}"
    msg["Message-ID"] = f"<two-daemons-{n}@example.cn>"
    msg["Date"] = "Tue, 01 Dec 2026 09:00:00 +0800"
    msg.set_content(f"第{n}件投诉：医院收费与告知不一致。", charset="utf-8")
    return bytes(msg)


def write_call_logs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    per_file = ROWS // FILES
    for f in range(FILES):
        rows = []
        for i in range(per_file):
            n = f * per_file + i
            rows.append(call(通话编号=f"C{n:05d}", 来电号码=f"139{n:08d}",
                             电子邮箱=f"caller{n}@example.cn" if n % 2 else "",
                             诉求内容=f"第{n}通来电：医院收费与告知不一致"))
        with open(folder / f"calls-{f:02d}.csv", "w", encoding="gbk", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(ZH_HEADER)
            writer.writerows(rows)


class Daemon:
    def __init__(self, config: Path, name: str) -> None:
        self.log = config.parent / f"{name}.log"
        self._out = self.log.open("a", encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from complaintd.cli import main; main()",
             "--config", str(config), "--lang", "en", "run"],
            stdout=subprocess.DEVNULL, stderr=self._out, cwd=config.parent, env=env)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return -9
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self._out.close()


def wait_for(what: Callable[[], bool], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {timeout:.0f} s: {why}")
        time.sleep(0.5)


def count(engine: Engine, query: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


@pytest.fixture
def installation(tmp_path: Path, pg_url: str, imap_account: Any,
                 smtp_server: Any) -> Iterator[tuple[Path, Engine]]:
    config = tmp_path / "complaintd.toml"
    config.write_text(settings_text(pg_url, imap_account, smtp_server), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", "from complaintd.cli import main; main()",
                    "--config", str(config), "db", "upgrade"], check=True, env=env,
                   cwd=tmp_path, capture_output=True)
    engine = make_engine(pg_url)
    yield config, engine
    engine.dispose()


def test_two_daemons_one_killed_take_every_item_once(installation: tuple[Path, Engine],
                                                     imap_account: Any,
                                                     smtp_server: Any) -> None:
    config, engine = installation
    for n in range(MAILS):
        imap_account.append("INBOX", complaint(n))
    write_call_logs(config.parent / "hotline")
    cases = select(func.count(Case.id))
    daemons = [Daemon(config, "a"), Daemon(config, "b")]
    try:
        # Kill one daemon in the middle of the intake, then start it again.
        wait_for(lambda: count(engine, cases) >= (MAILS + ROWS) // 6, 600, "a sixth of the cases")
        daemons[0].kill()
        daemons.append(Daemon(config, "a-again"))
        wait_for(lambda: count(engine, cases) >= MAILS + ROWS, 1800, "every item a case")
        pending = select(func.count(OutboxMail.id)).where(
            OutboxMail.status == OutboxStatus.PENDING)
        wait_for(lambda: count(engine, pending) == 0, 1800, "the outbox sent")
        _make_everything_due(engine)
        handled = _cases_with_a_handler(engine)
        reminders = select(func.count(TimelineEvent.id)).where(
            TimelineEvent.kind == "reminder_sent")
        wait_for(lambda: count(engine, reminders) >= handled, 300, "a reminder each")
        time.sleep(5)  # several more sweeps of both daemons: no second reminder
        wait_for(lambda: count(engine, pending) == 0, 600, "the reminders sent")
        assert [d.stop() for d in daemons[1:]] == [0, 0]
    finally:
        for d in daemons:
            d.close()

    _every_item_one_case(engine)
    _every_notice_queued_once_and_delivered(engine, smtp_server, handled)


def _make_everything_due(engine: Engine) -> None:
    """Every open case due today: each handler's reminder is due at the next sweep."""
    today = datetime.now(SHANGHAI).date()
    with engine.begin() as conn:
        conn.execute(update(Case).values(resolve_due=today))


def _cases_with_a_handler(engine: Engine) -> int:
    return count(engine, select(func.count(func.distinct(Assignment.case_id))).where(
        Assignment.handler.is_not(None), Assignment.ended_at.is_(None)))


def _every_item_one_case(engine: Engine) -> None:
    with engine.connect() as conn:
        channels = dict(conn.execute(select(Case.channel, func.count(Case.id))
                                     .group_by(Case.channel)).all())
        assert channels == {"email": MAILS, "hotline": ROWS}
        taken = conn.execute(select(IngestedItem.source, func.count(IngestedItem.id),
                                    func.count(func.distinct(IngestedItem.case_id)))
                             .where(IngestedItem.case_id.is_not(None))
                             .group_by(IngestedItem.source)).all()
        assert sum(items for _source, items, _cases in taken) == MAILS + ROWS
        assert all(items == distinct for _source, items, distinct in taken)


def _every_notice_queued_once_and_delivered(engine: Engine, smtp: Any, handled: int) -> None:
    with engine.connect() as conn:
        rows = conn.execute(select(OutboxMail.kind, OutboxMail.case_id, OutboxMail.message_id,
                                   OutboxMail.status)).all()
    acks = [r for r in rows if r.kind == "acknowledgement"]
    # Every mail complainant and every hotline caller with an address: one each.
    assert len(acks) == MAILS + ROWS // 2
    assert len({r.case_id for r in acks}) == len(acks)
    reminders = [r for r in rows if r.kind == "handler_reminder"]
    assert len(reminders) == handled and len({r.case_id for r in reminders}) == handled
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    received = Counter(str(m.message["Message-ID"]) for m in smtp.messages)
    queued = {r.message_id for r in rows}
    assert queued <= set(received), "a queued mail never reached the SMTP server"
    again = sum(n - 1 for n in received.values())
    # Only what the killed daemon had claimed and was sending when it died can repeat.
    assert again <= SEND_BATCH, f"{again} mails arrived twice"
