"""Decoding what mail clients actually send.

Mail labelled GB2312 is routinely GBK or GB18030 text (characters such as 镕 or 喆 are not
in GB2312), so every label of that family is decoded as GB18030, its superset. Headers may
carry raw 8-bit bytes (QQ recall notices, old Outlook and Netscape) as well as RFC 2047
encoded words, and bodies may come without a charset or with a wrong one.

A declared charset is believed, except us-ascii on 8-bit bytes (it says nothing of them) and
iso-8859-1/windows-1252 on bytes that are UTF-8 or look Chinese (Chinese clients' default
label); when it fails, the other charsets of its language are tried (ISO-2022-JP sent as
8-bit EUC-JP). Bytes whose charset is not known are read in this order (``guess``):

1. strict UTF-8 — unless the reading is implausible (only two-byte sequences from
   unrelated scripts, as GBK 医院 reads ҽԺ) and the bytes look Chinese;
2. the charset of the message's own text (a Big5 or Latin-1 body says what its raw subject
   is), with the other charsets of its language (raw Japanese is Shift_JIS or EUC-JP);
3. Japanese when the reading has hiragana; GB18030 when the bytes look Chinese: every 8-bit
   byte in a pair of the GB2312 area, mostly its frequent characters, with a run of two
   CJK characters — the mainland case, the common one; then Big5 (Hong Kong and Taiwan)
   when most pairs are Big5's frequent characters;
4. KOI8-R or Windows-1251 for words of Cyrillic letters;
5. UTF-8 with stray bytes read as Windows-1252 (a Latin-1 line pasted into UTF-8 text);
6. the same CJK statistics with a few bytes that do not decode (a body cut mid-character),
   then a failed CJK label with U+FFFD;
7. charset-normalizer on text long enough for statistics (a body), from the charsets mail
   is written in; else Windows-1252.

GB18030 is the prior for Chinese-looking bytes, never the answer for every byte string:
"Fr\\xf6sche" is valid GBK too (Fr鰏che), which no replacement-character count would see.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from email.errors import HeaderParseError
from email.header import decode_header

from charset_normalizer import from_bytes

# Every label of the GB2312/GBK/GB18030 family, as mail headers and detectors spell them
# (lower case). The one list for mail and call logs alike: each is read as GB18030.
GB_FAMILY = frozenset({"gb2312", "gbk", "x-gbk", "gb_2312-80", "euc-cn", "cp936", "gb18030",
                       "x-euc-cn", "iso-gb2312", "csgb2312", "chinese", "ms936", "gb_2312",
                       "windows-936"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_gb_family(label: str) -> bool:
    """Whether ``label`` names GB2312, GBK or GB18030 (any case, quotes and spaces ignored)."""
    return label.strip().strip('"').lower() in GB_FAMILY


# Codecs Python calls text encodings that are no charset a mail may name: they transform
# text (punycode, idna), escape it, or fail on every byte. A sender must not pick them.
_NOT_CHARSETS = frozenset({"punycode", "idna", "undefined", "unicode-escape",
                           "raw-unicode-escape", "charmap"})
_LABEL_LIMIT = 40  # the longest IANA charset name has 45 characters with its prefix
# Labels mail clients write that Python does not know, and what they mean. The "-i"/"-e"
# Hebrew and Arabic labels say only how the text is laid out (implicit or explicit
# direction); the bytes are those of the plain ISO charset.
_ALIASES = {
    "iso-8859-8-i": "iso8859-8", "iso-8859-8-e": "iso8859-8", "iso_8859-8-i": "iso8859-8",
    "iso-8859-6-i": "iso8859-6", "iso-8859-6-e": "iso8859-6", "csiso88598i": "iso8859-8",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "ks_c_5601-1989": "cp949",
    "ksc5601": "cp949", "ksc_5601": "cp949", "x-windows-949": "cp949", "windows-949": "cp949",
    "unicode-1-1-utf-7": "utf-7", "x-unicode-2-0-utf-7": "utf-7", "csunicode11utf7": "utf-7",
    "unicode-1-1-utf-8": "utf-8", "x-unicode20utf8": "utf-8", "unicode-2-0-utf-8": "utf-8",
    "x-sjis": "cp932", "shift-jis": "cp932", "ms_kanji": "cp932", "windows-31j": "cp932",
    "x-ms-cp932": "cp932", "x-euc-jp": "euc-jp", "x-euc": "euc-jp",
    "big5-hkscs": "big5hkscs", "x-x-big5": "big5", "cn-big5": "big5", "x-big5": "big5",
    "windows-874": "cp874", "x-mac-roman": "mac-roman", "macintosh": "mac-roman",
    "x-mac-cyrillic": "mac-cyrillic", "x-cp1250": "cp1250", "x-cp1251": "cp1251",
    "ansi_x3.4-1968": "ascii", "ansi_x3.4-1986": "ascii", "iso646-us": "ascii",
    "cp-1251": "cp1251", "cp-1252": "cp1252", "cp-1250": "cp1250",
}
# A label that only says "nothing in particular": the bytes are guessed like unlabelled ones.
_NO_CHARSET = frozenset({"x-user-defined", "unknown-8bit", "x-unknown", "unknown",
                         "default", "8bit", "binary", "none", "charset"})
_MIN_SALVAGED = 4  # "windows-1252http-equivContent-Type" → windows-1252; "utf" is too short


def normalise_charset(label: str | None) -> str | None:
    """A Python codec name for a MIME charset label, or None when unknown or not a charset.

    Only text encodings are accepted: ``hex``, ``zlib``, ``base64`` or ``rot13`` are codecs
    too, but bytes-to-bytes (or text-to-text) ones, and a hostile label must not run them.
    A label Python lacks is mapped (``iso-8859-8-i``, ``ks_c_5601-1987``); a broken one that
    starts with a real charset name is salvaged (``windows-1252http-equivContent-Type``); an
    RFC 2231 language (``iso-8859-2*sl``) is dropped.
    """
    if not label:
        return None
    label = label.strip().strip("\"'").strip().lower().split("*", 1)[0]
    if len(label) > _LABEL_LIMIT or not label.isascii() or not label.isprintable():
        return None  # a NUL or a control character in a label: codecs.lookup would raise
    if label in _NO_CHARSET:
        return None
    found = _codec(label)
    if found is None:
        # Longest first: "iso-8859-15foo" is ISO-8859-15, not ISO-8859-1.
        for end in range(len(label) - 1, _MIN_SALVAGED - 1, -1):
            found = _codec(label[:end])
            if found is not None:
                break
    return found


def _codec(label: str) -> str | None:
    if is_gb_family(label):
        return "gb18030"
    label = _ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if not _is_text_encoding(info) or info.name in _NOT_CHARSETS:
        return None
    return "gb18030" if info.name in ("gbk", "gb2312") else info.name


def _is_text_encoding(info: codecs.CodecInfo) -> bool:
    # CodecInfo marks bytes-to-bytes and str-to-str codecs with _is_text_encoding = False
    # (what str.encode and bytes.decode check themselves); the attribute has no public name.
    return bool(getattr(info, "_is_text_encoding", True))


# The labels Chinese clients put on text of any charset (the Western defaults): their
# bytes are checked for UTF-8 and Chinese before the label is believed. Any other
# single-byte label (windows-1251, iso-8859-2 …) is believed as written.
_WESTERN_DEFAULTS = frozenset({"ascii", "iso8859-1", "latin-1", "cp1252"})
# Decoders tried for a declared label, in order: Big5 as its Hong Kong superset first;
# Latin-1 and ASCII as Windows-1252, as browsers do (0x80–0x9F are its quotes and dashes,
# never the C1 controls of Latin-1), Latin-1 for the five bytes it leaves undefined.
_SUPERSETS = {"big5": ("big5hkscs", "big5", "cp950"), "cp950": ("cp950", "big5hkscs"),
              "iso8859-1": ("cp1252", "iso8859-1"), "ascii": ("cp1252", "iso8859-1"),
              "latin-1": ("cp1252", "iso8859-1")}
# The other charsets of a label's or hint's language: raw 8-bit Japanese or Korean is not
# in the 7-bit ISO-2022 form its label declares. EUC-JP before Shift_JIS: Shift_JIS bytes
# fail EUC-JP at once, while EUC-JP bytes often pass as Shift_JIS.
_LANGUAGE = {
    "iso2022_jp": ("euc_jp", "cp932"), "euc_jp": ("cp932",), "shift_jis": ("cp932", "euc_jp"),
    "cp932": ("euc_jp",), "iso2022_kr": ("cp949",), "euc_kr": ("cp949",),
    "big5": ("big5hkscs", "cp950"), "big5hkscs": ("cp950",), "cp950": ("big5hkscs",),
}
# What charset-normalizer may answer for a body: the charsets mail is written in. Its own
# full list includes EBCDIC and DOS code pages that fit any bytes.
_DETECTABLE = ["utf_8", "gb18030", "big5hkscs", "cp932", "euc_jp", "cp949", "cp1250",
               "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257",
               "koi8_r", "koi8_u", "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_8",
               "iso8859_9", "iso8859_15", "tis_620"]
_DETECT_MIN_BYTES = 200  # below it the statistics guess wildly (Fr\xf6sche → hp_roman8)
_DETECT_MAX_BYTES = 65_536  # detection reads a sample; the whole text is decoded after
# The statistics (pairs, runs, scripts) are taken on the first 64 KB: what a 1 MB body of a
# stranger's costs is one strict decode in C per candidate charset, not a loop in Python.
SAMPLE = 65_536


def decode_bytes(data: bytes, label: str | None = None, hint: str | None = None) -> str:
    """Text from ``data`` (see ``decode_with``)."""
    return decode_with(data, label, hint)[0]


def decode_with(data: bytes, label: str | None = None,
                hint: str | None = None) -> tuple[str, str]:
    """(text, codec used) for ``data`` labelled ``label``; ``hint`` is the charset of the
    message's own text, used when the label is missing, unknown or wrong.

    A Western default label (us-ascii, iso-8859-1, windows-1252) on bytes that are UTF-8 or
    that look Chinese is a wrong label: Chinese clients send Chinese text under them.
    """
    declared = normalise_charset(label)
    if declared == "ascii" and not data.isascii():
        declared = None  # 8-bit bytes under us-ascii: the label says nothing of them
    if declared in _WESTERN_DEFAULTS and not data.isascii():
        better = _utf8(data) or _chinese(data, big5=False)
        if better:
            return clean_text(better[0]), better[1]
    if declared == "gb18030" and not data.isascii() and _utf8_not_gb(data):
        # GB18030 decodes nearly any bytes: UTF-8 under a GB label (bulk mailers' templates)
        # would pass as mojibake. Real GBK text is never UTF-8 with three-byte characters.
        return clean_text(data.decode("utf-8-sig")), "utf-8"
    if declared:
        # The declared charset, else another of its language: Japanese labelled
        # ISO-2022-JP (7-bit) that came as 8-bit EUC-JP is still Japanese, not GBK.
        for codec in (*_SUPERSETS.get(declared, (declared,)), *_LANGUAGE.get(declared, ())):
            text = _strict(data, codec)
            if text is not None:
                return clean_text(text), codec
    if data.isascii():
        return clean_text(data.decode("ascii")), "ascii"
    return guess(data, hint, declared)


def text_charset(body: bytes, label: str | None, headers: bytes = b"") -> str:
    """The charset of a message's text (the hint for its raw 8-bit headers): as its first
    8-bit text part ``body`` is read. A few unlabelled Cyrillic letters do not tell KOI8-R
    from Windows-1251; the raw 8-bit ``headers`` (the subject) add their letters."""
    codec = decode_with(body, label)[1]
    if codec in ("koi8-r", "cp1251") and normalise_charset(label) is None:
        found = _cyrillic(body + b" " + headers)
        codec = found[1] if found else codec
    return codec


def guess(data: bytes, hint: str | None = None,
          declared: str | None = None) -> tuple[str, str]:
    """(text, codec) for 8-bit bytes of no (believable) charset: see the module's order.
    ``declared`` is a label the bytes failed: after every strict reading, it is still
    believed (with U+FFFD for what does not fit) over a statistical guess."""
    found = _utf8(data)
    if found is None:
        found = (_hinted(data, hint) or _chinese(data) or _cyrillic(data) or _mixed_utf8(data)
                 or _nearly(data, declared) or _detected(data))
    if found is None:
        text = _strict(data, "cp1252")
        found = (text, "cp1252") if text is not None else (data.decode("latin-1"), "latin-1")
    return clean_text(found[0]), found[1]


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf8(data: bytes) -> tuple[str, str] | None:
    """The UTF-8 reading (a byte-order mark dropped), unless it is implausible and the
    bytes read as Chinese."""
    text = _strict(data, "utf-8-sig")
    if text is None or data.isascii():
        return None
    if not _looks_gb(data) or _plausible_utf8(text[:SAMPLE]):
        return repaired(text), "utf-8"
    return None


def _utf8_not_gb(data: bytes) -> bool:
    text = _strict(data, "utf-8-sig")
    return (text is not None and bool(_LONG_SEQUENCE.search(text[:SAMPLE]))
            and not _looks_gb(data))


# A character of three or four UTF-8 bytes: no GBK pair gives one by accident.
_LONG_SEQUENCE = re.compile("[\u0800-\U0010ffff]")
# Two-byte characters outside the scripts real text is written in (C1 controls, IPA,
# combining marks, Cyrillic extensions for Abkhaz and the like, Armenian, Syriac …).
# Latin Extended-B is odd but for Romanian ș ț; Cyrillic beyond Russian but for Ukrainian ґ;
# archaic and Coptic Greek; Hebrew points and cantillation marks (mail writes bare letters).
_ODD_TWO_BYTE = re.compile("[\u0080-\u009f\u0180-\u0217\u021c-\u0383\u03cf-\u03ff"
                           "\u0460-\u048f\u0492-\u04ff\u0530-\u05cf\u0700-\u07ff]")
# Accented letters with no plain letter beside them (GBK 没么 reads ûô): no Latin word.
_LONE_ACCENTS = re.compile("(?<![A-Za-z])[\u00c0-\u024f]{2,}(?![A-Za-z])")
# The scripts of the two-byte range, one per text: accented Latin letters, Greek, Cyrillic,
# Hebrew, Arabic (Latin-1 punctuation, ° « », goes with any).
_TWO_BYTE_SCRIPTS = (re.compile("[\u00c0-\u024f]"), re.compile("[\u0370-\u03ff]"),
                     re.compile("[\u0400-\u045f\u0490\u0491]"), re.compile("[\u0590-\u05ff]"),
                     re.compile("[\u0600-\u06ff]"))


def _plausible_utf8(text: str) -> bool:
    """Whether a UTF-8 reading is real text: a character of three or four bytes, or
    two-byte letters of one script (GBK 医院 reads ҽԺ, Cyrillic and Armenian)."""
    if _LONG_SEQUENCE.search(text):
        return True
    if _ODD_TWO_BYTE.search(text) or _LONE_ACCENTS.search(text):
        return False
    return sum(1 for script in _TWO_BYTE_SCRIPTS if script.search(text)) <= 1


def _hinted(data: bytes, hint: str | None) -> tuple[str, str] | None:
    """The reading in the charset of the message's own text, or of its language."""
    declared = normalise_charset(hint)
    if declared is None or declared == "ascii":
        return None  # a 7-bit us-ascii text says nothing of 8-bit bytes
    if declared in _WESTERN_DEFAULTS:
        return _chinese(data, big5=False) or _western(data, declared)
    for codec in (*_SUPERSETS.get(declared, (declared,)), *_LANGUAGE.get(declared, ())):
        if codec.startswith("iso2022") and not data.isascii():
            continue  # a 7-bit charset: its decoder skips what it cannot read
        text = _strict(data, codec)
        if text is not None:
            return text, codec
    return None


def _western(data: bytes, declared: str) -> tuple[str, str] | None:
    for codec in _SUPERSETS.get(declared, (declared,)):
        text = _strict(data, codec)
        if text is not None:
            return text, codec
    return None


def _chinese(data: bytes, big5: bool = True) -> tuple[str, str] | None:
    """Japanese when the bytes read as text with kana (EUC-JP pairs look like GB2312's),
    else GB18030 when they look like simplified Chinese, else (with ``big5``) Big5 when they
    look like traditional Chinese, else None."""
    japanese = _japanese(data)
    if japanese:
        return japanese
    if _looks_gb(data):
        return data.decode("gb18030"), "gb18030"
    if big5:
        for codec in ("big5hkscs", "cp950"):
            text = _strict(data, codec)
            if text is not None and _cjk_run(text[:SAMPLE]) and _common_big5(data):
                return text, codec
    return None


def _pairs(data: bytes) -> Iterator[tuple[int, int]]:
    """(first, second byte) of each two-byte character of a valid GBK or Big5 text; a
    four-byte GB18030 sequence gives (first, 0)."""
    i = 0
    while i < len(data) - 1:
        lead = data[i]
        if lead < 0x80:
            i += 1
        elif 0x30 <= data[i + 1] <= 0x39:
            yield lead, 0
            i += 4
        else:
            yield lead, data[i + 1]
            i += 2


_HIRAGANA = re.compile("[\u3041-\u309f]")
_CJK_CHARACTER = re.compile("[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _japanese(data: bytes, tolerance: int = 0) -> tuple[str, str] | None:
    """EUC-JP or Shift_JIS when the reading has hiragana (one in twenty CJK characters at
    least: Japanese text is full of them; GB2312 and Big5 text read so has none), with at
    most ``tolerance`` bytes that do not decode."""
    for codec in ("euc_jp", "cp932"):
        sample = _tolerant(data[:SAMPLE], codec, tolerance)
        if sample is None:
            continue
        hiragana = len(_HIRAGANA.findall(sample))
        if hiragana >= 2 and hiragana * 20 >= len(_CJK_CHARACTER.findall(sample)):
            text = data.decode(codec, errors="replace")
            if text.count("\ufffd") <= tolerance * max(1, len(data) // SAMPLE):
                return text, codec
    return None


def _nearly(data: bytes, declared: str | None) -> tuple[str, str] | None:
    """A reading with a few bytes that do not decode (a mail cut mid-character, a stray
    byte): Japanese, then GB18030, then Big5 as their statistics say, then the declared
    charset; U+FFFD marks what does not fit."""
    tolerance = max(1, len(data[:SAMPLE].translate(None, _ASCII)) // 100)
    found = _japanese(data, tolerance)
    if found:
        return found
    if _looks_gb(data, tolerance):
        return data.decode("gb18030", errors="replace"), "gb18030"
    big5 = _tolerant(data[:SAMPLE], "big5hkscs", tolerance)
    if big5 is not None and _cjk_run(big5) and _common_big5(data):
        return data.decode("big5hkscs", errors="replace"), "big5hkscs"
    if declared in _CJK_CHARSETS:  # (Latin-1 under a utf-8 label is left to detection)
        return data.decode(declared, errors="replace"), declared
    return None


# Multi-byte charsets whose label is believed over a statistical guess when a few bytes fail.
_CJK_CHARSETS = frozenset({"gb18030", "big5", "big5hkscs", "cp950", "cp932", "shift_jis",
                           "euc_jp", "euc_kr", "cp949"})


def _looks_gb(data: bytes, tolerance: int = 0) -> bool:
    """GB18030 decodes ``data``, its 8-bit bytes are pairs of the GB2312 area (a few GBK
    pairs allowed for names like 镕 or 喆), half of them common characters, and two
    Chinese characters follow each other.

    Latin-1 text is valid GBK too ("f\\xfcr" reads f黵), but its 8-bit bytes stand alone
    between ASCII letters; Big5 text has many second bytes in the ASCII range.
    """
    text = _tolerant(data[:SAMPLE], "gb18030", tolerance) if tolerance else \
        _strict(data, "gb18030")
    if text is None:
        return False
    inside = outside = common = 0
    for lead, trail in _pairs(data[:SAMPLE]):
        # Rows AA–AF are empty in GB2312 (user-defined in GBK) and A4–A9 hold kana, Greek,
        # Cyrillic, pinyin and box drawing: Big5 puts a third of its frequent characters
        # there.
        if 0xA1 <= lead <= 0xF7 and 0xA1 <= trail <= 0xFE and not 0xAA <= lead <= 0xAF:
            inside += 1
            # full-width punctuation and the 3,755 frequent characters
            common += lead <= 0xA3 or 0xB0 <= lead <= 0xD7
        else:
            outside += 1
    if inside == 1 and outside == 0:
        # One character ("急"): one of the 3,755 frequent ones (B0A1–D7F9) is Chinese. In
        # Latin-1 its bytes would be a symbol or an upper-case accented letter followed by
        # another 8-bit letter ("Éé").
        return common == 1 and data.translate(None, _ASCII)[0] >= 0xB0
    return (inside >= 2 and outside * 8 <= inside and common * 2 >= inside
            and _cjk_run(text[:SAMPLE]))


def _tolerant(sample: bytes, codec: str, tolerance: int) -> str | None:
    """``sample`` decoded if at most ``tolerance`` bytes fail (+ the character its end may
    have cut), else None."""
    text = sample.decode(codec, errors="replace")
    return text if text.count("\ufffd") <= tolerance + 1 else None


def _common_big5(data: bytes) -> bool:
    """Whether most characters of valid Big5 ``data`` are symbols or of the 5,401 frequent
    characters (first byte A1–C6). Latin-1 letters are bytes C0–FF: a German word read as
    Big5 gives the rare characters of C9–F9."""
    pairs = list(_pairs(data[:SAMPLE]))
    common = sum(1 for lead, _trail in pairs if 0xA1 <= lead <= 0xC6)
    return len(pairs) >= 2 and common * 5 >= len(pairs) * 4


def _cyrillic(data: bytes) -> tuple[str, str] | None:
    """KOI8-R or Windows-1251 when every 8-bit byte is a Cyrillic letter of both (C0–FF)
    and some word has three of them in a row (Latin-1 accents stand alone). Russian is
    mostly lower case: KOI8-R has it at C0–DF, Windows-1251 at E0–FF."""
    high = data.translate(None, _ASCII)
    if not high or min(high) < 0xC0 or not _CYRILLIC_WORD.search(data):
        return None
    lower_koi8 = len(high) - len(high.translate(None, bytes(range(0xC0, 0xE0))))
    codec = "koi8-r" if lower_koi8 * 2 > len(high) else "cp1251"
    return data.decode(codec), codec


_CYRILLIC_WORD = re.compile(rb"[\xc0-\xff]{3}")
_ASCII = bytes(range(0x80))


# Two CJK characters (ideographs, kana, CJK or full-width punctuation) in a row.
_CJK_PAIR = re.compile("[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
                       "\U00020000-\U0010ffff]{2}")


def _cjk_run(text: str) -> bool:
    return _CJK_PAIR.search(text) is not None


def _detected(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's reading of a text long enough for its statistics."""
    if len(data) < _DETECT_MIN_BYTES:
        return None
    best = from_bytes(data[:_DETECT_MAX_BYTES], cp_isolation=_DETECTABLE).best()
    if best is None:
        return None
    text = _strict(data, best.encoding)
    return (text, best.encoding) if text is not None else None


def _to_cp1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start:error.end]
    return bad.decode("cp1252", errors="replace").replace("\ufffd", "") or "\ufffd", error.end


codecs.register_error("complaintd-cp1252", _to_cp1252)


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _mixed_utf8(data: bytes) -> tuple[str, str] | None:
    """UTF-8 with stray Windows-1252 bytes (a Latin-1 line pasted into UTF-8 text), when
    most 8-bit bytes are in valid UTF-8 sequences."""
    sample = data[:SAMPLE]
    in_sequences = sum(len(m) for m in _UTF8_SEQUENCE.findall(sample))
    high = len(sample.translate(None, _ASCII))
    if in_sequences <= high - in_sequences:
        return None
    return data.decode("utf-8", errors="complaintd-cp1252"), "utf-8"


def repaired(text: str) -> str:
    """``text`` as written when it is CJK text encoded twice (its Big5 or GBK bytes taken
    as Latin-1 and written out as UTF-8), else ``text`` unchanged."""
    if text.isascii() or max(text[:SAMPLE]) >= "\u0100":
        return text
    try:
        inner = text.encode("latin-1")
    except UnicodeEncodeError:
        return text
    found = _chinese(inner)
    return found[0] if found else text


def clean_text(text: str) -> str:
    """Drop what the databases refuse: NUL and other control bytes, lone surrogates."""
    text = _CONTROL.sub("", text)
    return text.encode("utf-8", errors="ignore").decode("utf-8")


def decode_header_value(raw: str, hint: str | None = None) -> str:
    """A readable header value from a raw one (8-bit bytes and encoded words alike).

    ``hint`` is the charset of the message's text, for raw 8-bit bytes: they are read as
    strict UTF-8, else in the charset of an encoded word around them, else as the hint
    says, else as ``guess`` finds.
    """
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        raw = _eight_bit(raw.encode("utf-8", errors="surrogateescape"), hint)
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
            parts.append(decode_bytes(chunk, charset, hint))
    return clean_text(" ".join("".join(parts).split()))


def _eight_bit(data: bytes, hint: str | None) -> str:
    """Raw 8-bit bytes of a header: inside a Q encoded word they are escaped (its charset
    then decodes them); elsewhere read as strict UTF-8, the hint, or a guess."""
    labels = [m.group(1).decode("ascii") for m in _Q_WORD.finditer(data)]
    data = _Q_WORD.sub(_escaped_word, data)
    return decode_with(data, None, hint or _first_real(labels))[0]


# A Q encoded word, 8-bit bytes allowed in its text. Single character classes: linear.
_Q_WORD = re.compile(rb"=\?([!#-/0-9A-Z^-z{}~-]{1,60})\?[qQ]\?([^?\s]*)\?=")
_HIGH = re.compile(rb"[\x80-\xff]")


def _escaped_word(match: re.Match[bytes]) -> bytes:
    text = _HIGH.sub(lambda byte: b"=%02X" % byte.group(0)[0], match.group(2))
    return b"=?" + match.group(1) + b"?Q?" + text + b"?="


def _first_real(labels: Iterable[str]) -> str | None:
    return next((label for label in labels if normalise_charset(label)), None)
