"""Decoding what Chinese mail clients actually send.

Mail labelled GB2312 is routinely GBK or GB18030 text (characters such as 镕 or 喆 are not
in GB2312), so every label of that family is decoded as GB18030, its superset. Headers may
carry raw 8-bit bytes (QQ recall notices) as well as RFC 2047 encoded words.
"""

from __future__ import annotations

import codecs
import re
from email.errors import HeaderParseError
from email.header import decode_header

# Every label of the GB2312/GBK/GB18030 family, as mail headers and detectors spell them
# (lower case). The one list for mail and call logs alike: each is read as GB18030.
GB_FAMILY = frozenset({"gb2312", "gbk", "x-gbk", "gb_2312-80", "euc-cn", "cp936", "gb18030",
                       "x-euc-cn"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_gb_family(label: str) -> bool:
    """Whether ``label`` names GB2312, GBK or GB18030 (any case, quotes and spaces ignored)."""
    return label.strip().strip('"').lower() in GB_FAMILY


# Codecs Python calls text encodings that are no charset a mail may name: they transform
# text (punycode, idna), escape it, or fail on every byte. A sender must not pick them.
_NOT_CHARSETS = frozenset({"punycode", "idna", "undefined", "unicode-escape",
                           "raw-unicode-escape", "charmap"})
_LABEL_LIMIT = 40  # the longest IANA charset name has 45 characters with its prefix


def normalise_charset(label: str | None) -> str | None:
    """A Python codec name for a MIME charset label, or None when unknown or not a charset.

    Only text encodings are accepted: ``hex``, ``zlib``, ``base64`` or ``rot13`` are codecs
    too, but bytes-to-bytes (or text-to-text) ones, and a hostile label must not run them.
    """
    if not label:
        return None
    label = label.strip().strip('"').lower()
    if is_gb_family(label):
        return "gb18030"
    if len(label) > _LABEL_LIMIT or not label.isascii() or not label.isprintable():
        return None  # a NUL or a control character in a label: codecs.lookup would raise
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if not _is_text_encoding(info) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def _is_text_encoding(info: codecs.CodecInfo) -> bool:
    # CodecInfo marks bytes-to-bytes and str-to-str codecs with _is_text_encoding = False
    # (what str.encode and bytes.decode check themselves); the attribute has no public name.
    return bool(getattr(info, "_is_text_encoding", True))


# Single-byte labels decode any bytes without error, so a wrong one would give mojibake.
_SINGLE_BYTE = re.compile(r"^(ascii|iso8859-\d+|cp125\d|cp437|mac-roman)$")


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Text from ``data``: the declared charset if it fits, else UTF-8, else GB18030.

    A single-byte label (us-ascii, iso-8859-1, windows-1252) on bytes that are valid UTF-8
    or GB18030 is a wrong label: clients send Chinese text under them.
    """
    declared = normalise_charset(label)
    candidates = [c for c in (declared, "utf-8", "gb18030") if c]
    if (declared is None or _SINGLE_BYTE.match(declared)) and not data.isascii():
        # Short GBK text can be valid UTF-8 by accident (医院 is ҽԺ): the reading with
        # more Chinese in it wins.
        chinese_first = _looks_chinese(data) and not _looks_chinese(data, "utf-8")
        guesses = ["gb18030", "utf-8"] if chinese_first else ["utf-8"]
        candidates = [*guesses, *([declared] if declared else ["gb18030"])]
    for codec in candidates:
        try:
            return clean_text(data.decode(codec))
        except (UnicodeDecodeError, LookupError):
            continue
    return clean_text(data.decode(declared or "gb18030", errors="replace"))


def _looks_chinese(data: bytes, codec: str = "gb18030") -> bool:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return False
    high = [ch for ch in text if ord(ch) > 0x7F]
    cjk = sum(1 for ch in high if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f"
              or "\uff00" <= ch <= "\uffef")
    return bool(high) and cjk >= 0.8 * len(high)


def clean_text(text: str) -> str:
    """Drop what the databases refuse: NUL and other control bytes, lone surrogates."""
    text = _CONTROL.sub("", text)
    return text.encode("utf-8", errors="ignore").decode("utf-8")


def decode_header_value(raw: str) -> str:
    """A readable header value from a raw one (8-bit bytes and encoded words alike)."""
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        raw = decode_bytes(raw.encode("ascii", errors="surrogateescape"))
    try:
        chunks = decode_header(raw)
    except (ValueError, UnicodeError, HeaderParseError):
        return clean_text(raw)
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            parts.append(chunk)
        elif charset is None:
            # decode_header hands back unencoded text as raw-unicode-escape bytes.
            parts.append(chunk.decode("raw-unicode-escape", errors="replace"))
        else:
            parts.append(decode_bytes(chunk, charset))
    return clean_text(" ".join("".join(parts).split()))
