"""Raw bytes (mails, attachments, call-log files) on disk, addressed by their SHA-256."""

from __future__ import annotations

import ctypes
import hashlib
import io
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # cryptography is loaded only where a store is sealed: the parse
    # workers' forkserver preloads this module, and a child forked from a process that
    # holds OpenSSL's threads could not start (tests/test_poison_mail.py).
    from casework.sealing import Sealer


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RawStore:
    """Write-once files under ``root/ab/<sha256>``; storing the same bytes twice is free.

    One level of 256 folders, as git keeps its objects: the two levels (``ab/cd/``) of
    earlier versions made a young store create a folder for almost every file, which
    costs as much as writing the file. Files in that older layout are still found.
    """

    def __init__(self, root: Path, sealer: Sealer | None = None) -> None:
        self.root = root
        # Encryption at rest (``[privacy] encrypt_store``): files are named by the hash of
        # their plain bytes and hold them sealed (casework.sealing).
        self.sealer = sealer

    def path_for(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        if self._found(digest) is None:
            sealed = self._sealed(data)
            self.write(digest, lambda fh: fh.write(sealed), sealed=True)
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
                        fh.write(self._sealed(data))
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

    def write(self, digest: str, fill: Callable[[BinaryIO], object], *,
              sealed: bool = False) -> None:
        """Keep what ``fill`` writes under ``digest`` (the caller's hash of it), once.
        ``sealed``: what ``fill`` writes is sealed already."""
        if self._found(digest) is not None:
            return
        if self.sealer is not None and not sealed:
            # Sealing needs the whole plain text: gather what ``fill`` writes first.
            buffer = io.BytesIO()
            fill(buffer)
            blob = self.sealer.seal(buffer.getvalue())
            fill = lambda fh: fh.write(blob)  # noqa: E731
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
        blob = (self._found(digest) or self.path_for(digest)).read_bytes()
        return self.sealer.open(blob) if self.sealer is not None else blob

    def delete(self, digest: str) -> bool:
        """Remove the file of ``digest`` (personal data erased or past retention);
        False if there was none."""
        found = self._found(digest)
        if found is None:
            return False
        found.unlink()
        return True

    def reseal(self) -> tuple[int, int]:
        """Rewrite every file not sealed with the current key (plain files written before
        encryption, or files of an older key) under it, each replaced atomically.
        Returns (files rewritten, files already current)."""
        if self.sealer is None:
            raise ValueError("reseal needs the store keys (encryption at rest is off)")
        from casework.sealing import stored_files

        rewritten = current = 0
        for path in stored_files(self.root):
            blob = path.read_bytes()
            if self.sealer.is_current(blob):
                current += 1
                continue
            tmp = path.with_name(f".{path.name}.{os.getpid()}.reseal.tmp")
            try:
                with _create(tmp) as fh:
                    fh.write(self.sealer.seal(self.sealer.open(blob)))
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            rewritten += 1
        return rewritten, current

    def _sealed(self, data: bytes) -> bytes:
        return self.sealer.seal(data) if self.sealer is not None else data

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
