"""Raw bytes (mails, attachments, call-log files) on disk, addressed by their SHA-256."""

from __future__ import annotations

import ctypes
import hashlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RawStore:
    """Write-once files under ``root/ab/<sha256>``; storing the same bytes twice is free.

    One level of 256 folders, as git keeps its objects: the two levels (``ab/cd/``) of
    earlier versions made a young store create a folder for almost every file, which
    costs as much as writing the file. Files in that older layout are still found.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        self.write(digest, lambda fh: fh.write(data))
        return digest

    def put_all(self, blobs: Sequence[bytes]) -> list[str]:
        """``put`` for each of ``blobs``, made durable together.

        A batch's new files are written, synced with one ``syncfs`` (Linux) instead of
        an fsync each, which costs several times more per file, and only then given their
        names: a file under its name is always complete, as with ``put``.
        """
        if len(blobs) < _SYNCFS_FROM or not _can_syncfs():
            return [self.put(data) for data in blobs]
        digests: list[str] = []
        unsynced: dict[str, Path] = {}
        try:
            for data in blobs:
                digest = sha256_hex(data)
                digests.append(digest)
                if digest not in unsynced and self._found(digest) is None:
                    unsynced[digest] = self._tmp_for(digest)
                    with _create(unsynced[digest]) as fh:
                        fh.write(data)
            if unsynced and not _syncfs(self.root):
                for tmp in unsynced.values():
                    _fsync_file(tmp)
            for digest, tmp in unsynced.items():
                os.replace(tmp, self.path_for(digest))
        except BaseException:
            # A full disk (or a kill signal turned exception) midway: no temporary file
            # stays behind. Files already renamed are complete and stay, as ``put``'s do.
            for tmp in unsynced.values():
                tmp.unlink(missing_ok=True)
            raise
        return digests

    def write(self, digest: str, fill: Callable[[BinaryIO], object]) -> None:
        """Keep what ``fill`` writes under ``digest`` (the caller's hash of it), once."""
        if self._found(digest) is not None:
            return
        target = self.path_for(digest)
        tmp = self._tmp_for(digest)
        try:
            with _create(tmp) as fh:
                fill(fh)
                fh.flush()
                # The database will point at this file once it commits: it must be on disk.
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk leaves no half file behind
            raise

    def _tmp_for(self, digest: str) -> Path:
        # Per process and thread: two writers of the same new bytes never share a file.
        return self.path_for(digest).with_name(
            f".{digest}.{os.getpid()}.{threading.get_ident()}.tmp")

    def get(self, digest: str) -> bytes:
        return (self._found(digest) or self.path_for(digest)).read_bytes()

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and self._found(digest) is not None

    def _found(self, digest: str) -> Path | None:
        for path in (self.path_for(digest), self.root / digest[:2] / digest[2:4] / digest):
            if path.exists():
                return path
        return None


# Raw mails and call logs are complainants' health data: the service user's alone, whatever
# the umask of the process that writes them (the daemon sets 077 too).
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def _create(path: Path) -> BinaryIO:
    try:
        return _open_private(path)
    except FileNotFoundError:  # the folder's first file (no mkdir call for every file)
        path.parent.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        path.parent.mkdir(mode=FOLDER_MODE, exist_ok=True)
        return _open_private(path)


def _open_private(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    return os.fdopen(fd, "wb")


# Below this many files an fsync each is cheaper than syncing the whole file system.
_SYNCFS_FROM = 8
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _can_syncfs() -> bool:
    return _LIBC is not None and hasattr(_LIBC, "syncfs")


def _syncfs(folder: Path) -> bool:
    """Everything written to the file system holding ``folder`` on disk; False if it
    could not be done (the caller then syncs file by file)."""
    if _LIBC is None:
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        return int(_LIBC.syncfs(fd)) == 0
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
