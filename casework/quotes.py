"""The new part of a reply: the quoted history cut off (the full message stays in the raw store).

Markers are those Chinese and Western clients write above the quote: QQ Mail / Foxmail
(``------------------ 原始邮件 ------------------``), NetEase (``在 2026年…写道：``),
Outlook (``-----Original Message-----``, a ``发件人:``/``From:`` block) and ``>`` lines.
"""

from __future__ import annotations

import re

_MARKERS = re.compile(
    r"^\s*("
    r"-{2,}\s*(原始邮件|原始郵件|original message|forwarded message|转发邮件|回复的原邮件)\s*-{2,}"
    r"|-{2,}\s*原始邮件\s*-{0,}"
    r"|在\s*.{0,80}写道\s*[:：]\s*$"
    r"|on\s.{0,200}wrote:\s*$"
    r"|(发件人|from)\s*[:：].*$"
    r"|_{10,}\s*$"
    r")",
    re.I | re.M)


def strip_quoted(text: str) -> str:
    """``text`` up to the first quote marker, with ``>`` lines dropped; never empty."""
    match = _MARKERS.search(text)
    head = text[:match.start()] if match else text
    kept = [line for line in head.splitlines() if not line.lstrip().startswith(">")]
    new = "\n".join(kept).strip()
    return new or text.strip()
