"""Keyword matching that does not fire on parts of other words.

Plain substring matching gives false hits: 「研究生」 is inside 「研究生命科学」 and "rude" is
inside "prudent". Chinese text is therefore cut into words with jieba and a Chinese keyword
matches when its own words appear in a row in the text (or when the search-mode cut has it as
one word); English and other Latin keywords match as whole words, case-insensitively, with a
plain plural ending allowed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


class SegmentedText:
    """A text cut once (and only when a keyword could be in it), then asked about many
    keywords."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lower = text.lower()
        # Whatever the cut, a Chinese keyword found in it is in the text once spaces are
        # taken out of both: a text without it needs no cutting (the cut is the cost).
        self.squeezed = _squeeze(text)
        self._words: list[str] | None = None
        self._search_words: set[str] = set()

    @property
    def words(self) -> list[str]:
        if self._words is None:
            cut = _lcut(self.text)
            self._words = [w for w in cut if w.strip()]
            self._search_words = {w for w in _for_search(cut) if w.strip()}
        return self._words

    @property
    def search_words(self) -> set[str]:
        """What jieba's search-mode cut gives, derived from the one cut (it cuts again)."""
        _ = self.words
        return self._search_words

    def contains(self, keyword: str) -> bool:
        keyword = keyword.strip()
        if not keyword:
            return False
        if _CJK.search(keyword):
            if _squeeze(keyword) not in self.squeezed:
                return False
            return keyword in self.search_words or _in_a_row(_cut(keyword), self.words)
        lowered = keyword.lower()
        # The pattern needs the word itself in the text: most keywords fail right here.
        return lowered in self.lower and _latin(lowered).search(self.lower) is not None


def _squeeze(text: str) -> str:
    return "".join(text.split())


@lru_cache(maxsize=4096)
def _latin(keyword: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])" + re.escape(keyword) + r"(?:s|es)?(?![\w])")


def _for_search(words: list[str]) -> Iterator[str]:
    """``jieba.cut_for_search`` over words already cut (the same steps, without a second
    cut): the dictionary's two- and three-character words inside each long word, then
    the word."""
    freq = _jieba().dt.FREQ
    for w in words:
        if len(w) > 2:
            for i in range(len(w) - 1):
                if freq.get(w[i:i + 2]):
                    yield w[i:i + 2]
        if len(w) > 3:
            for i in range(len(w) - 2):
                if freq.get(w[i:i + 3]):
                    yield w[i:i + 3]
        yield w


@lru_cache(maxsize=4096)
def _cut(keyword: str) -> tuple[str, ...]:
    return tuple(w for w in _lcut(keyword) if w.strip())


def _lcut(text: str) -> list[Any]:
    return list(_jieba().lcut(text))


@cache
def _jieba() -> Any:
    # Imported at the first text to cut, not by every command that imports routing:
    # jieba (with the pkg_resources it pulls in) is a fifth of the CLI's start-up.
    import jieba

    jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter is not ours to log
    return jieba


def _in_a_row(needle: tuple[str, ...], words: list[str]) -> bool:
    n = len(needle)
    if n == 0:
        return False
    first = needle[0]
    # Only where the first word matches: most positions are not worth a slice.
    return any(w == first and tuple(words[i:i + n]) == needle
               for i, w in enumerate(words[:len(words) - n + 1]))
