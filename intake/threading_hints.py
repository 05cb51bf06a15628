"""A reference number found in a subject even when clients mangled it.

``回复：【LO－2026－000123】``, ``Re: Fwd: LO 2026 000123``, ``转发: [LO-2026-000123`` all
name ``LO-2026-000123``; casework matches the hint against its own prefix.
"""

from __future__ import annotations

import unicodedata

import re2  # type: ignore[import-untyped]

# RE2 (google-re2): linear in the subject whatever it holds (a backtracking engine took 6 s on
# "A" and 20,000 spaces, trying every split of the spaces between ``\s*``, the dash and
# ``\s*``). RE2 has no look-around: a letter before the prefix is excluded by matching a
# non-letter (or the start) first, and ``\d{6,}`` being greedy needs no ``(?!\d)``.
_SEP = r"\s*[-_—–‐ ]\s*"
_LOOSE = re2.compile(r"(?:^|[^A-Z])([A-Z]{1,8})" + _SEP + r"(\d{4})" + _SEP + r"(\d{6,})")


def reference_hint(subject: str) -> str | None:
    """Reference numbers in ``subject`` in canonical form (space-separated), or None."""
    text = unicodedata.normalize("NFKC", subject).upper()
    found = [f"{p}-{y}-{int(n):06d}" for p, y, n in _LOOSE.findall(text)]
    return " ".join(dict.fromkeys(found)) or None
