"""Hotline import benchmark: rows per second and peak memory, CSV (GBK) and xlsx, SQLite and
PostgreSQL, at several file sizes (memory should not grow with the file).

    python bench/hotline_bench.py                       # 10k, 50k, 100k rows; both databases
    python bench/hotline_bench.py --rows 2000 --db sqlite

Each import runs in a fresh subprocess (fresh database, fresh interpreter) through the real
pipeline (case, reference number, timeline, acknowledgement mail for callers with an
address, triage, call tasks), and reports its wall time and its peak resident memory
(``ru_maxrss``) next to the resident memory just before the import started. Not a test.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HEADER = ["通话编号", "来电时间", "来电号码", "来电人", "电子邮箱", "类别", "诉求内容",
          "接线员", "是否回访", "关联编号"]  # fmt: skip
PG_ADMIN = os.environ.get(
    "COMPLAINTD_TEST_PG_URL", "postgresql+psycopg://complaintd:complaintd@127.0.0.1:5432/postgres"
)
TOPICS = ["药费报销被拒，要求复核", "挂号难，排队三小时", "医院收费与告知不一致",
          "救助金迟迟未到账", "志愿者态度不好", "材料提交后没有回音"]  # fmt: skip


def rows(n: int) -> list[list[object]]:
    rng = random.Random(n)
    start = datetime(2026, 11, 1, 8, 0)
    out: list[list[object]] = []
    for i in range(n):
        email = f"caller{i}@example.cn" if i % 3 == 0 else ""
        content = f"{rng.choice(TOPICS)}（第{i}号来电，详情见录音）"
        callback = "是" if i % 5 == 0 else "否"
        out.append([f"B-{i}", start + timedelta(seconds=17 * i), f"138{i:08d}", f"来电人{i}",
                    email, "药品费用", content, "陈敏", callback, ""])  # fmt: skip
    return out


def write_csv(path: Path, n: int) -> None:
    with open(path, "w", encoding="gbk", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for row in rows(n):
            row[1] = row[1].strftime("%Y-%m-%d %H:%M:%S")  # type: ignore[attr-defined]
            writer.writerow(row)


def write_xlsx(path: Path, n: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)  # streams to disk, as Excel files are written
    sheet = workbook.create_sheet("来电登记")
    sheet.append(HEADER)
    for row in rows(n):
        sheet.append(row)
    workbook.save(path)


REPO = Path(__file__).resolve().parent.parent
ROUTING_RULES = REPO / "config" / "routing.toml"


def run_one(path: Path, url: str, work: Path, handler: str,
            routing: bool = True) -> dict[str, object]:
    """Import ``path`` into the database at ``url`` (this process: fresh).

    ``handler`` "pipeline": everything a call becomes; "casework": the case alone
    (``casework.services.receive``); "intake": no case, only reading, checking, the
    ledger and the transactions — the importer's own cost and memory. ``routing``: with
    the rules of ``config/routing.toml`` in force (else every case goes to triage).
    """
    from casework.clock import SHANGHAI, FixedClock
    from complaintd.app import App
    from complaintd.migrate import upgrade
    from complaintd.settings import settings_from_dict

    settings = settings_from_dict({
        "storage": {"data_dir": str(work / "var"), "database_url": url},
        "hotline": {"drop_dir": str(work / "drop"), "min_age_seconds": 0},
        "smtp": {"transport": "file"},
        # Routing mails invite answers: their reply tokens need a key (made for the bench).
        **({"routing": {"rules_file": str(ROUTING_RULES)},
            "security": {"generate_thread_key": True}} if routing else {}),
    })  # fmt: skip
    app = App.build(settings, FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)))
    upgrade(app.engine)
    if handler == "casework":
        app.pipeline = _casework_only(app)  # type: ignore[assignment]
    elif handler == "intake":
        app.pipeline = _intake_only  # type: ignore[assignment]
    importer = app.hotline_importer()
    assert importer is not None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    report = importer.import_file(path)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    assert report is not None
    app.close()
    return {"imported": report.imported, "rejected": report.rejected_rows, "seconds": seconds,
            "cpu_seconds": cpu, "rss_before_mib": before / 1024,
            "rss_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}  # fmt: skip


def _cpu_seconds() -> float:
    """This process's CPU time (user and system): on a shared machine it varies less than
    the wall time, which counts the time other processes had the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _casework_only(app: object) -> object:
    from casework.services import receive

    def handle(session: object, inbound: object) -> object:
        _case, receipt = receive(session, inbound, calendar=app.calendar,  # type: ignore[arg-type, attr-defined]
                                 policy=app.policy)  # type: ignore[attr-defined]
        return receipt

    return handle


def _intake_only(session: object, inbound: object) -> object:
    """No case at all: reading, checking, the ledger and the transactions alone."""
    from casework.inbound import Receipt

    return Receipt(None, "-", "case")  # type: ignore[arg-type]


def database(kind: str, work: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{work / 'bench.sqlite3'}", None
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"complaintd_bench_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), name


def drop_database(name: str) -> None:
    from sqlalchemy import create_engine

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def measure(fmt: str, n: int, db: str, files: Path, handler: str,
            routing: bool = True) -> dict[str, object]:
    source = files / f"calls-{n}.{fmt}"
    if not source.exists():
        (write_csv if fmt == "csv" else write_xlsx)(source, n)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        work = Path(tmp)
        (work / "drop").mkdir()
        target = work / "drop" / source.name
        target.write_bytes(source.read_bytes())
        url, pg_name = database(db, work)
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--run-one", str(target), url, str(work), handler,
                 *([] if routing else ["--no-routing"])],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
        finally:
            if pg_name:
                drop_database(pg_name)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(format=fmt, rows=n, db=db, file_mib=source.stat().st_size / 2**20,
                  handler=handler, routing=routing)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--handler", choices=["pipeline", "casework", "intake"], default="pipeline")
    parser.add_argument("--files", type=Path, default=None,
                        help="keep the generated files here (reused by later runs)")
    parser.add_argument("--no-routing", action="store_true",
                        help="without config/routing.toml's rules: every case to triage")
    parser.add_argument("--run-one", nargs=4, metavar=("FILE", "URL", "WORK", "HANDLER"))
    args = parser.parse_args()
    routing = not args.no_routing
    if args.run_one:
        path, url, work, handler = args.run_one
        print(json.dumps(run_one(Path(path), url, Path(work), handler, routing)))
        return
    print("| handler | routing | format | rows | file MiB | database | rows/s | seconds "
          "| CPU s | rows per CPU s | RSS before MiB | peak RSS MiB | load 1 min |")
    print("|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="hotline-bench-files-") as tmp:
        files = args.files or Path(tmp)
        files.mkdir(parents=True, exist_ok=True)
        for fmt in args.formats:
            for n in args.rows:
                for db in args.db:
                    r = measure(fmt, n, db, files, args.handler, routing)
                    rate = float(r["imported"]) / float(r["seconds"])  # type: ignore[arg-type]
                    cpu = float(r["cpu_seconds"])  # type: ignore[arg-type]
                    rules = "rules" if routing else "triage"
                    print(f"| {args.handler} | {rules} | {fmt} | {n:,} | {r['file_mib']:.1f} | "
                          f"{db} | {rate:,.0f} | "
                          f"{r['seconds']:.1f} | {cpu:.1f} | "
                          f"{rate * float(r['seconds']) / cpu:,.0f} | "  # type: ignore[arg-type]
                          f"{r['rss_before_mib']:.0f} | "
                          f"{r['rss_peak_mib']:.0f} | {os.getloadavg()[0]:.1f} |",
                          flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
