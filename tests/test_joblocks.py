"""Job locks (issue 17): a job runs in one daemon at a time, and a daemon that dies lets
go of its jobs. Real PostgreSQL advisory locks and real ``flock`` between real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from casework.db import make_engine
from complaintd.joblocks import AdvisoryLocks, FileLocks, JobLocks, lock_key, locks_for

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from casework.db import make_engine
    from complaintd.joblocks import locks_for
    locks = locks_for(make_engine(sys.argv[1]), Path(sys.argv[2]))
    with locks.hold("sweep") as mine:
        print("held" if mine else "refused", flush=True)
        time.sleep(600)
""")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    made = make_engine(db_url)
    yield made
    made.dispose()


def locks(engine: Engine, tmp_path: Path) -> JobLocks:
    return locks_for(engine, tmp_path / "var")


def test_the_database_chooses_the_kind_of_lock(engine: Engine, tmp_path: Path) -> None:
    expected = AdvisoryLocks if engine.dialect.name == "postgresql" else FileLocks
    assert isinstance(locks(engine, tmp_path), expected)


def test_one_holder_at_a_time_and_free_again_after(engine: Engine, tmp_path: Path) -> None:
    first, second = locks(engine, tmp_path), locks(engine, tmp_path)
    with first.hold("sweep") as mine:
        assert mine
        with second.hold("sweep") as theirs:
            assert not theirs
        with second.hold("hotline") as other_job:
            assert other_job  # locks are per job
    with second.hold("sweep") as now_theirs:
        assert now_theirs


def test_a_killed_holder_lets_go(engine: Engine, tmp_path: Path, db_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, db_url, str(tmp_path / "var")],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with locks(engine, tmp_path).hold("sweep") as mine:
            assert not mine  # another process has it
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        deadline = time.monotonic() + 30
        while True:  # PostgreSQL notices the dead connection within moments
            with locks(engine, tmp_path).hold("sweep") as mine:
                if mine or time.monotonic() > deadline:
                    break
            time.sleep(0.2)
        assert mine
    finally:
        if holder.poll() is None:
            holder.kill()


def test_lock_keys_are_stable_and_distinct() -> None:
    names = ["sweep", "hotline", "purge", "callbacks", "calendar", "mailbox:imap:reporting",
             "mailbox:maildir:local"]
    keys = [lock_key(n) for n in names]
    assert len(set(keys)) == len(names)
    assert lock_key("sweep") == lock_key("sweep")
    assert all(-(2**63) <= k < 2**63 for k in keys)
