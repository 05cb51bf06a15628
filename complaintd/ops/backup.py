"""``complaintd backup`` and ``complaintd restore``: the database and the raw store in one
tar file, consistent with each other.

The database is copied first (SQLite's online backup API, or ``pg_dump``, each a snapshot
taken while the daemon runs), the raw store after it. Raw files are written once, under
their SHA-256, and synced before the transaction that names them commits, so every file
the snapshot names is already on disk when the store is copied; files newer than the
snapshot come along and harm nothing. The backup then checks that every file the database
names is in it, and a restore checks every file against its name and every table's rows
against the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, text
from sqlalchemy.engine import URL, make_url

from casework.models import Attachment, Message
from casework.sealing import MAGIC, Sealer, SealError, is_sealed
from complaintd.schema import metadata

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
RAW = "raw"
# The generated reply-token key (demo installations): without it old reply codes fail.
KEY_FILE = "thread.key"


class BackupError(Exception):
    """The backup or restore cannot be made; the message says why (no personal data)."""


@dataclass
class Report:
    path: Path
    database: str
    revision: str | None
    rows: dict[str, int]
    files: int
    problems: list[str] = field(default_factory=list)


# -- backup -----------------------------------------------------------------------------


def backup(engine: Engine, data_dir: Path, dest: Path, *, revision: str | None,
           now: datetime) -> Report:
    """Write ``dest`` (a tar file; written aside and renamed, so a half backup never has
    the name). Raises BackupError when a file the database names is missing."""
    if dest.exists():
        raise BackupError(f"{dest}: already exists")
    kind = _kind(engine)
    partial = dest.with_name(f".{dest.name}.partial")
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".complaintd-backup-") as work:
        snapshot = Path(work) / (SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER)
        # The counts and the files named are the snapshot's own, not the live database's.
        rows, wanted = _snapshot(engine, snapshot)
        with tarfile.open(partial, "w") as tar:
            tar.add(snapshot, arcname=snapshot.name)
            files = _add_raw(tar, data_dir / RAW)
            if (data_dir / KEY_FILE).is_file():
                tar.add(data_dir / KEY_FILE, arcname=KEY_FILE)
            missing = sorted(wanted - files)
            manifest = {"format": FORMAT, "created_at": now.isoformat(), "database": kind,
                        "revision": revision, "rows": rows, "files": len(files),
                        "missing_files": missing}
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
    if missing:
        partial.unlink()
        raise BackupError(f"{len(missing)} file(s) the database names are not in the raw "
                          f"store (first: {missing[0]}); no backup written")
    _fsync(partial)
    os.replace(partial, dest)
    return Report(dest, kind, revision, rows, len(files))


def _kind(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in {"sqlite", "postgresql"}:
        raise BackupError(f"unsupported database {name}")
    return name


def _snapshot(engine: Engine, target: Path) -> tuple[dict[str, int], set[str]]:
    """Copy the database to ``target``; the rows per table and the files it names."""
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_path(engine.url))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # the online backup API: a consistent copy while in use
        finally:
            copy.close()
            source.close()
        frozen = create_engine(f"sqlite:///{target}")
        try:
            return row_counts(frozen), referenced_files(frozen)
        finally:
            frozen.dispose()
    # pg_dump reads the very snapshot this transaction counts in (pg_export_snapshot).
    repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with repeatable as connection, connection.begin():
        exported = connection.scalar(text("SELECT pg_export_snapshot()"))
        rows, wanted = row_counts(connection), referenced_files(connection)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={exported}", f"--file={target}",
              f"--dbname={_conninfo(engine.url)}"], engine.url)
    return rows, wanted


def _add_raw(tar: tarfile.TarFile, root: Path) -> set[str]:
    """Every finished file of the store, in its place; its name (the digest) returned."""
    names: set[str] = set()
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        if path.is_file() and not path.name.startswith("."):  # ".…tmp": being written
            tar.add(path, arcname=f"{RAW}/{path.relative_to(root).as_posix()}")
            names.add(path.name)
    return names


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


# -- restore ----------------------------------------------------------------------------


def restore(source: Path, engine: Engine, data_dir: Path,
            sealer: Sealer | None = None) -> Report:
    """Restore ``source`` into an empty data folder (and, for PostgreSQL, an empty
    database), then check every raw file and every table's rows against the manifest.
    ``sealer``: the store keys, when the raw store is encrypted at rest (its files are then
    opened to be checked)."""
    with tarfile.open(source, "r") as tar:
        manifest = _manifest(tar)
        _check_empty(engine, data_dir, manifest["database"])
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as work:
            for member in _members(tar):
                tar.extract(member, work, filter="data")
            _restore_database(Path(work), engine, manifest["database"])
            if (Path(work) / RAW).is_dir():
                shutil.move(Path(work) / RAW, data_dir / RAW)
            if (Path(work) / KEY_FILE).is_file():
                shutil.move(Path(work) / KEY_FILE, data_dir / KEY_FILE)
    return verify(engine, data_dir, manifest, source, sealer)


def _manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.extractfile(MANIFEST)
    except KeyError:
        raise BackupError("not a complaintd backup: no manifest.json") from None
    manifest: dict[str, Any] = json.loads(member.read() if member else b"{}")
    if manifest.get("format") != FORMAT or manifest.get("database") not in {"sqlite",
                                                                            "postgresql"}:
        raise BackupError("not a complaintd backup of a known format")
    return manifest


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """Only what a backup holds: regular files under known names (the data filter also
    refuses links and paths that leave the folder)."""
    for member in tar.getmembers():
        name = member.name
        known = name in {SQLITE_MEMBER, PG_MEMBER, KEY_FILE} or name.startswith(f"{RAW}/")
        if name == MANIFEST:
            continue
        if not (known and member.isfile()) or ".." in name.split("/"):
            raise BackupError(f"unexpected entry in the backup: {name!r}")
        yield member


def _check_empty(engine: Engine, data_dir: Path, kind: str) -> None:
    if kind != engine.dialect.name:
        raise BackupError(f"the backup holds a {kind} database but the settings name "
                          f"{engine.dialect.name}; restore it into {kind} (then "
                          f"`complaintd db copy-to` moves SQLite into PostgreSQL)")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir}: the data folder is not empty; restore needs an empty one")
    if kind == "sqlite":
        # Not opened: connecting would create the file the restore is about to place.
        if Path(_sqlite_path(engine.url)).exists():
            raise BackupError(f"{_sqlite_path(engine.url)}: the database file already exists")
    elif inspect(engine).get_table_names():
        raise BackupError("the database already has tables; restore needs an empty one")


def _restore_database(work: Path, engine: Engine, kind: str) -> None:
    if kind == "sqlite":
        target = Path(_sqlite_path(engine.url))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(work / SQLITE_MEMBER, target)
        return
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
          f"--dbname={_conninfo(engine.url)}", str(work / PG_MEMBER)], engine.url)


def verify(engine: Engine, data_dir: Path, manifest: dict[str, Any], source: Path,
           sealer: Sealer | None = None) -> Report:
    """Every raw file hashes to its name, every named file is there, every table has the
    rows the manifest counted."""
    problems: list[str] = []
    files = 0
    for path in sorted((data_dir / RAW).rglob("*")) if (data_dir / RAW).is_dir() else []:
        if path.is_file():
            files += 1
            if _content_sha256(path, sealer) != path.name:
                problems.append(f"raw file {path.name}: content does not match its name")
    present = {p.name for p in (data_dir / RAW).rglob("*")} if (data_dir / RAW).is_dir() else set()
    problems += [f"file {d} named by the database is missing"
                 for d in sorted(referenced_files(engine) - present)]
    rows = row_counts(engine)
    problems += [f"table {t}: {rows.get(t)} rows, the backup counted {n}"
                 for t, n in manifest["rows"].items() if rows.get(t) != n]
    return Report(source, manifest["database"], manifest.get("revision"), rows, files, problems)


# -- shared -----------------------------------------------------------------------------


def row_counts(bind: Engine | Connection) -> dict[str, int]:
    """Rows of each of our tables the database has (a table an old schema lacks: left out)."""
    with _connected(bind) as connection:
        present = set(inspect(connection).get_table_names())
        return {table.name: connection.scalar(select(func.count()).select_from(table)) or 0
                for table in metadata.sorted_tables if table.name in present}


def referenced_files(bind: Engine | Connection) -> set[str]:
    """The digests of every raw mail and stored attachment the database names."""
    with _connected(bind) as connection:
        mails = connection.scalars(select(Message.raw_sha256)
                                   .where(Message.raw_sha256.is_not(None))).all()
        files = connection.scalars(select(Attachment.sha256).where(Attachment.sha256 != "")).all()
    return {d for d in [*mails, *files] if d}


@contextmanager
def _connected(bind: Engine | Connection) -> Iterator[Connection]:
    """A connection: the one given (inside its transaction), or a new one of the engine."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as connection:
        yield connection


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return url.database


def _conninfo(url: URL) -> str:
    """The libpq form of the URL, without its password (that goes in PGPASSWORD, not on a
    command line anyone on the machine may read)."""
    plain = make_url(url.render_as_string(hide_password=False)).set(drivername="postgresql",
                                                                    password=None)
    return plain.render_as_string(hide_password=False)


def _run(command: list[str], url: URL) -> None:
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise BackupError(f"{command[0]} failed: {detail[0]}")


def _content_sha256(path: Path, sealer: Sealer | None) -> str:
    """The hash of the plain bytes: a sealed file (encryption at rest) is opened first; a
    sealed file without the keys, or with the wrong ones, never matches."""
    with path.open("rb") as fh:
        sealed = is_sealed(fh.read(len(MAGIC)))
    if not sealed:
        return _sha256(path)
    if sealer is None:
        return "sealed: no store keys given"
    try:
        return hashlib.sha256(sealer.open(path.read_bytes())).hexdigest()
    except SealError:
        return "sealed: cannot be opened"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())
