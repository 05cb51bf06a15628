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
from functools import cache, lru_cache
from typing import Any

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


class SegmentedText:
    """A text cut once and then asked about many keywords."""

    def __init__(self, text: str) -> None:
        self.lower = text.lower()
        self.words = [w for w in _lcut(text) if w.strip()]
        self.search_words = {w for w in _jieba().lcut_for_search(text) if w.strip()}

    def contains(self, keyword: str) -> bool:
        keyword = keyword.strip()
        if not keyword:
            return False
        if _CJK.search(keyword):
            return keyword in self.search_words or _in_a_row(_cut(keyword), self.words)
        pattern = r"(?<![\w])" + re.escape(keyword.lower()) + r"(?:s|es)?(?![\w])"
        return re.search(pattern, self.lower) is not None


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
    return n > 0 and any(tuple(words[i:i + n]) == needle for i in range(len(words) - n + 1))
