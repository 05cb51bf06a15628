"""HTML mail bodies: readable plain text (stdlib ``html.parser``; html2text is GPL) and a
sanitised copy kept for staff (nh3, MIT: no scripts, styles, event handlers or remote
tricks; inline ``cid:`` images stay referable)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

_URL_SCHEMES = {"http", "https", "mailto", "cid"}

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"}
_SKIP = {"script", "style", "head", "title"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self._skipping:
            self._skipping -= 1
        elif tag in _BLOCK:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    text = "".join(collector.chunks).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def sanitise_html(html: str) -> str:
    """``html`` with only harmless markup left, safe to show to staff in a browser."""
    return nh3.clean(html, url_schemes=_URL_SCHEMES)
