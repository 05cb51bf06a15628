"""HTML mail bodies: readable plain text (html2text is GPL, so not used) and a
sanitised copy kept for staff (nh3, MIT: no scripts, styles, event handlers or remote
tricks; inline ``cid:`` images stay referable).

The text used to come from the stdlib ``html.parser``, which re-reads its buffer from an
unclosed ``<`` on every feed: a stranger's ``<a b=<a b=…`` was quadratic (80 KB took 39 s).
It now comes from nh3's output: html5ever parses any input in linear time and writes
well-formed markup (every ``<`` in text escaped), whose tags a plain pattern finds.
"""

from __future__ import annotations

import re
from html import unescape

import nh3

_URL_SCHEMES = {"http", "https", "mailto", "cid"}

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"}
_SKIP_CONTENT = {"script", "style", "title"}  # html5ever drops <head> itself in a fragment
# Single character classes: linear on any text.
_TAG = re.compile(r"<[^<>]*>")
_BLANK_LINES = re.compile(r"\n{3,}")


# html5ever is quadratic in two shapes a stranger can send: block elements nested deep
# (each new <div> searches the open elements for a <p> to close: 40,000 took 13 s) and a
# text run with many character references (1 MB of "&" took 24 s). Up to these bounds it
# takes milliseconds; past them the HTML is read by ``rough_text`` instead.
MAX_NESTING = 2000
MAX_REFERENCES = 50_000
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]{0,15})")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "param", "source", "track", "wbr"})


# <meta charset="big5"> or <meta http-equiv="Content-Type" content="text/html; charset=big5">,
# looked for in the head only (as browsers do: the first 1,024 bytes). Bounded classes: linear.
_META_CHARSET = re.compile(
    rb"<meta\b[^<>]{0,300}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.I)
META_PRESCAN = 1024


def meta_charset(data: bytes) -> str | None:
    """The charset an HTML part names in its own <meta> tag, or None."""
    found = _META_CHARSET.search(data[:META_PRESCAN])
    return found.group(1).decode("ascii") if found else None


def too_complex(html: str) -> str | None:
    """Why nh3 must not be given ``html`` (see MAX_NESTING), or None. One linear pass."""
    if html.count("&") > MAX_REFERENCES:
        return f"more than {MAX_REFERENCES} character references"
    depth, open_by_name = 0, dict[str, int]()
    for match in _TAG_NAME.finditer(html):
        closing, name = match.group(1), match.group(2).lower()
        if name in _VOID:
            continue
        if not closing:
            depth += 1
            open_by_name[name] = open_by_name.get(name, 0) + 1
            if depth > MAX_NESTING:
                return f"elements nested more than {MAX_NESTING} deep"
        elif open_by_name.get(name):
            # A closing tag with nothing of its name open is ignored by parsers too.
            depth -= 1
            open_by_name[name] -= 1
    return None


def rough_text(html: str) -> str:
    """Text of HTML too complex for nh3: tags dropped, entities decoded (linear)."""
    text = unescape(_TAG.sub("\n", html)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """The readable text of ``html``: a line break for each block tag, entities decoded."""
    # nh3 keeps only the block tags, without attributes; script, style and title lose their
    # text. Its output is well formed, so each remaining tag is one ``<…>`` without nesting.
    tidy = nh3.clean(html, tags=_BLOCK, attributes={}, clean_content_tags=_SKIP_CONTENT)
    text = unescape(_TAG.sub("\n", tidy)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def sanitise_html(html: str) -> str:
    """``html`` with only harmless markup left, safe to show to staff in a browser."""
    return nh3.clean(html, url_schemes=_URL_SCHEMES)
