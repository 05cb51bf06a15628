"""Raw bytes (mails, attachments) on disk, addressed by their SHA-256."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RawStore:
    """Write-once files under ``root/ab/cd/<sha256>``; storing the same bytes twice is free."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        target = self.path_for(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{digest}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            # The database will point at this file once it commits: it must be on disk first.
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return digest

    def get(self, digest: str) -> bytes:
        return self.path_for(digest).read_bytes()

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and self.path_for(digest).exists()
