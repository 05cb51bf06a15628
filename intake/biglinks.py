"""Large files sent as expiring download links (QQ Mail / NetEase "超大附件").

The files vanish after a few days (QQ: 30 days at best; 163: 15), so the case is flagged
and staff fetch them in time.
"""

from __future__ import annotations

import re

_LINK = re.compile(
    r"https?://[^\s\"'<>]*("
    r"mail\.qq\.com/cgi-bin/ftnExs_download|wx\.mail\.qq\.com/ftn/download|ftn\.qq\.com"
    r"|mail\.163\.com/large-attachment-download|dashi\.163\.com|mail\.126\.com/large-attachment"
    r"|fs\.163\.com|u\.163\.com|mail\.sina\.com\.cn/filecenter|exmail\.qq\.com/cgi-bin/ftnExs"
    r")[^\s\"'<>]*",
    re.I)
_WORDS = ("超大附件", "超大附件下载", "附件下载有效期")


def large_file_links(text: str, html: str | None) -> tuple[str, ...]:
    """Download links of large attachments found in the body (deduplicated, in order)."""
    found: list[str] = []
    for source in (text, html or ""):
        for match in _LINK.finditer(source):
            link = match.group(0).replace("&amp;", "&")
            if link not in found:
                found.append(link)
    if not found and any(word in text for word in _WORDS):
        found.append("(超大附件 mentioned, link not recognised)")
    return tuple(found)
