"""The deadline sweep at a million open cases (issue 17): how long the sweep job takes.

    python bench/sweep_bench.py                         # 1,000,000 cases, PostgreSQL and SQLite
    python bench/sweep_bench.py --cases 100000 --db sqlite

A fresh database built by complaintd's own migrations is filled by bulk inserts (COPY on
PostgreSQL, multi-row INSERTs through Core on SQLite): open cases, each with its active
assignment, most due weeks ahead and, per 10,000 cases, one of each kind of work the
sweep finds (due within the reminder window, overdue, late in the triage queue, a referral
waiting and one late, a deputy whose absent handler is back, an excluded handler) and
fifty exclusions of people who do not handle the case; two timeline events a case. Then
the daemon's sweep job (``App.sweep_deadlines``: the missed-deadline marks, then
``routing.commitments.sweep`` with the digests) is timed three times: the first run (all
of that day's work), the same day again (nothing left to do), and the next day
(yesterday's work done, today's new deadlines). The scratch PostgreSQL database (made as
``bench/hotline_bench.py`` makes it) is dropped afterwards. Not a test.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import ProgrammingError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.hotline_bench import database, drop_database
from casework.clock import SHANGHAI, FixedClock
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.schema import metadata
from complaintd.settings import load_settings

ROUTING = Path(__file__).resolve().parents[1] / "config" / "routing.toml"
NOW = datetime(2026, 12, 8, 9, 30, tzinfo=SHANGHAI)  # a Tuesday, after the digest hour
TODAY = NOW.date()
HANDLERS = [("zhangwei", "service"), ("lina", "service"), ("chenjing", "projects"),
            ("liuyang", "projects")]
EVERY = 10_000  # one of each kind of work per this many cases


def kind_of(i: int) -> str:
    slot = i % EVERY
    kinds = {1: "soon", 2: "overdue", 3: "triage", 4: "referred", 5: "referral_late",
             6: "handback", 7: "excluded"}
    return kinds.get(slot, "other_excluded" if 8 <= slot < 58 else "quiet")


def due_of(i: int, kind: str) -> date:
    if kind == "soon":
        return TODAY + timedelta(days=i % 4)
    if kind == "overdue":
        return TODAY - timedelta(days=1 + i % 10)
    return TODAY + timedelta(days=7 + i % 54)


def case_rows(n: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        kind = kind_of(i)
        department = HANDLERS[i % len(HANDLERS)][1]
        received = NOW - timedelta(days=10 if kind == "triage" else 5, minutes=i % 600)
        status = "referred" if kind.startswith("referr") else \
            ("investigating" if i % 3 else "routed")
        if kind == "triage":
            department, status = "triage", "routed"
        yield (i, f"BENCH-{i:08d}", status, "email", "投诉", "基准测试用的投诉摘要", "zh",
               "staff_conduct", department, received, received.date(), due_of(i, kind),
               received, received, False, False, False)


CASE_COLUMNS = ("id", "reference", "status", "channel", "subject", "summary", "language",
                "category", "department", "received_at", "acknowledge_due", "resolve_due",
                "created_at", "updated_at", "needs_attention", "phone_follow_up", "major")


def assignment_rows(n: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        kind = kind_of(i)
        handler, department = HANDLERS[i % len(HANDLERS)]
        covers = None
        if kind == "triage":
            handler, department = None, "triage"  # type: ignore[assignment]
        elif kind == "handback":
            handler, department, covers = "lina", "service", "zhangwei"
        yield (i, i, department, handler, covers, NOW - timedelta(days=5))


ASSIGNMENT_COLUMNS = ("id", "case_id", "department", "handler", "delegate_for", "assigned_at")


def referral_rows(n: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        kind = kind_of(i)
        if kind in ("referred", "referral_late"):
            answer = TODAY - timedelta(days=2) if kind == "referral_late" else \
                TODAY + timedelta(days=10)
            yield (i, i, "health_commission", NOW - timedelta(days=20), answer)


REFERRAL_COLUMNS = ("id", "case_id", "authority", "sent_at", "answer_due")


def exclusion_rows(n: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        kind = kind_of(i)
        handler, _ = HANDLERS[i % len(HANDLERS)]
        if kind == "excluded":
            yield (i, i, handler, "named in the complaint", NOW - timedelta(days=1))
        elif kind == "other_excluded":
            yield (i, i, "wangfang", "named in the complaint", NOW - timedelta(days=1))


EXCLUSION_COLUMNS = ("id", "case_id", "staff", "reason", "recorded_at")


def event_rows(n: int) -> Iterator[tuple[Any, ...]]:
    """Each case's timeline as intake and routing begin it (two events), so the sweep's
    event lookups run against a table of a realistic size."""
    for i in range(1, n + 1):
        handler, department = HANDLERS[i % len(HANDLERS)]
        at = NOW - timedelta(days=5, minutes=i % 600)
        yield (2 * i - 1, i, at, "system:intake", "received", {"channel": "email"})
        yield (2 * i, i, at, "system:router", "assigned",
               {"handler": handler, "department": department, "why": "least open cases"})


EVENT_COLUMNS = ("id", "case_id", "at", "actor", "kind", "details")
TABLES = [("cases", CASE_COLUMNS, case_rows), ("assignment", ASSIGNMENT_COLUMNS, assignment_rows),
          ("referral", REFERRAL_COLUMNS, referral_rows),
          ("case_exclusion", EXCLUSION_COLUMNS, exclusion_rows),
          ("timeline_event", EVENT_COLUMNS, event_rows)]


def fill(engine: Engine, n: int) -> None:
    for table, columns, rows in TABLES:
        if engine.dialect.name == "postgresql":
            _copy(engine, table, columns, rows(n))
        else:
            _insert(engine, table, columns, rows(n))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table, _, _ in TABLES:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))


def _copy(engine: Engine, table: str, columns: tuple[str, ...],
          rows: Iterator[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([Json(v) if isinstance(v, dict) else v for v in row])
        raw.commit()
    finally:
        raw.close()


def _insert(engine: Engine, table: str, columns: tuple[str, ...],
            rows: Iterator[tuple[Any, ...]]) -> None:
    target = metadata.tables[table]
    chunk: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for row in rows:
            chunk.append(dict(zip(columns, row, strict=True)))
            if len(chunk) == 20_000:
                conn.execute(insert(target), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(target), chunk)


def build(url: str, work: Path) -> App:
    config = work / "complaintd.toml"
    config.write_text(f"""
[storage]
data_dir = "{work / 'var'}"
database_url = "{url}"
[routing]
rules_file = "{ROUTING}"
[security]
thread_key = "{secrets.token_hex(32)}"
""", encoding="utf-8")
    return App.build(load_settings(config), FixedClock(NOW))


def timed_run(app: App, label: str) -> dict[str, object]:
    started = time.perf_counter()
    overdue = app.sweep_deadlines()
    seconds = time.perf_counter() - started
    report = app.commitments
    assert report is not None
    work = {"marked overdue": len(overdue), "reminded": len(report.reminded),
            "escalated": len(report.escalated), "delegated": len(report.delegated),
            "followed up": len(report.followed_up), "by authority": len(report.by_authority),
            "digests": len(report.digests), "failed": len(report.failed)}
    print(f"  {label}: {seconds:.3f} s  {work}", flush=True)
    return {"run": label, "seconds": seconds, **work}


def measure(kind: str, n: int) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        work = Path(tmp)
        url, name = database(kind, work)
        try:
            app = build(url, work)
            upgrade(app.engine)
            started = time.perf_counter()
            fill(app.engine, n)
            print(f"{kind}: {n:,} open cases filled in {time.perf_counter() - started:.0f} s",
                  flush=True)
            runs = [timed_run(app, "first run (the day's work)"),
                    timed_run(app, "same day again (nothing to do)")]
            assert isinstance(app.clock, FixedClock)
            app.clock.advance(timedelta(days=1))
            runs.append(timed_run(app, "next day (yesterday's work done)"))
            app.close()
            return runs
        finally:
            if name is not None:
                _drop(name)


def _drop(name: str) -> None:
    """Drop the scratch database; an autovacuum worker still busy on the freshly filled
    tables cannot be ended by a plain role, so try again for a while."""
    for _ in range(30):
        try:
            drop_database(name)
            return
        except ProgrammingError:
            time.sleep(2)
    print(f"could not drop the scratch database {name}: drop it by hand", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}", flush=True)
    for kind in (["postgresql", "sqlite"] if args.db == "both" else [args.db]):
        measure(kind, args.cases)
    print(f"load average {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
