"""One place at a time: the lock a daemon holds while it runs a job that must not run twice
(polling one mailbox, the hotline folder, the deadline sweep, reconciliation, the daily
lists, the purge).

On PostgreSQL a session-level advisory lock (``pg_try_advisory_lock``) on a connection
kept for the job: every daemon of the installation sees it, wherever it runs, and a daemon
that dies loses its connection and with it the lock, so another takes the job over at its
next tick. On SQLite (one machine by nature) an exclusive ``flock`` on a file in the data
folder, which the kernel releases when the process dies.

A job that finds its lock taken is skipped for this round, never queued behind it: the
holder is doing the work already. Sending the outbox takes no lock: its rows are claimed
one by one with a lease (``notifications.sender``), so daemons send side by side.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("complaintd.locks")


class JobLocks(Protocol):
    def hold(self, name: str) -> contextlib.AbstractContextManager[bool]:
        """Enter with True while the lock of ``name`` is this process's, False when another
        holds it (the body should then do nothing)."""
        ...


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (advisory locks are numbered)."""
    digest = hashlib.blake2b(f"complaintd:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLocks:
    """PostgreSQL advisory locks, one pooled connection held per job in hand."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[bool]:
        key = lock_key(name)
        with self.engine.connect() as conn:
            got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
            conn.commit()  # no transaction left open for the job's length
            try:
                yield got
            finally:
                if got:
                    _unlock(conn, key)


def _unlock(conn: Connection, key: int) -> None:
    try:
        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        conn.commit()
    except SQLAlchemyError:
        # The connection is gone (the server restarted, an administrator ended it): the
        # lock went with it. The job's own outcome is what its caller must hear about.
        log.warning("job lock: the connection holding it was lost; the lock is free")
        conn.invalidate()


class FileLocks:
    """``flock`` on ``folder/<name>.lock``: between the processes of one machine."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[bool]:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.folder / f"{_file_name(name)}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _file_name(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return f"{safe[:60]}-{lock_key(name) & 0xFFFFFFFF:08x}"


def locks_for(engine: Engine, data_dir: Path) -> JobLocks:
    if engine.dialect.name == "postgresql":
        return AdvisoryLocks(engine)
    return FileLocks(data_dir / "locks")
