"""The sender's authentication results (DKIM, SPF, DMARC) from ``Authentication-Results``.

Recorded on the message and shown to staff; never used to drop a complaint (a hospital's
mis-configured domain must not silence a patient). Anyone can write an
Authentication-Results header into a mail, so only those written by our own border (an
authserv-id listed in ``intake.trusted_authserv_ids``) count, read per RFC 8601 with the
``authres`` library (Apache-2.0); a staff command or an authority's answer then needs a
DMARC pass, or a DKIM pass whose signing domain is aligned with the From domain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from typing import Any

import authres

_METHODS = ("dkim", "spf", "dmarc")
_RESULT = re.compile(r"\b(dkim|spf|dmarc)\s*=\s*([a-z]+)", re.I)
# A hostile mail may carry thousands of them; our border adds one or two at the top.
MAX_HEADERS = 10
MAX_HEADER_CHARS = 4096


def authentication_summary(msg: Message) -> str | None:
    """``"dkim=pass spf=fail dmarc=none"`` from the topmost header, for staff to see."""
    values = msg.get_all("Authentication-Results") or []
    if not values:
        return None
    # The first header was added by the server nearest to us.
    found: dict[str, str] = {}
    for method, result in _RESULT.findall(" ".join(str(values[0])[:MAX_HEADER_CHARS].split())):
        found.setdefault(method.lower(), result.lower())
    if not found:
        return None
    return " ".join(f"{m}={found[m]}" for m in _METHODS if m in found)


def header_values(msg: Message) -> tuple[str, ...]:
    """The Authentication-Results headers as they came, bounded, topmost first."""
    values = msg.get_all("Authentication-Results") or []
    return tuple(str(v)[:MAX_HEADER_CHARS] for v in values[:MAX_HEADERS])


@dataclass(frozen=True)
class BorderVerdict:
    """What our own border said about the sender: the summary, and whether it proves the
    From domain (an aligned DMARC or DKIM pass)."""

    summary: str | None
    aligned_pass: bool


def border_verdict(values: Iterable[str], from_email: str,
                   trusted_ids: frozenset[str]) -> BorderVerdict:
    """Read only the headers whose authserv-id is one of ``trusted_ids``."""
    domain = from_email.rpartition("@")[2].lower()
    results: list[Any] = []  # authres has no type hints
    for value in values:
        parsed = _parse(value)
        if parsed is not None and (parsed.authserv_id or "").lower() in trusted_ids:
            results.extend(parsed.results)
    if not results:
        return BorderVerdict(None, False)
    found: dict[str, str] = {}
    for result in results:
        found.setdefault(str(result.method).lower(), str(result.result).lower())
    summary = " ".join(f"{m}={found[m]}" for m in _METHODS if m in found) or None
    return BorderVerdict(summary, bool(domain) and any(_aligned(r, domain) for r in results))


def _parse(value: str) -> Any:
    try:
        return authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
    except Exception:  # a header that does not parse proves nothing
        return None


def _aligned(result: Any, domain: str) -> bool:
    method, outcome = str(result.method).lower(), str(result.result).lower()
    if outcome != "pass" or method not in {"dmarc", "dkim"}:
        return False
    wanted = "from" if method == "dmarc" else "d"
    named = [str(p.value).lower().rpartition("@")[2] for p in result.properties
             if str(p.type).lower() == "header" and str(p.name).lower() == wanted]
    if method == "dmarc" and not named:
        return True  # our border checked DMARC for the From domain it saw
    return any(_relaxed(name, domain) for name in named)


def _relaxed(name: str, domain: str) -> bool:
    """Relaxed alignment (RFC 7489 3.1): the same domain, or one a subdomain of the other."""
    return name == domain or domain.endswith("." + name) or name.endswith("." + domain)


def has_failure(summary: str | None) -> bool:
    return bool(summary) and any(f"={bad}" in (summary or "")
                                 for bad in ("fail", "softfail", "permerror"))
