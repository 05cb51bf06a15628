"""The other cells of a call: email, callback wish, case reference, anonymity, free text."""

from __future__ import annotations

import re
import unicodedata
from email.utils import parseaddr

from casework.references import REFERENCE_PATTERN
from intake.hotline.problems import FieldProblem

# Written in the caller-name or phone cell when the caller will not say who they are.
ANONYMOUS_MARKERS = frozenset(
    {"匿名", "匿名来电", "匿名者", "不愿透露", "不愿透露姓名", "anonymous", "anon"}
)
_YES = frozenset({"是", "要", "需要", "需回访", "回访", "y", "yes", "true", "1", "√", "✓", "✔"})
_NO = frozenset(
    {"否", "不", "不要", "不需要", "无需", "无需回访", "不回访", "n", "no", "false", "0", "×", "✗"}
)
# A deliberately plain shape check: no network, no MX lookup; Unicode letters are allowed in
# the domain (中文.中国) because parseaddr passes them through.
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+")


def nfkc(text: str) -> str:
    """Full-width letters, digits and punctuation as their plain forms, trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def is_anonymous_marker(text: str) -> bool:
    return nfkc(text).casefold() in ANONYMOUS_MARKERS


def clean_text(text: str) -> str:
    """Free text with its line breaks unified; kept as typed otherwise (no NFKC: it is evidence)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def normalise_email(text: str) -> str:
    """One address, its domain in lower case; FieldProblem if it does not look like one."""
    s = nfkc(text)
    if re.search(r"[,;]", s):
        raise FieldProblem("只能填写一个邮箱地址", "give one email address only")
    _name, address = parseaddr(s)
    if not _EMAIL.fullmatch(address):
        raise FieldProblem("邮箱地址格式不对", "this is not an email address")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def parse_callback(text: str) -> bool:
    word = nfkc(text).casefold()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise FieldProblem("是否回访请填“是”或“否”", "callback wanted must be 是 (yes) or 否 (no)")


def normalise_reference(text: str) -> str:
    """A case reference such as ``LO-2026-000001``, in capitals."""
    reference = nfkc(text).upper()
    if not REFERENCE_PATTERN.fullmatch(reference):
        raise FieldProblem(
            "关联编号格式不对，应像 LO-2026-000001",
            "the case reference should look like LO-2026-000001",
        )
    return reference


def normalise_call_id(text: str) -> str:
    call_id = nfkc(text)
    # The call id becomes the ledger key, which holds 255 characters.
    if len(call_id) > 200:
        raise FieldProblem(
            "通话编号太长（最多 200 个字符）", "the call id is longer than 200 characters"
        )
    return call_id
