"""The new part of a reply: the quoted history cut off (the full message stays in the raw store).

Markers are those Chinese and Western clients write above the quote: QQ Mail / Foxmail
(``------------------ 原始邮件 ------------------``), NetEase (``在 2026年…写道：``),
Outlook (``-----Original Message-----``, a ``发件人:``/``From:`` block) and ``>`` lines.
"""

from __future__ import annotations

import re2  # type: ignore[import-untyped]

# The text is a stranger's: RE2 (google-re2) matches in time linear in it, whatever it is
# (with a backtracking engine ``^\s*`` re-read every blank line below each line start, and
# 20,000 newlines took 21 s). ``_S`` is Python's \s: RE2's is ASCII only, and Chinese
# clients indent with the ideographic space.
_S = r"[\s\pZ]"
_MARKERS = re2.compile(
    r"(?im)^" + _S + "*("
    r"-{2,}" + _S + "*(原始邮件|原始郵件|original message|forwarded message|转发邮件|回复的原邮件)"
    + _S + "*-{2,}"
    r"|-{2,}" + _S + "*原始邮件" + _S + "*-{0,}"
    r"|在" + _S + "*.{0,80}写道" + _S + "*[:：]" + _S + "*$"
    r"|on" + _S + ".{0,200}wrote:" + _S + "*$"
    r"|(发件人|from)" + _S + "*[:：].*$"
    r"|_{10,}" + _S + "*$"
    r")")


def strip_quoted(text: str) -> str:
    """``text`` up to the first quote marker, with ``>`` lines dropped; never empty."""
    try:
        match = _MARKERS.search(text)
    except UnicodeEncodeError:  # a lone surrogate (intake removes them; other callers may not)
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        match = _MARKERS.search(text)
    head = text[:int(match.start())] if match else text
    lines = head.splitlines()
    if ">" in head:  # a line at a time only when there may be a ">" line to drop
        lines = [line for line in lines if not line.lstrip().startswith(">")]
    new = "\n".join(lines).strip()
    return new or text.strip()
