"""The staff console's case list and search through HTTP, with many cases (issue 14's
target: p95 under 300 ms for a filtered page, under 500 ms for a text search).

    python bench/web_bench.py                          # 100,000 cases, SQLite and PostgreSQL
    python bench/web_bench.py --cases 10000 --db sqlite --requests 20

Each database is filled with ``--cases`` cases (a party, a message and an assignment each;
Chinese subjects and names, a few cases excluded from the signed-in person) by bulk
inserts and indexed for search (``casework.search.catch_up``, as the daemon's job does
after a migration), then the console (``web.app.build_console``) is served by uvicorn on a
local port as ``complaintd web`` serves it (``web.serve``) and asked over HTTP (httpx, one
kept-alive connection) for each page ``--requests`` times: the socket, the HTTP parser,
routing, session check, query, template. ``--transport asgi`` asks the app in-process
instead (starlette's TestClient, no socket). The figures are wall times per request. Not
a test.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from casework import search
from casework.calendar import WorkCalendar
from casework.clock import SystemClock
from casework.db import make_engine, make_sessionmaker
from casework.models import Assignment, Case, CaseExclusion, Message, Party
from casework.rawstore import RawStore
from complaintd.schema import metadata
from notifications.outbox import MailIdentity
from web import accounts
from web.app import build_console
from web.context import Console, WebConfig
from web.serve import Background

PG_ADMIN = os.environ.get(
    "COMPLAINTD_TEST_PG_URL", "postgresql+psycopg://complaintd:complaintd@127.0.0.1:5432/postgres"
)
TOPICS = ["接线员态度粗暴", "项目款迟迟未到账", "医院收费与告知不一致", "志愿者迟到",
          "材料提交后没有回音", "救助申请被拒，要求复核"]  # fmt: skip
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ["芳", "伟", "娜", "静", "磊", "洋", "丽", "强", "敏", "军"]
STATUSES = ["routed", "investigating", "awaiting_material", "resolved", "closed"]
PAGES = {
    "filtered page (status + channel)": "/cases?status=routed&channel=email",
    "filtered page (overdue)": "/cases?overdue=1",
    "search: 医院 (Chinese word)": "/cases?q=医院",
    "search: 王芳 (a name)": "/cases?q=王芳",
    "search: 000123 (part of a reference)": "/cases?q=000123",
    "search: a phone number": "/cases?q=13800001234",
    "search: 医院收费 (four characters)": "/cases?q=医院收费",
    "search: 王 (one character)": "/cases?q=王",
}
PASSWORD = "bench-password-1"


def fill(url: str, n: int) -> None:
    engine = make_engine(url)
    metadata.create_all(engine)
    rng = random.Random(n)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    chunk = 5000
    with engine.begin() as conn:
        for start in range(0, n, chunk):
            ids = range(start + 1, min(n, start + chunk) + 1)
            parties, cases, messages, assignments = [], [], [], []
            for i in ids:
                name = rng.choice(SURNAMES) + rng.choice(GIVEN)
                topic = rng.choice(TOPICS)
                received = now - timedelta(minutes=i)
                parties.append({"id": i, "name": name, "email": f"p{i}@example.cn",
                                "phone": f"138{i:08d}", "anonymous": False, "language": "zh",
                                "consent_health_data": False, "created_at": received})
                cases.append({"id": i, "reference": f"LO-2026-{i:06d}",
                              "status": rng.choice(STATUSES), "channel": "email",
                              "subject": topic, "summary": f"{topic}。{name}来信反映情况。",
                              "language": "zh", "category": "staff_conduct",
                              "department": "service", "received_at": received,
                              "resolve_due": date(2026, 11, 1) + timedelta(days=i % 60),
                              "complainant_id": i, "created_at": received,
                              "updated_at": received, "needs_attention": False,
                              "phone_follow_up": False, "major": False})
                messages.append({"id": i, "case_id": i, "direction": "in", "channel": "email",
                                 "subject": topic, "received_at": received, "raw_size": 0,
                                 "body_text": f"您好，{topic}，请尽快处理。联系人{name}。"})
                assignments.append({"id": i, "case_id": i, "department": "service",
                                    "handler": "zhangwei", "assigned_at": received})
            conn.execute(insert(Party), parties)
            conn.execute(insert(Case), cases)
            conn.execute(insert(Message), messages)
            conn.execute(insert(Assignment), assignments)
        conn.execute(insert(CaseExclusion), [
            {"case_id": i, "staff": "bench", "reason": "named", "recorded_at": now}
            for i in range(1, n + 1, 97)])
    with make_sessionmaker(engine).begin() as session:
        user = accounts.add_user(session, staff_id="bench", email="b@example.org", name="B",
                                 roles=["director"], now=datetime.now(UTC))
        accounts.set_password(session, user, PASSWORD, datetime.now(UTC))
    engine.dispose()


def build_index(url: str) -> float:
    """What the daemon's search job does over its first runs after a migration: all the
    cases indexed, 5,000 a transaction. Seconds taken."""
    engine = make_engine(url)
    started = time.perf_counter()
    while True:
        with make_sessionmaker(engine).begin() as session:
            if not search.catch_up(session, limit=5000):
                break
    took = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return took


def client_for(url: str, work: Path, transport: str) -> tuple[Any, object, Background | None]:
    engine = make_engine(url)
    console = Console(WebConfig(secret=secrets.token_urlsafe(40), secure_cookies=False),
                      make_sessionmaker(engine), lambda: None, WorkCalendar.build(),
                      SystemClock(), RawStore(work / "raw"), lambda *_: None,  # type: ignore[arg-type]
                      MailIdentity("c@example.org", "c", "c@example.org", "example.org"))
    app = build_console(console)
    served = None
    client: Any
    if transport == "http":
        served = Background(app, "127.0.0.1", 0).start()
        client = httpx.Client(base_url=f"http://127.0.0.1:{served.port}", timeout=60)
    else:
        client = TestClient(app, base_url="http://bench.test")
    page = client.get("/sign-in").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    signed = client.post("/sign-in", data={"login": "bench", "password": PASSWORD,
                                           "csrf_token": token})
    assert signed.status_code in (200, 303), signed.status_code
    return client, engine, served


def measure(client: Any, path: str, requests: int) -> tuple[float, float, float, int]:
    """Median and p95 wall time, median CPU time of this process (the app and SQLite; not
    PostgreSQL's server), in ms; and the count the page shows."""
    client.get(path)  # warm the caches and the connection pool
    times, cpu = [], []
    for _ in range(requests):
        started, used = time.perf_counter(), time.process_time()
        answer = client.get(path)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
        assert answer.status_code == 200, answer.status_code
    found = answer.text.split('class="total">')[1].split("<")[0]
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]
    count = int("".join(c for c in found if c.isdigit()) or 0)
    return statistics.median(times) * 1000, p95 * 1000, statistics.median(cpu) * 1000, count


def database(kind: str, work: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{work / 'bench.sqlite3'}", None
    name = f"complaintd_webbench_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), name


def drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--transport", choices=["http", "asgi"], default="http",
                        help="http: uvicorn on a local port (default); asgi: in-process")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"| database | page | cases found | median ms | p95 ms | CPU ms |  "
          f"({args.cases:,} cases, {args.transport})")
    print("|---|---|---:|---:|---:|---:|")
    for kind in kinds:
        with tempfile.TemporaryDirectory() as folder:
            url, name = database(kind, Path(folder))
            try:
                started = time.perf_counter()
                fill(url, args.cases)
                print(f"<!-- {kind}: filled in {time.perf_counter() - started:.0f} s, "
                      f"search index built in {build_index(url):.0f} s -->", flush=True)
                client, engine, served = client_for(url, Path(folder), args.transport)
                for label, path in PAGES.items():
                    median, p95, cpu, found = measure(client, path, args.requests)
                    print(f"| {kind} | {label} | {found:,} | {median:.0f} | {p95:.0f} "
                          f"| {cpu:.0f} |", flush=True)
                client.close()
                if served is not None:
                    served.stop()
                engine.dispose()  # type: ignore[attr-defined]
            finally:
                if name:
                    drop_database(name)


if __name__ == "__main__":
    main()
