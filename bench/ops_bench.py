"""Operating it at size: ``complaintd health``, a metrics scrape, backup, restore + verify.

    python bench/ops_bench.py --years 3 --db sqlite     # or --db pg (COMPLAINTD_TEST_PG_URL)

The database is filled as tests/test_ops_upgrade.py fills it (every table, N years of
rows), each message and attachment given a real raw file (~3 KB), then timed once each.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import generate_latest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from casework.calendar import WorkCalendar
from casework.db import make_engine, make_sessionmaker
from casework.rawstore import RawStore
from complaintd.migrate import upgrade
from complaintd.ops.backup import backup, restore
from complaintd.ops.health import Limits, Mailbox, check_health
from complaintd.ops.metrics import DatabaseGauges, Metrics
from tests.fixtures.database import (
    PG_DEFAULT_ADMIN_URL,
    PG_URL_ENV,
    _create_database,
    _drop_database,
)
from tests.test_ops_upgrade import fill_a_year

NOW = datetime(2026, 1, 5, 3, tzinfo=UTC)


def give_files(engine: object, store: RawStore) -> int:
    """Real raw files for every message and stored attachment, named by their digest."""
    files = 0
    with engine.begin() as connection:  # type: ignore[attr-defined]
        for table, key, column in (("message", "id", "raw_sha256"),
                                   ("attachment", "id", "sha256")):
            ids = connection.execute(text(f"SELECT {key} FROM {table}")).scalars().all()
            for row_id in ids:
                digest = store.put(f"{table} {row_id} ".encode() * 300)
                connection.execute(text(f"UPDATE {table} SET {column} = :d WHERE {key} = :i"),
                                   {"d": digest, "i": row_id})
                files += 1
    return files


def timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"{label}: {time.perf_counter() - start:.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--db", choices=["sqlite", "pg"], default="sqlite")
    args = parser.parse_args()
    admin = os.environ.get(PG_URL_ENV, PG_DEFAULT_ADMIN_URL)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        urls = ([f"sqlite:///{root / 'a.sqlite3'}", f"sqlite:///{root / 'b' / 'b.sqlite3'}"]
                if args.db == "sqlite" else [_create_database(admin), _create_database(admin)])
        try:
            run(root, urls, args.years)
        finally:
            if args.db == "pg":
                for url in urls:
                    _drop_database(admin, url)


def run(root: Path, urls: list[str], years: int) -> None:
    source, target = make_engine(urls[0]), make_engine(urls[1])
    upgrade(source)
    made = fill_a_year(source, seed=1, years=years)
    files = give_files(source, RawStore(root / "data" / "raw"))
    print(f"{source.dialect.name}: {made['cases']} cases, {sum(made.values())} rows, "
          f"{files} raw files")
    sessions = make_sessionmaker(source)
    boxes = [Mailbox("imap:main", "INBOX")]
    health = timed("health", check_health, sessions, now=NOW, mailboxes=boxes,
                   calendar=WorkCalendar.build(), data_dir=root, limits=Limits())
    assert health.checks["database"]["ok"]
    metrics = Metrics()
    metrics.watch_database(DatabaseGauges(sessions, lambda: NOW, boxes))
    timed("metrics scrape", generate_latest, metrics.registry)
    tar = root / "backup.tar"
    timed("backup", backup, source, root / "data", tar, revision=None, now=NOW)
    print(f"backup size: {tar.stat().st_size / 1e6:.1f} MB")
    report = timed("restore + verify", restore, tar, target, root / "restored")
    assert not report.problems and report.rows["cases"] == made["cases"], report.problems
    digest = hashlib.sha256(tar.read_bytes()).hexdigest()[:12]
    print(f"backup sha256 {digest}…; load average {os.getloadavg()[0]:.1f}")
    source.dispose()
    target.dispose()


if __name__ == "__main__":
    main()
