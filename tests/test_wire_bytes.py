"""The outbox's own serialisation gives exactly the bytes of the stdlib generator."""

from __future__ import annotations

import random
from datetime import datetime
from email.charset import Charset
from email.header import Header

import pytest

from casework.clock import SHANGHAI
from notifications.outbox import (
    _WIRE,
    MailIdentity,
    _boundary,
    _header,
    build_message,
    mailbox,
    message_bytes,
    wire_bytes,
)

IDENTITY = MailIdentity(from_address="complaints@oasis.example.org", from_name="绿洲 投诉受理",
                        reply_to="complaints@oasis.example.org",
                        message_id_domain="oasis.example.org")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
LONG = "关于药品援助项目申请被拒的投诉，" * 12
REFS = [f"<id{i}.{'x' * 30}@example.cn>" for i in range(12)]


@pytest.mark.parametrize(("subject", "text", "html", "name", "reply", "refs"), [
    ("Re: LO-2026-000001", "plain ascii\nsecond line\n", None, None, None, ()),
    ("【LO-2026-000002】已受理", "您好：\n已收到。\n", "<p>您好</p>", "王丽华", "<a@b.cn>", ()),
    (LONG, LONG + "\n" * 3, "<p>" + LONG + "</p>", "A very long name " * 6, "<a@b.cn>", REFS),
    ("", "", "", "", None, ()),
    ("tab\there", "no newline at the end", None, "O'Brien, \"Pat\"", None, REFS[:2]),
    ("Subject with =?utf-8?q?x?= inside", "x\r\ny\rz\n", "<b>x</b>\r\n", "李", None, ()),
], ids=["ascii", "chinese", "long", "empty", "specials", "carriage-returns"])
def test_wire_bytes_are_those_of_the_generator(
    subject: str, text: str, html: str | None, name: str | None, reply: str | None,
    refs: tuple[str, ...],
) -> None:
    for auto in ("auto-replied", "auto-generated"):
        message = build_message(
            to=mailbox("wang@example.cn", name), subject=subject, text=text, html=html,
            identity=IDENTITY, now=NOW, in_reply_to=reply, references=list(refs),
            auto_submitted=auto)
        assert wire_bytes(message) == message.as_bytes(policy=_WIRE)


@pytest.mark.parametrize(("subject", "text", "html", "name", "reply", "refs"), [
    ("Re: LO-2026-000001", "plain ascii\nsecond line\n", None, None, None, ()),
    ("【LO-2026-000002】已受理", "您好：\n已收到。\n", "<p>您好</p>", "王丽华", "<a@b.cn>", ()),
    (LONG, LONG + "\n" * 3, "<p>" + LONG + "</p>", "A very long name " * 6, "<a@b.cn>", REFS),
    ("", "", "", "", None, ()),
    ("tab\there", "no newline at the end", None, "O'Brien, \"Pat\"", None, REFS[:2]),
    ("Subject with =?utf-8?q?x?= inside", "x\r\ny\rz\n", "<b>x</b>\r\n", "李", None, ()),
], ids=["ascii", "chinese", "long", "empty", "specials", "carriage-returns"])
def test_the_bytes_queued_are_those_of_the_message_built(
    subject: str, text: str, html: str | None, name: str | None, reply: str | None,
    refs: tuple[str, ...],
) -> None:
    """``queue_mail`` writes the bytes without building the message: the same bytes."""
    for auto, boundary in [("auto-replied", "=_0123abcd"), ("auto-generated", _boundary()),
                           ("no", _boundary())]:
        given = {"to": mailbox("wang@example.cn", name), "subject": subject, "text": text,
                 "html": html, "identity": IDENTITY, "now": NOW, "in_reply_to": reply,
                 "references": list(refs), "auto_submitted": auto,
                 "message_id": "<fixed.1@oasis.example.org>", "boundary": boundary}
        message_id, raw = message_bytes(**given)  # type: ignore[arg-type]
        assert message_id == "<fixed.1@oasis.example.org>"
        message = build_message(**given)  # type: ignore[arg-type]
        assert raw == message.as_bytes(policy=_WIRE)


def test_a_subject_is_encoded_as_the_header_class_encodes_it() -> None:
    """Short subjects are one encoded word written directly; every length around the
    limit, both encodings and the tie between them, give ``Header``'s own text."""
    rng = random.Random(11)
    alphabet = "中文投诉已受理【】（）：，。 abcXYZ019-_=?[]<>\"'!@#$%^&*()é"
    subjects = ["新案件分派给您 [LO-2026-000123]", "é" * 20, "中" * 18, "中" * 19]
    subjects += [" ".join("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 70)))
                          .split()) for _ in range(3000)]
    for subject in subjects:
        expected = subject if subject.isascii() else \
            Header(subject, Charset("utf-8"), header_name="Subject").encode()
        assert _header(subject) == expected
