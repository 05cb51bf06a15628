"""The sender's authentication results (DKIM, SPF, DMARC) from ``Authentication-Results``.

Recorded on the message and shown to staff; never used to drop a complaint (a hospital's
mis-configured domain must not silence a patient).
"""

from __future__ import annotations

import re
from email.message import Message

_METHODS = ("dkim", "spf", "dmarc")
_RESULT = re.compile(r"\b(dkim|spf|dmarc)\s*=\s*([a-z]+)", re.I)


def authentication_summary(msg: Message) -> str | None:
    """``"dkim=pass spf=fail dmarc=none"`` from the topmost (our own server's) header."""
    values = msg.get_all("Authentication-Results") or []
    if not values:
        return None
    # The first header was added by the server nearest to us, the only one we can trust.
    found: dict[str, str] = {}
    for method, result in _RESULT.findall(" ".join(str(values[0]).split())):
        found.setdefault(method.lower(), result.lower())
    if not found:
        return None
    return " ".join(f"{m}={found[m]}" for m in _METHODS if m in found)


def has_failure(summary: str | None) -> bool:
    return bool(summary) and any(f"={bad}" in (summary or "")
                                 for bad in ("fail", "softfail", "permerror"))
