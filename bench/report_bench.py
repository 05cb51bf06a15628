"""The annual report over a year of many cases (issue 16's target: under 10 s for 100,000
cases, on SQLite and on PostgreSQL).

    python bench/report_bench.py                      # 100,000 cases, SQLite and PostgreSQL
    python bench/report_bench.py --cases 10000 --db sqlite

Each database is filled by bulk inserts with ``--cases`` cases received through 2025 (and a
tenth as many in 2024, for the comparison): each with its timeline moves (acknowledged,
resolved, a few reopened), a referral for one in twenty, an extension for one in fifty, a
survey answer for one in three (a "problem solved" answer on three in four of them, the rest
by mail) and a violation for one in forty; and an activity feedback form (意见函) for one
case in twenty, over 40 events (a tenth as many in 2024). Then the whole annual
report is made as ``complaintd report annual`` makes it (``casework.figures`` with last
year's, the tables, the disclosure rule, the charts, the HTML), in both editions, and
timed. Not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert
from sqlalchemy.engine import make_url

from casework.calendar import WorkCalendar
from casework.clock import SHANGHAI
from casework.db import make_engine, make_sessionmaker
from casework.figures import Period, figures
from casework.models import (
    ActivityFeedback,
    Case,
    Extension,
    Referral,
    SurveyResponse,
    TimelineEvent,
    Violation,
)
from complaintd.schema import metadata
from web.report.annual import prepare, render
from web.report.disclosure import Rule
from web.report.tables import Names

PG_ADMIN = os.environ.get(
    "COMPLAINTD_TEST_PG_URL", "postgresql+psycopg://complaintd:complaintd@127.0.0.1:5432/postgres"
)
CHANNELS = ["email", "email", "email", "hotline", "hotline", "web", "letter"]
CATEGORIES = ["staff_conduct", "assistance_project", "privacy", "medical_institution",
              "fundraising"]
DEPARTMENTS = ["service", "projects"]
CHUNK = 5000


def _case_rows(i: int, received: datetime, rng: random.Random,
               rows: dict[str, list[dict[str, Any]]]) -> None:
    day = received.date()
    resolved = rng.random() < 0.9
    took = rng.randint(2, 25)
    rows["cases"].append({
        "id": i, "reference": f"LO-{day.year}-{i:06d}",
        "status": "closed" if resolved else "investigating", "channel": rng.choice(CHANNELS),
        "subject": "接线员态度粗暴", "summary": "来信反映情况。", "language": "zh",
        "category": rng.choice(CATEGORIES), "department": rng.choice(DEPARTMENTS),
        "received_at": received, "acknowledge_due": day + timedelta(days=1),
        "resolve_due": day + timedelta(days=21), "created_at": received,
        "updated_at": received, "needs_attention": False, "phone_follow_up": False,
        "major": False})
    moves = [("received", "acknowledged", received + timedelta(hours=rng.choice([2, 30])))]
    if resolved:
        moves.append(("investigating", "resolved", received + timedelta(days=took)))
        if i % 25 == 0:
            moves.append(("resolved", "reopened", received + timedelta(days=took + 3)))
    for old, new, at in moves:
        rows["events"].append({"case_id": i, "at": at, "actor": "bench", "kind": "status_changed",
                               "details": {"from": old, "to": new, "reason": ""}})
    rows["events"].append({"case_id": i, "at": received, "actor": "bench", "kind": "received",
                           "details": {}})
    if i % 20 == 0:
        rows["referrals"].append({"case_id": i, "authority": "civil_affairs",
                                  "sent_at": received + timedelta(days=1),
                                  "answer_due": day + timedelta(days=15),
                                  "answered_at": received + timedelta(days=rng.randint(5, 30))})
    if i % 50 == 0:
        rows["extensions"].append({"case_id": i, "days": 10, "reason": "需等待医院出具证明",
                                   "requested_by": "zhangwei", "requested_at": received,
                                   "approved_by": "wangfang", "approved_at": received})
    if i % 3 == 0 and resolved:
        solved = rng.choice(["yes", "yes", "partly", "no", None])
        rows["surveys"].append({"case_id": i, "level": rng.randint(1, 5), "label": "",
                                "answer_text": "满意", "received_at": received + timedelta(
                                    days=took + 1), "solved": solved,
                                "channel": "mail" if solved is None else "web"})
    if i % 20 == 0:  # activity feedback: not tied to the case, received about its time
        rows["activities"].append({
            "activity": f"社区活动{rng.randint(1, 40)}", "attended_on": day,
            "level": rng.randint(1, 5), "comment": "志愿者很耐心", "language": "zh",
            "received_at": received})
    if i % 40 == 0:
        rows["violations"].append({
            "case_id": i, "staff": "zhangwei", "category": "missed_deadline", "clause": "七(二)",
            "sanction_tier": "批评教育", "compensation": Decimal("0"), "source": "automatic",
            "details": {}, "recorded_at": received + timedelta(days=22)})


def fill(url: str, n: int) -> None:
    engine = make_engine(url)
    metadata.create_all(engine)
    rng = random.Random(n)
    start = datetime(2025, 1, 1, 8, tzinfo=SHANGHAI)
    total = n + n // 10
    seconds = (365 * 86400 - 40 * 86400) / n  # 2025's cases spread over the year
    with engine.begin() as conn:
        for first in range(1, total + 1, CHUNK):
            rows: dict[str, list[dict[str, Any]]] = {k: [] for k in (
                "cases", "events", "referrals", "extensions", "surveys", "violations",
                "activities")}
            for i in range(first, min(total, first + CHUNK - 1) + 1):
                received = (start + timedelta(seconds=(i - 1) * seconds) if i <= n
                            else start - timedelta(days=1 + (i - n) % 360))
                _case_rows(i, received, rng, rows)
            for model, key in ((Case, "cases"), (TimelineEvent, "events"),
                               (Referral, "referrals"), (Extension, "extensions"),
                               (SurveyResponse, "surveys"), (Violation, "violations"),
                               (ActivityFeedback, "activities")):
                if rows[key]:
                    conn.execute(insert(model), rows[key])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def report(url: str, edition: str) -> tuple[float, float, float, int]:
    """Seconds for the figures and for the whole report, this process's CPU seconds for the
    whole report (the machine is shared: wall time includes waiting for a core), and the
    HTML's size."""
    engine = make_engine(url)
    calendar = WorkCalendar.build()
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        with make_sessionmaker(engine)() as session:
            found = figures(session, calendar, Period.year(2025, date(2026, 1, 15)),
                            with_previous=True)
        counted = time.perf_counter() - started
        made = prepare(found, Names("zh"), edition, Rule())  # type: ignore[arg-type]
        html = render(made, "上海生命绿洲公益服务中心")
        return (counted, time.perf_counter() - started, time.process_time() - cpu,
                len(html))
    finally:
        engine.dispose()


def database(kind: str, work: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{work / 'bench.sqlite3'}", None
    name = f"complaintd_reportbench_{secrets.token_hex(4)}"
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
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"| database | edition | figures s | whole report s (best of {args.runs}) | "
          f"CPU s of this process | HTML KB |  ({args.cases:,} cases in the year; load "
          f"average {os.getloadavg()[0]:.1f})")
    print("|---|---|---:|---:|---:|---:|")
    for kind in kinds:
        with tempfile.TemporaryDirectory() as folder:
            url, name = database(kind, Path(folder))
            try:
                started = time.perf_counter()
                fill(url, args.cases)
                print(f"<!-- {kind}: filled in {time.perf_counter() - started:.0f} s -->",
                      flush=True)
                for edition in ("internal", "public"):
                    runs = [report(url, edition) for _ in range(args.runs)]
                    counted, whole, cpu, size = min(runs, key=lambda r: r[1])
                    print(f"| {kind} | {edition} | {counted:.2f} | {whole:.2f} | {cpu:.2f} | "
                          f"{size / 1024:.0f} |  <!-- load {os.getloadavg()[0]:.1f} -->",
                          flush=True)
            finally:
                if name:
                    drop_database(name)


if __name__ == "__main__":
    main()
