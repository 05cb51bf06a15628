"""Names as the conflict check compares them: one normal form for the text and the directory.

A complainant (or somebody hiding a name from the check) may write a staff member's name
in full-width letters, traditional characters, with spaces or with invisible characters
between its parts: ``张\\u200b伟``, ``張偉``, ``张 伟`` and ``Ｚｈａｎｇ Ｗｅｉ`` must all be found.
So text and names alike are taken to NFKC, stripped of invisible and format characters,
and Chinese is compared in simplified characters (OpenCC, Apache-2.0) with every space
removed. A Latin alias is matched as whole words, with any spaces allowed between its
letters. A false hit only keeps one more person away from a case; a miss would show the
complaint to the person it is about.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

import opencc
import re2  # type: ignore[import-untyped]

# Blank-looking letters and symbols that are not format characters (Hangul fillers,
# the braille blank) and the default-ignorable marks (combining grapheme joiner,
# variation selectors, Mongolian free variation selectors).
_BLANKS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f"
                    "\u2800\u3164\uffa0")
_IGNORED_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs", "Zs", "Zl", "Zp"})


def _ignored(char: str) -> bool:
    code = ord(char)
    return (char in _BLANKS or char.isspace()
            or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF  # variation selectors
            or unicodedata.category(char) in _IGNORED_CATEGORIES)


# Where invisible characters live: the BMP, plane 1 and plane 14 are looked through once;
# planes 15 and 16 are private use as a whole.
_SCANNED = (range(0x0000, 0x20000), range(0xE0000, 0xE1000))
_PRIVATE_PLANES = ((0xF0000, 0x10FFFF),)


@cache
def _classes() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(invisible characters that are not spaces, spaces) as two character classes, made
    once: a text is then cleaned at C speed instead of one character at a time. A
    character class is linear in the text whatever it holds."""
    hidden = [c for r in _SCANNED for c in r if not chr(c).isspace() and _ignored(chr(c))]
    spaces = [c for r in _SCANNED for c in r if chr(c).isspace()]
    return (re.compile(f"[{_ranges(hidden, _PRIVATE_PLANES)}]+"),
            re.compile(f"[{_ranges(spaces, ())}]+"))


def _ranges(codes: list[int], extra: tuple[tuple[int, int], ...]) -> str:
    spans: list[tuple[int, int]] = []
    for code in codes:
        if spans and spans[-1][1] == code - 1:
            spans[-1] = (spans[-1][0], code)
        else:
            spans.append((code, code))
    return "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" if a != b else re.escape(chr(a))
                   for a, b in (*spans, *extra))


@cache
def _simplifier() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _folded(text: str) -> str:
    """NFKC, lower case, invisible characters out (spaces kept)."""
    hidden, _ = _classes()
    if not unicodedata.is_normalized("NFKC", text):  # the check is cheaper than the work
        text = unicodedata.normalize("NFKC", text)
    return hidden.sub("", text.casefold())


def _squeezed_forms(folded: str) -> tuple[str, ...]:
    _, spaces = _classes()
    visible = spaces.sub("", folded)
    simple = _simplifier().convert(visible)
    return (visible,) if simple == visible else (visible, simple)


def _spaced_form(folded: str) -> str:
    _, spaces = _classes()
    return spaces.sub(" ", folded).strip()


def squeezed(text: str) -> tuple[str, ...]:
    """The forms a text is searched in for a Chinese name: without spaces or invisible
    characters, as written and in simplified characters (OpenCC converts phrases, so the
    form as written is kept too: a name must not vanish because its context changed)."""
    return _squeezed_forms(_folded(text))


def spaced(text: str) -> str:
    """The form a text is searched in for a Latin alias: NFKC, lower case, invisible
    characters out, every run of spaces one space."""
    return _spaced_form(_folded(text))


@dataclass(frozen=True)
class NamePattern:
    """One name or alias of a staff member, normalised once (when the directory loads)."""

    written: str
    chinese: tuple[str, ...]  # the squeezed forms, for a name with Chinese characters
    latin: Any  # RE2 pattern: whole words, any spaces between the letters (or None)

    def found_in(self, text: NormalText) -> bool:
        if self.chinese:
            return any(form in hay for form in self.chinese for hay in text.squeezed)
        return self.latin is not None and self.latin.search(text.spaced) is not None


@dataclass(frozen=True)
class NormalText:
    """A complaint's text in both forms the names are looked for in (made once a text)."""

    squeezed: tuple[str, ...]
    spaced: str

    @classmethod
    def of(cls, text: str) -> NormalText:
        folded = _folded(text)  # NFKC once: on a long text it is most of the work
        return cls(_squeezed_forms(folded), _spaced_form(folded))


def _is_chinese(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK UNIFIED", "CJK COMPATIBILITY"))


def pattern(name: str) -> NamePattern | None:
    """The pattern of ``name``, or None when nothing of it is left to look for."""
    forms = squeezed(name)
    if not forms[0]:
        return None
    if any(_is_chinese(c) for c in forms[0]):
        return NamePattern(name, forms, None)
    letters = [c for c in spaced(name) if c != " "]
    # ASCII word boundaries (RE2): a name right after a Chinese character still counts.
    body = r"\s*".join(re2.escape(c) for c in letters)
    return NamePattern(name, (), re2.compile(r"\b" + body + r"\b"))
