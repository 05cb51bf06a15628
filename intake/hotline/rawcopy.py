"""A call-log file into the raw store, a chunk at a time (a workbook may be large)."""

from __future__ import annotations

import hashlib
import shutil
from typing import BinaryIO

from casework.rawstore import RawStore

_CHUNK = 1 << 20


def store_file(raw_store: RawStore, fh: BinaryIO) -> tuple[str, int]:
    """Keep the bytes of ``fh`` under their SHA-256 without reading the file into memory;
    return (digest, size). ``fh`` is rewound."""
    digest, size = _hash(fh)
    raw_store.write(digest, lambda out: shutil.copyfileobj(fh, out, _CHUNK))
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
