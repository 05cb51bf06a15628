"""Reply tokens: an unguessable secret per mail thread that invites an answer.

A token is ``ct-`` + a random nonce (``secrets``) + an HMAC-SHA256 tag over the nonce, the
case, the recipient and the purpose (the notice kind), keyed with the installation's thread
key. The nonce finds the thread; the tag proves the thread is the one the token was made
for, so neither a guessed token nor a token copied onto another case, person or purpose
passes. The nonce is what ``staff_thread`` is looked up by; the mail itself (the outbox,
our Message-ID) holds the whole token, so the database is as secret as the mail it keeps.

Tokens are lower-case base32 (letters and 2–7), which survives a mail system that changes
the case of a local part, and a subject that webmail re-encodes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

PREFIX = "ct-"
_NONCE_CHARS = 12  # 60 bits: the index the thread is found by
_TAG_CHARS = 16  # 80 bits of HMAC-SHA256: what a forger would have to guess
# The shortest key accepted (characters of the setting or the environment variable).
MIN_KEY_CHARS = 32
_TOKEN = re.compile(rf"(?<![A-Za-z0-9]){PREFIX}([a-z2-7]{{{_NONCE_CHARS + _TAG_CHARS}}})"
                    r"(?![A-Za-z0-9])", re.IGNORECASE)


def _b32(data: bytes, chars: int) -> str:
    return base64.b32encode(data).decode("ascii").lower()[:chars]


def new_nonce() -> str:
    return _b32(secrets.token_bytes(10), _NONCE_CHARS)


def _tag(key: bytes, nonce: str, case_id: int, recipient: str, purpose: str) -> str:
    bound = "\x00".join(("complaintd-thread-v1", nonce, str(case_id),
                         recipient.strip().lower(), purpose))
    return _b32(hmac.new(key, bound.encode("utf-8"), hashlib.sha256).digest(), _TAG_CHARS)


def make_token(key: bytes, nonce: str, case_id: int, recipient: str, purpose: str) -> str:
    """The token of the thread ``nonce`` (case, recipient, purpose bound in)."""
    return PREFIX + nonce + _tag(key, nonce, case_id, recipient, purpose)


def nonce_of(token: str) -> str:
    """The nonce part of a token found by ``find_tokens``."""
    return token[len(PREFIX):len(PREFIX) + _NONCE_CHARS]


def matches(key: bytes, token: str, case_id: int, recipient: str, purpose: str) -> bool:
    """True when ``token`` was made for exactly this case, recipient and purpose."""
    body = token[len(PREFIX):]
    expected = _tag(key, body[:_NONCE_CHARS], case_id, recipient, purpose)
    return hmac.compare_digest(body[_NONCE_CHARS:].encode("ascii"), expected.encode("ascii"))


def matches_any(keys: Iterable[bytes], token: str, case_id: int, recipient: str,
                purpose: str) -> bool:
    """``matches`` under any of ``keys``: the current key, then the previous ones kept for
    verification after a rotation (``[security] previous_thread_keys``). Every key is
    tried, so the time taken does not tell which one signed the token."""
    results = [matches(key, token, case_id, recipient, purpose) for key in keys]
    return any(results)


def find_tokens(texts: Iterable[str]) -> list[str]:
    """Every token in ``texts`` (a subject, addresses, Message-IDs), in order, each once,
    lower-cased. Anything around it (``回复：``, ``Fwd:``, ``+`` and ``@``) is ignored."""
    found: list[str] = []
    for text in texts:
        for match in _TOKEN.finditer(text[:20_000]):
            token = PREFIX + match.group(1).lower()
            if token not in found:
                found.append(token)
    return found


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot sign tokens, or None."""
    if len(key.strip()) < MIN_KEY_CHARS:
        return f"must be at least {MIN_KEY_CHARS} characters (e.g. secrets.token_hex(32))"
    return None
