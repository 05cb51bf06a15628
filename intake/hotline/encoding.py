"""Which text encoding a call log is in, found from its bytes, reading them in chunks.

A byte-order mark, then strict UTF-8, then GB18030 (a superset of GBK and GB2312, which
Chinese Excel writes), then charset-normalizer on a sample for anything else; the winner is
checked against the whole file. The file is read a chunk at a time, so a large file costs no
more memory than a small one; each candidate is one more pass over the bytes.
"""

from __future__ import annotations

import codecs
from typing import BinaryIO

import charset_normalizer

from intake.charsets import is_gb_family
from intake.hotline.problems import FieldProblem

CHUNK = 1 << 20
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

NOT_TEXT = FieldProblem(
    "这不是文本文件，也不是 Excel 工作簿（.xlsx）；请“另存为” CSV UTF-8 或 .xlsx 格式",
    "this is not a text file (nor an .xlsx workbook); save it as CSV UTF-8 or .xlsx",
)
UNKNOWN_ENCODING = FieldProblem(
    "无法识别文件编码，请另存为 CSV UTF-8 格式",
    "the file's encoding is unknown; save it as CSV UTF-8",
)


def detect_encoding(fh: BinaryIO) -> str:
    """The encoding of the text in ``fh`` (left at its start); FieldProblem when it is not text."""
    fh.seek(0)
    head = fh.read(4096)
    fh.seek(0)
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise NOT_TEXT
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return _checked(fh, encoding)
    for encoding in ("utf-8", "gb18030"):
        if _decodes(fh, encoding):
            return encoding
    sample = fh.read(CHUNK)
    fh.seek(0)
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise UNKNOWN_ENCODING
    # A subset of GB18030 is read as GB18030: it reads everything they do and more.
    encoding = "gb18030" if is_gb_family(best.encoding) else best.encoding
    return _checked(fh, encoding)


def _checked(fh: BinaryIO, encoding: str) -> str:
    if not _decodes(fh, encoding):
        raise UNKNOWN_ENCODING
    return encoding


def _decodes(fh: BinaryIO, encoding: str) -> bool:
    """Whether all of ``fh`` decodes strictly as ``encoding``; ``fh`` is rewound after."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    except LookupError:
        return False
    fh.seek(0)
    try:
        while chunk := fh.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        fh.seek(0)
    return True
