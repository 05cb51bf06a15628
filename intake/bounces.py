"""Bounces of our own outbound mail: what a bounce says about the mail it reports on
(``handling.bounces`` finds the case that mail belonged to).

A delivery status notification (RFC 3464) carries the original message or its headers
(``message/rfc822``, ``text/rfc822-headers``); plain-text bounces from Chinese webmail
often quote the headers in the body. The original Message-ID is matched against our
stored outbound messages; our ``X-Complaintd-Loop`` header in the quoted part says the
mail was ours even when the Message-ID was lost.
"""

from __future__ import annotations

from email.message import Message as EmailMessage

import re2  # type: ignore[import-untyped]

ACTOR = "system:intake"
# On RE2 (linear time): a stranger's bounce of blank lines must not stall intake.
_QUOTED_ID = re2.compile(r"(?im)^\s*Message-ID:\s*(<[^<>\s]+>)")
_LOOP = re2.compile(r"(?im)^\s*X-Complaintd-Loop:")


def original_message_ids(msg: EmailMessage) -> tuple[str, ...]:
    """Message-IDs of the mail(s) a bounce reports on (none when it quotes none)."""
    found: list[str] = []
    for part in msg.walk():
        if part is msg:
            continue
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(first, EmailMessage) and first.get("Message-ID"):
                found += _QUOTED_ID.findall(f"Message-ID: {first['Message-ID']}")
        elif kind in {"text/rfc822-headers", "text/plain"}:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found += _QUOTED_ID.findall(payload.decode("utf-8", errors="replace"))
    return tuple(dict.fromkeys(found))


def quotes_our_loop_header(raw: bytes) -> bool:
    return bool(_LOOP.search(raw.decode("utf-8", errors="replace")))
