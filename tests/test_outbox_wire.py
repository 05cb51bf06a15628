"""The bytes of a queued mail, read back the way a receiving client reads them: Chinese
subject, names and bodies come back exactly; the message is 7-bit with CRLF line ends,
short folded header lines and every header a receiver relies on."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy

import pytest

from notifications.outbox import MailIdentity, build_message, mailbox, wire_bytes

IDENTITY = MailIdentity("complaints@example.org", "上海患者援助中心 投诉受理",
                        "reply@example.org", "example.org")
SUBJECT = ("【LO-2026-000123】我们已收到您的投诉：关于救助款迟迟未发放、"
           "工作人员态度恶劣的问题")
TEXT = "张先生您好：\n\n" + "我们已收到您的投诉，将在十五个工作日内答复。\n" * 30
HTML = "<p>" + "我们已收到您的投诉。" * 80 + "</p>"


def wire(html: str | None = HTML, name: str = '张小明 "老张"', subject: str = SUBJECT) -> bytes:
    message = build_message(
        to=mailbox("zhang@例子.中国", name), subject=subject, text=TEXT, html=html,
        identity=IDENTITY, now=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        in_reply_to="<c1@example.cn>", references=["<root@example.cn>", "<c1@example.cn>"],
        auto_submitted="auto-replied")
    return wire_bytes(message)


@pytest.mark.parametrize("html", [HTML, None], ids=["alternative", "plain"])
def test_a_client_reads_back_exactly_what_was_written(html: str | None) -> None:
    back = email.message_from_bytes(wire(html), policy=policy.default)
    assert back["Subject"] == SUBJECT
    assert back["To"].addresses[0].display_name == '张小明 "老张"'
    assert back["To"].addresses[0].addr_spec == "zhang@xn--fsqu00a.xn--fiqs8s"
    assert back["From"].addresses[0].display_name == IDENTITY.from_name
    assert back.get_body(("plain",)).get_content() == TEXT
    if html is None:
        assert back.get_content_type() == "text/plain"
    else:
        assert back.get_content_type() == "multipart/alternative"
        assert back.get_body(("html",)).get_content() == HTML
    assert str(back["Date"]) == "Tue, 24 Nov 2026 17:30:00 +0800"  # in Shanghai time
    for name, value in [("In-Reply-To", "<c1@example.cn>"), ("Reply-To", "reply@example.org"),
                        ("References", "<root@example.cn> <c1@example.cn>"),
                        ("Auto-Submitted", "auto-replied"), ("Precedence", "auto_reply"),
                        ("X-Auto-Response-Suppress", "All"),
                        ("X-Complaintd-Loop", "example.org")]:
        assert back[name] == value, name
    assert back["Message-ID"].endswith("@example.org>")


def test_the_bytes_are_seven_bit_with_crlf_and_short_header_lines() -> None:
    raw = wire()
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    # Both parts base64: the boundary ("=_" + hex) can never occur inside them.
    assert raw.count(b"Content-Transfer-Encoding: base64") == 2


def test_an_ascii_name_with_specials_is_quoted_not_encoded() -> None:
    back = email.message_from_bytes(wire(name="Li, Wei", subject="Re: complaint"),
                                    policy=policy.default)
    assert back["To"].addresses[0].display_name == "Li, Wei"
    assert back["Subject"] == "Re: complaint"
    assert b'"Li, Wei" <zhang@' in wire(name="Li, Wei")
