"""Raw bytes (mails, attachments, call-log files) on disk, addressed by their SHA-256."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
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

    def write(self, digest: str, fill: Callable[[BinaryIO], object]) -> None:
        """Keep what ``fill`` writes under ``digest`` (the caller's hash of it), once."""
        if self._found(digest) is not None:
            return
        target = self.path_for(digest)
        tmp = target.with_name(f".{digest}.{os.getpid()}.tmp")
        with _create(tmp) as fh:
            fill(fh)
            fh.flush()
            # The database will point at this file once it commits: it must be on disk first.
            os.fsync(fh.fileno())
        os.replace(tmp, target)

    def get(self, digest: str) -> bytes:
        return (self._found(digest) or self.path_for(digest)).read_bytes()

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and self._found(digest) is not None

    def _found(self, digest: str) -> Path | None:
        for path in (self.path_for(digest), self.root / digest[:2] / digest[2:4] / digest):
            if path.exists():
                return path
        return None


def _create(path: Path) -> BinaryIO:
    try:
        return open(path, "wb")
    except FileNotFoundError:  # the folder's first file (no mkdir call for every file)
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb")
