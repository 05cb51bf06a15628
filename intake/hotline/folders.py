"""The drop folder: which files are ready, claiming one, and moving it on when done.

A file goes ``drop/`` → ``processing/`` (claimed by an atomic rename) → ``archive/<date>/``
or ``rejected/``. While a worker imports a file it holds an exclusive ``flock`` on it, so
a file left in ``processing/`` by a crash (the lock died with the process) is taken up
again at the next scan, while one another worker is still importing is left alone.

Only regular files are taken. A symbolic link (to any file the service can read) or a
FIFO, socket or device is refused with one WARNING line and left where it is: it is never
followed, copied into the raw store or quoted in an error report. The file is opened with
``O_NOFOLLOW`` and checked again on the open descriptor, so a swap after the scan is
refused too.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import fnmatch
import logging
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from casework.clock import Clock
from intake.hotline.formats import is_call_log_name

log = logging.getLogger("complaintd.hotline")

WORK_FOLDER_MODE = 0o700
# Office lock files, hidden files, downloads and copies still in progress.
IGNORED_NAMES = ("~$*", ".*", "*.tmp", "*.part", "*.crdownload", "thumbs.db", "desktop.ini")


def is_ignored(name: str) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in IGNORED_NAMES)


@dataclass(frozen=True)
class HotlineFolders:
    drop: Path
    processing: Path
    archive: Path
    rejected: Path

    @classmethod
    def inside(cls, drop: Path) -> HotlineFolders:
        """Work folders under the drop folder: same file system, so renames are atomic."""
        return cls(drop, drop / "processing", drop / "archive", drop / "rejected")

    def ensure(self) -> None:
        # The drop folder is the operator's (hotline staff write into it); the work folders
        # hold the calls, health data: the service user's alone.
        self.drop.mkdir(parents=True, exist_ok=True)
        for folder in (self.processing, self.archive, self.rejected):
            folder.mkdir(mode=WORK_FOLDER_MODE, exist_ok=True)


def not_regular(path: Path) -> str | None:
    """Why ``path`` is no file to take (a link, a FIFO…), or None for a regular file.

    ``lstat``: the link itself is judged, never what it points at.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    return None


def claim(path: Path, processing: Path) -> Path | None:
    """Move ``path`` into ``processing``; None when another worker took it first, or when it
    is not a regular file (logged)."""
    why = not_regular(path)
    if why:
        log.warning("hotline: %s %s; refused, never followed", path.name, why)
        return None
    target = free_path(processing, path.name)
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        _move_across(path, target)  # a file staff import by hand from another disk
    with contextlib.suppress(PermissionError):  # a file another user owns keeps its mode:
        os.chmod(target, 0o600)  # the work folders are 0700 all the same
    return target


def _move_across(path: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")  # an ignored name until complete
    shutil.copy2(path, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.rename(tmp, target)
    path.unlink()


def free_path(folder: Path, name: str, companion_suffix: str = "") -> Path:
    """``folder/name``, or ``name`` with ``.2``, ``.3``… before its suffix when taken.

    ``companion_suffix`` names a file that will sit beside it (the error report): that
    name must be free as well.
    """
    stem, suffix = os.path.splitext(name)
    candidate, n = folder / name, 1
    while candidate.exists() or (
        companion_suffix and companion(candidate, companion_suffix).exists()
    ):
        n += 1
        candidate = folder / f"{stem}.{n}{suffix}"
    return candidate


def companion(path: Path, suffix: str) -> Path:
    return path.with_name(f"{path.stem}{suffix}")


@contextmanager
def locked(path: Path) -> Iterator[BinaryIO | None]:
    """The file opened under an exclusive lock, or None if it is gone or locked by another."""
    try:
        # O_NOFOLLOW: a link put in place of the file is refused, not followed; O_NONBLOCK:
        # opening a FIFO does not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        yield None
        return
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        log.warning("hotline: %s is a symbolic link; refused, never followed", path.name)
        yield None
        return
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        log.warning("hotline: %s is not a regular file; refused", path.name)
        yield None
        return
    fh = os.fdopen(fd, "rb")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        yield None
        return
    try:
        # Another worker may have finished and moved it between our open and our lock.
        yield fh if _still_at(path, fh) else None
    finally:
        fh.close()  # closing releases the lock


def _still_at(path: Path, fh: BinaryIO) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino
    except FileNotFoundError:
        return False


class SettleWatch:
    """Tells whether a file has stopped changing for ``min_age_seconds``, by the clock.

    Size, mtime and ctime are compared with the last scan's; ctime counts because copy
    tools preserve the mtime of the original but cannot set ctime.
    """

    def __init__(self, clock: Clock, min_age_seconds: float) -> None:
        self._clock = clock
        self._min_age = min_age_seconds
        self._seen: dict[Path, tuple[tuple[int, int, int], datetime]] = {}

    def settled(self, path: Path, stat: os.stat_result) -> bool:
        if self._min_age <= 0:
            return True
        now = self._clock.now()
        signature = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        known = self._seen.get(path)
        if known is None or known[0] != signature:
            # First sight: it last changed when the file system says; later: when we saw it.
            changed = now if known else _file_time(max(stat.st_mtime, stat.st_ctime))
            self._seen[path] = (signature, changed)
        age = (now - self._seen[path][1]).total_seconds()
        return age >= self._min_age

    def forget_all_but(self, present: set[Path]) -> None:
        for path in set(self._seen) - present:
            del self._seen[path]


class DropFolderScan:
    """Which files of a folder are call logs ready to import, with a log line for the rest."""

    def __init__(self, clock: Clock, min_age_seconds: float) -> None:
        self._settle = SettleWatch(clock, min_age_seconds)
        self._noted: set[Path] = set()  # files left alone, logged once

    def files(self, folder: Path) -> list[Path]:
        files = []
        for path in sorted(folder.iterdir()):
            if path.is_dir() and not path.is_symlink():
                continue  # the work folders themselves
            irregular = not_regular(path)
            if irregular:
                self._note_once(path, f"{irregular}; refused, never followed",
                                level=logging.WARNING)
            elif not path.is_file():
                continue  # gone since the listing
            elif is_ignored(path.name):
                self._note_once(path, "has a temporary or hidden name (a copy in progress?)")
            elif not is_call_log_name(path.name):
                self._note_once(path, "is not a call log (not .csv .tsv .txt .xlsx .jsonl)")
            else:
                files.append(path)
        return files

    def ready(self, drop: Path) -> list[Path]:
        """The call logs in ``drop`` that have stopped changing."""
        files, ready = self.files(drop), []
        for path in files:
            try:
                settled = self._settle.settled(path, path.stat())
            except FileNotFoundError:
                continue
            if settled:
                ready.append(path)
            else:
                log.info("hotline: %s is still being written; left for the next scan", path.name)
        self._settle.forget_all_but(set(files))
        return ready

    def _note_once(self, path: Path, why: str, level: int = logging.INFO) -> None:
        # Once per file, not at every scan: an open workbook's ~$ lock file stays for hours.
        if path not in self._noted:
            self._noted.add(path)
            log.log(level, "hotline: %s %s; left in the folder", path.name, why)


def _file_time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _attempts_file(path: Path) -> Path:
    return path.with_name(f".{path.name}.attempts")


def count_attempt(path: Path) -> int:
    """Note one more try at importing ``path`` and return the count.

    Counted before the work starts, so that a file that kills the process (not just
    raises) is counted too and cannot crash the daemon at every scan forever.
    """
    marker = _attempts_file(path)
    try:
        attempts = int(marker.read_text(encoding="ascii") or 0) + 1
    except (FileNotFoundError, ValueError):
        attempts = 1
    marker.write_text(str(attempts), encoding="ascii")
    return attempts


def uncount_attempt(path: Path) -> None:
    """Take back a try that failed for a passing reason (database down, disk full)."""
    marker = _attempts_file(path)
    try:
        attempts = int(marker.read_text(encoding="ascii") or 0) - 1
    except (FileNotFoundError, ValueError):
        return
    marker.write_text(str(max(attempts, 0)), encoding="ascii")


def forget_attempts(path: Path) -> None:
    _attempts_file(path).unlink(missing_ok=True)
