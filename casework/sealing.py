"""Encryption at rest for the raw store (mails, attachments, call logs: health information).

AES-256-GCM from ``cryptography`` (the maintained library the Python world uses for this;
Apache-2.0/BSD). A sealed file is ``CDSEAL1`` + the key's id + a 12-byte random nonce + the
ciphertext with its tag; the key id is also bound as associated data, so a file cannot be
passed off as sealed under another key. Files written before encryption was switched on
stay readable (they do not start with the magic) until ``reseal`` rewrites them.

Keys come as ``id:base64`` entries, the first one current: new files are sealed with it,
and the others only open older files. Rotation: put a new key first, run
``complaintd privacy reseal`` (every file then carries the new key), then drop the old key.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"CDSEAL1"
_NONCE = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class SealError(Exception):
    """A key is malformed, or a sealed file cannot be opened (wrong key, damaged file)."""


@dataclass(frozen=True)
class StoreKey:
    key_id: str
    secret: bytes


def parse_keys(text: str, *, source: str) -> list[StoreKey]:
    """``id:base64`` entries separated by commas, whitespace or new lines; the first is
    current. Each key must decode to 32 bytes (AES-256)."""
    keys: list[StoreKey] = []
    for entry in text.replace(",", " ").split():
        key_id, _, encoded = entry.partition(":")
        if not _KEY_ID.match(key_id) or not encoded:
            raise SealError(f"{source}: a key must read id:base64 (id of letters, digits, "
                            f"'_', '.', '-'); got an entry starting {key_id[:8]!r}")
        try:
            secret = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SealError(f"{source}: key {key_id!r} is not valid base64") from exc
        if len(secret) != 32:
            raise SealError(f"{source}: key {key_id!r} must be 32 bytes (it is {len(secret)})")
        if any(k.key_id == key_id for k in keys):
            raise SealError(f"{source}: key id {key_id!r} is given twice")
        keys.append(StoreKey(key_id, secret))
    if not keys:
        raise SealError(f"{source}: no key given")
    return keys


def new_key_line(key_id: str) -> str:
    """A fresh random key as one ``id:base64`` entry (for ``privacy new-key``)."""
    if not _KEY_ID.match(key_id):
        raise SealError(f"key id {key_id!r}: letters, digits, '_', '.', '-' (up to 32)")
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode('ascii')}"


class Sealer:
    """Seals with the current key; opens what any of the keys sealed."""

    def __init__(self, keys: Sequence[StoreKey]) -> None:
        if not keys:
            raise SealError("no key given")
        self.current = keys[0]
        self._keys = {k.key_id: AESGCM(k.secret) for k in keys}

    def seal(self, data: bytes) -> bytes:
        key_id = self.current.key_id.encode("ascii")
        header = MAGIC + bytes([len(key_id)]) + key_id
        nonce = os.urandom(_NONCE)
        return header + nonce + self._keys[self.current.key_id].encrypt(nonce, data, header)

    def open(self, blob: bytes) -> bytes:
        """The plain bytes of ``blob``; an unsealed (older) file comes back as it is."""
        if not is_sealed(blob):
            return blob
        key_id, header, rest = _split(blob)
        aead = self._keys.get(key_id)
        if aead is None:
            raise SealError(f"sealed with key {key_id!r}, which is not among the keys given")
        try:
            return aead.decrypt(rest[:_NONCE], rest[_NONCE:], header)
        except InvalidTag as exc:
            raise SealError(f"a file sealed with key {key_id!r} is damaged or was altered") \
                from exc

    def is_current(self, blob: bytes) -> bool:
        return is_sealed(blob) and _split(blob)[0] == self.current.key_id


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def key_id_of(blob: bytes) -> str | None:
    return _split(blob)[0] if is_sealed(blob) else None


def _split(blob: bytes) -> tuple[str, bytes, bytes]:
    size = blob[len(MAGIC)] if len(blob) > len(MAGIC) else 0
    end = len(MAGIC) + 1 + size
    if size == 0 or len(blob) < end + _NONCE + 16:
        raise SealError("a sealed file is too short: damaged")
    return blob[len(MAGIC) + 1:end].decode("ascii", "replace"), blob[:end], blob[end:]


def stored_files(root: Path) -> Iterator[Path]:
    """Every file the raw store holds (both folder layouts), temporary files left out."""
    if not root.exists():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            yield path
