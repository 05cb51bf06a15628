"""Large files sent as expiring download links (QQ Mail / NetEase "超大附件").

The files vanish after a few days (QQ: 30 days at best; 163: 15), so the case is flagged
and staff fetch them in time.

The body is a stranger's text: the pattern runs on RE2 (google-re2), which matches in time
linear in the text whatever the text is (a body of ``http://`` repeated took 36 s for 56 KB
with a backtracking pattern). At most ``MAX_LINKS`` links are kept, each cut to ``MAX_LINK``.
"""

from __future__ import annotations

import re2  # type: ignore[import-untyped]

_HOSTS = (
    r"mail\.qq\.com/cgi-bin/ftnExs_download|wx\.mail\.qq\.com/ftn/download|ftn\.qq\.com"
    r"|mail\.163\.com/large-attachment-download|dashi\.163\.com|mail\.126\.com/large-attachment"
    r"|fs\.163\.com|u\.163\.com|mail\.sina\.com\.cn/filecenter|exmail\.qq\.com/cgi-bin/ftnExs"
)
# RE2's \s is ASCII only: \pZ adds the ideographic and no-break spaces Chinese text uses.
_URL_CHAR = r"[^\s\pZ\"'<>]"
LINK = re2.compile(r"(?i)https?://" + _URL_CHAR + "*(" + _HOSTS + ")" + _URL_CHAR + "*")
_WORDS = ("超大附件", "超大附件下载", "附件下载有效期")
MAX_LINKS = 20  # a real notice carries one link per file, a handful at most
MAX_LINK = 2000  # characters; browsers and the download servers refuse longer ones


def large_file_links(text: str, html: str | None) -> tuple[str, ...]:
    """Download links of large attachments found in the body (deduplicated, in order)."""
    found: list[str] = []
    for source in (text, html or ""):
        for match in LINK.finditer(source):
            link = str(match.group(0)).replace("&amp;", "&")[:MAX_LINK]
            if link not in found:
                found.append(link)
            if len(found) == MAX_LINKS:
                return tuple(found)
    if not found and any(word in text for word in _WORDS):
        found.append("(超大附件 mentioned, link not recognised)")
    return tuple(found)
