"""RFC 2047 encoded words for a long header, as ``email.header.Header`` writes them, fast.

``Header`` splits a non-ASCII value into encoded words that fit the line by adding one
character at a time and encoding the whole line so far again to measure it: quadratic in
the line, and a tenth of queueing a mail whose subject carries a reply token. ``UTF8``
is the stdlib's utf-8 ``Charset`` that measures each line as it grows instead (the
length of base64 or of Q encoding of some bytes is a sum over those bytes), so its lines,
and the header ``Header`` builds from them, are the same (``tests/test_wire_bytes.py``
compares the two on many values).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from email import base64mime, quoprimime
from email.charset import RFC2047_CHROME_LEN, Charset
from email.header import Header
from functools import partial

# The Q encoding's length of each octet in a header (``quoprimime.header_length``).
_Q_LENGTHS = tuple(quoprimime.header_length(bytes([octet])) for octet in range(256))


class _MeasuredUtf8(Charset):
    def __init__(self) -> None:
        super().__init__("utf-8")

    def header_encode_lines(self, string: str, maxlengths: Iterator[int]) -> list[str | None]:
        """``Charset.header_encode_lines``: the same lines, each measured as it grows."""
        data = string.encode("utf-8")
        # ``Charset._get_encoder`` for utf-8: base64 when it is shorter than Q.
        base64 = base64mime.header_length(data) < sum(map(_Q_LENGTHS.__getitem__, data))
        encoder = partial((base64mime if base64 else quoprimime).header_encode,
                          charset="utf-8")
        extra = len("utf-8") + RFC2047_CHROME_LEN
        lines: list[str | None] = []
        current: list[str] = []
        size = 0  # bytes (base64) or encoded characters (Q) of the current line
        maxlen = next(maxlengths) - extra
        for character, own in zip(string, _sizes(string, base64), strict=True):
            grown = size + own
            if (4 * -(-grown // 3) if base64 else grown) > maxlen:
                if not lines and not current:
                    lines.append(None)  # nothing fits on the first line
                else:
                    lines.append(encoder("".join(current).encode("utf-8")))
                current, size = [character], own
                maxlen = next(maxlengths) - extra
            else:
                current.append(character)
                size = grown
        lines.append(encoder("".join(current).encode("utf-8")))
        return lines


def _sizes(string: str, base64: bool) -> list[int]:
    """Each character's bytes (base64) or Q-encoded length."""
    if base64:
        return [len(c.encode("utf-8")) for c in string]
    return [sum(map(_Q_LENGTHS.__getitem__, c.encode("utf-8"))) for c in string]


UTF8 = _MeasuredUtf8()
_LINE = 78  # ``Header``'s default line length (``email.header.MAXLINELEN``)


def encoded(value: str, header_name: str) -> str:
    """``Header(value, "utf-8", header_name=header_name).encode()`` for a non-ASCII
    value: its encoded words, one a line, each continuation line starting with a space."""
    lengths = itertools.chain((_LINE - len(header_name) - 2,), itertools.repeat(_LINE - 1))
    lines = UTF8.header_encode_lines(value, lengths)
    if lines[0] is None:  # nothing fits after the name: ``Header`` knows what to do
        return Header(value, UTF8, header_name=header_name).encode()
    return "\n ".join(line for line in lines if line is not None)
