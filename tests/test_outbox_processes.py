"""Two sender PROCESSES on one PostgreSQL outbox: every mail is sent exactly once.

Each sender is a real ``python`` subprocess running ``OutboxSender.drain`` against the
test database and the aiosmtpd server of this process; the server counts every
Message-ID it accepts. Both start together (a go-file), so their claims overlap.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import SHANGHAI
from notifications.models import OutboxMail, OutboxStatus
from notifications.outbox import MailIdentity, queue_mail
from tests.fixtures.smtp import SmtpServer

ROWS = 1000
IDENTITY = MailIdentity(from_address="noreply@lifeoasis.example", from_name="投诉受理中心",
                        reply_to="tousu@lifeoasis.example",
                        message_id_domain="lifeoasis.example")  # fmt: skip

SENDER = """
import json, sys, time
from pathlib import Path
from casework.clock import SystemClock
from casework.db import make_engine, make_sessionmaker
from notifications.sender import OutboxSender, RetryPolicy, SmtpTransport

url, port, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
engine = make_engine(url)
transport = SmtpTransport("127.0.0.1", port, security="plain", timeout=30)
sender = OutboxSender(make_sessionmaker(engine), transport, SystemClock(), RetryPolicy(),
                      batch_size=20)
while not go.exists():
    time.sleep(0.01)
report = sender.drain()
print(json.dumps({"sent": report.sent, "retried": report.retried, "failed": report.failed}))
"""


def _queue_rows(session_factory: sessionmaker[Session]) -> set[str]:
    now = datetime.now(SHANGHAI)
    with session_factory() as session:
        rows = [
            queue_mail(session, dedup_key=f"proc:{n}", case_id=None, kind="test",
                       recipient=f"r{n}@example.com", recipient_name=None, subject=f"第{n}封",
                       text="正文", html=None, identity=IDENTITY, now=now,
                       auto_submitted="auto-generated")
            for n in range(ROWS)
        ]  # fmt: skip
        session.commit()
        return {row.message_id for row in rows}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_sender_processes_send_every_row_exactly_once(
    db_url: str,
    session_factory: sessionmaker[Session],
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    message_ids = _queue_rows(session_factory)
    go = tmp_path / "go"
    root = Path(__file__).resolve().parents[1]
    senders = [
        subprocess.Popen([sys.executable, "-c", SENDER, db_url, str(smtp_server.port), str(go)],
                         cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    time.sleep(0.2)
    go.touch()
    outputs = [process.communicate(timeout=300) for process in senders]

    for process, (_, err) in zip(senders, outputs, strict=True):
        assert process.returncode == 0, err
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sum(r["sent"] for r in reports) == ROWS
    assert all(r["sent"] > 0 for r in reports), f"one sender did all the work: {reports}"
    assert all(r["retried"] == r["failed"] == 0 for r in reports)

    received = Counter(str(m.message["Message-ID"]) for m in smtp_server.wait_for(ROWS))
    assert len(smtp_server.messages) == ROWS
    assert set(received) == message_ids
    assert max(received.values()) == 1
    with session_factory() as session:
        statuses = session.execute(
            select(OutboxMail.status, func.count(), func.max(OutboxMail.attempts))
            .group_by(OutboxMail.status)
        ).all()  # fmt: skip
    assert [tuple(row) for row in statuses] == [(OutboxStatus.SENT, ROWS, 1)]
