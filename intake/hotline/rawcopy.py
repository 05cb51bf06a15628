"""A call-log file into the raw store, a chunk at a time (a workbook may be large)."""

from __future__ import annotations

import hashlib
import os
import shutil
from typing import BinaryIO

from casework.rawstore import RawStore

_CHUNK = 1 << 20


def store_file(raw_store: RawStore, fh: BinaryIO) -> tuple[str, int]:
    """Keep the bytes of ``fh`` under their SHA-256; return (digest, size). ``fh`` is rewound.

    Same layout and guarantees as ``RawStore.put`` (fsync, then rename), without reading
    the file into memory.
    """
    digest, size = _hash(fh)
    target = raw_store.path_for(digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{digest}.{os.getpid()}.tmp")
        with open(tmp, "wb") as out:
            shutil.copyfileobj(fh, out, _CHUNK)
            out.flush()
            # The database will point at this file once it commits: it must be on disk first.
            os.fsync(out.fileno())
        os.replace(tmp, target)
    fh.seek(0)
    return digest, size


def _hash(fh: BinaryIO) -> tuple[str, int]:
    fh.seek(0)
    sha, size = hashlib.sha256(), 0
    while chunk := fh.read(_CHUNK):
        sha.update(chunk)
        size += len(chunk)
    fh.seek(0)
    return sha.hexdigest(), size
