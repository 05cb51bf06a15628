"""Outbox benchmark: mails per second from a full outbox to aiosmtpd on loopback.

    python bench/outbox_bench.py                        # 10,000 rows: PG x1, PG x2, SQLite x1
    python bench/outbox_bench.py --rows 2000 --runs pg:2

Each run fills a fresh outbox (PostgreSQL: a scratch database; SQLite: a new file) with
``--rows`` copies of a real rendered acknowledgement (Chinese, text + HTML, ~4 KB), each
with its own Message-ID, then starts N sender processes (``OutboxSender.drain`` over
``SmtpTransport``, batch ``--batch``) that wait on a go-file, so interpreter start-up is
not timed. The clock runs from "go" until every sender has exited. The SMTP sink is an
aiosmtpd server in this process that counts each Message-ID it accepts, so the run also
checks exactly-once (``duplicates`` must be 0, ``received`` must equal ``--rows``).

Filling uses one bulk INSERT (this measures sending, not queueing). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get(
    "COMPLAINTD_TEST_PG_URL", "postgresql+psycopg://complaintd:complaintd@127.0.0.1:5432/postgres"
)
_MSG_ID = re.compile(rb"^Message-ID: *(<[^>]+>)", re.MULTILINE | re.IGNORECASE)


class CountingSink:
    """aiosmtpd handler: accept everything, count each Message-ID."""

    def __init__(self) -> None:
        self.seen: Counter[bytes] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = bytes(envelope.original_content).split(b"\r\n\r\n", 1)[0]
        found = _MSG_ID.search(head)
        with self.lock:
            self.seen[found.group(1) if found else b"?"] += 1
        return "250 2.0.0 accepted"


def sample_message() -> tuple[bytes, str]:
    """One rendered acknowledgement (bytes as stored) and its Message-ID."""
    from casework.clock import SHANGHAI
    from notifications.contexts import acknowledgement_context
    from notifications.outbox import MailIdentity, build_message, mailbox, wire_bytes
    from notifications.renderer import TemplateRenderer
    from notifications.samples import SAMPLE_ORGANISATION

    identity = MailIdentity("noreply@lifeoasis.example", "上海生命绿洲公益服务中心",
                            "tousu@lifeoasis.example", "lifeoasis.example")  # fmt: skip
    context = acknowledgement_context(
        reference="LO-2026-000123", complainant_name="王小明", received_on=date(2026, 3, 2),
        resolve_due=date(2026, 3, 20), working_days=15, reply_address=identity.reply_to,
        org=SAMPLE_ORGANISATION)  # fmt: skip
    mail = TemplateRenderer().render("acknowledgement", "zh", context)
    message = build_message(
        to=mailbox("wang@example.cn", "王小明"), subject=mail.subject, text=mail.text,
        html=mail.html, identity=identity, now=datetime.now(SHANGHAI),
        in_reply_to="<in@example.cn>", references=["<in@example.cn>"],
        auto_submitted="auto-replied")  # fmt: skip
    return wire_bytes(message), str(message["Message-ID"])


def fill(url: str, rows: int) -> None:
    """A fresh schema with ``rows`` pending mails, each with its own Message-ID."""
    from sqlalchemy import insert

    from casework.clock import SHANGHAI
    from casework.db import make_engine
    from complaintd.schema import metadata
    from notifications.models import OutboxMail

    raw, msg_id = sample_message()
    engine = make_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    now = datetime.now(SHANGHAI)
    domain = msg_id.rsplit("@", 1)[1]
    batch: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for n in range(rows):
            new_id = f"<bench-{n}-{secrets.token_hex(4)}@{domain}"
            batch.append({
                "dedup_key": f"bench:{n}", "case_id": None, "kind": "acknowledgement",
                "recipient": f"r{n}@example.cn", "sender": "noreply@lifeoasis.example",
                "subject": "您的投诉已受理", "message_id": new_id,
                "raw": raw.replace(msg_id.encode(), new_id.encode()), "status": "pending",
                "attempts": 0, "next_attempt_at": now, "last_error": "",
                "created_at": now})  # fmt: skip
            if len(batch) == 1000:
                connection.execute(insert(OutboxMail), batch)
                batch = []
        if batch:
            connection.execute(insert(OutboxMail), batch)
    engine.dispose()


def worker(url: str, port: int, go: Path, batch: int) -> None:
    """One sender process: wait for the go-file, drain the outbox, print the report."""
    from casework.clock import SystemClock
    from casework.db import make_engine, make_sessionmaker
    from notifications.sender import OutboxSender, RetryPolicy, SmtpTransport

    engine = make_engine(url)
    transport = SmtpTransport("127.0.0.1", port, security="plain", timeout=60)
    sender = OutboxSender(make_sessionmaker(engine), transport, SystemClock(), RetryPolicy(),
                          batch_size=batch)  # fmt: skip
    while not go.exists():
        time.sleep(0.005)
    report = sender.drain()
    print(json.dumps({"sent": report.sent, "retried": report.retried, "failed": report.failed}))


def run(url: str, senders: int, rows: int, batch: int, work: Path) -> dict[str, Any]:
    from aiosmtpd.controller import Controller

    fill(url, rows)
    sink = CountingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    go = work / f"go-{secrets.token_hex(4)}"
    try:
        procs = [subprocess.Popen(
            [sys.executable, __file__, "--worker", url, str(port), str(go), str(batch)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(senders)]  # fmt: skip
        time.sleep(2.0)  # let every interpreter import and connect before the clock starts
        started = time.perf_counter()
        go.touch()
        outputs = [p.communicate()[0] for p in procs]
        wall = time.perf_counter() - started
    finally:
        controller.stop()
    reports = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    received = sum(sink.seen.values())
    return {
        "senders": senders, "rows": rows, "batch": batch, "wall_s": round(wall, 2),
        "mails_per_s": round(rows / wall, 1), "received": received,
        "duplicates": sum(c - 1 for c in sink.seen.values() if c > 1),
        "per_sender": [r["sent"] for r in reports],
        "failed": sum(r["failed"] + r["retried"] for r in reports),
        # Other work on the machine shows here: figures under load are not comparable.
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }  # fmt: skip


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pg_database() -> tuple[str, str]:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"complaintd_outbox_bench_{os.getpid()}"
    admin = create_engine(PG_ADMIN)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), name


def drop_pg(name: str) -> None:
    from sqlalchemy import create_engine

    admin = create_engine(PG_ADMIN)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--runs", nargs="+", default=["pg:1", "pg:2", "sqlite:1"],
                        help="backend:senders, e.g. pg:2 sqlite:1")  # fmt: skip
    args = parser.parse_args()
    print(f"# {datetime.now().isoformat(timespec='minutes')} {platform.platform()} "
          f"cpus={os.cpu_count()} python={platform.python_version()}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="outbox-bench-") as tmp:
        work = Path(tmp)
        for spec in args.runs:
            backend, senders = spec.split(":")
            if backend == "pg":
                url, name = pg_database()
                try:
                    result = run(url, int(senders), args.rows, args.batch, work)
                finally:
                    drop_pg(name)
            else:
                url = f"sqlite:///{work / f'bench-{senders}.sqlite3'}"
                result = run(url, int(senders), args.rows, args.batch, work)
            print(json.dumps({"backend": backend, **result}), flush=True)


if __name__ == "__main__":
    main()
