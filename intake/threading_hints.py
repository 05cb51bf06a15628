"""A reference number found in a subject even when clients mangled it.

``回复：【LO－2026－000123】``, ``Re: Fwd: LO 2026 000123``, ``转发: [LO-2026-000123`` all
name ``LO-2026-000123``; casework matches the hint against its own prefix.
"""

from __future__ import annotations

import re
import unicodedata

_LOOSE = re.compile(r"(?<![A-Z])([A-Z]{1,8})\s*[-_—–‐ ]\s*(\d{4})\s*[-_—–‐ ]\s*(\d{6,})(?!\d)")


def reference_hint(subject: str) -> str | None:
    """Reference numbers in ``subject`` in canonical form (space-separated), or None."""
    text = unicodedata.normalize("NFKC", subject).upper()
    found = [f"{p}-{y}-{int(n):06d}" for p, y, n in _LOOSE.findall(text)]
    return " ".join(dict.fromkeys(found)) or None
