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


@cache
def _simplifier() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _visible(text: str) -> str:
    """NFKC, lower case, every invisible character and every space taken out."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if not _ignored(c))


def squeezed(text: str) -> tuple[str, ...]:
    """The forms a text is searched in for a Chinese name: without spaces or invisible
    characters, as written and in simplified characters (OpenCC converts phrases, so the
    form as written is kept too: a name must not vanish because its context changed)."""
    visible = _visible(text)
    simple = _simplifier().convert(visible)
    return (visible,) if simple == visible else (visible, simple)


def spaced(text: str) -> str:
    """The form a text is searched in for a Latin alias: NFKC, lower case, invisible
    characters out, every run of spaces one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(" " if c.isspace() else c for c in folded if c.isspace() or not _ignored(c))
    return " ".join(kept.split())


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
        return cls(squeezed(text), spaced(text))


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
