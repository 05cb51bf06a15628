"""The pure pieces of understanding a mail, on plain values."""

from __future__ import annotations

from email import message_from_bytes

import pytest

from casework.quotes import strip_quoted
from intake.authresults import authentication_summary, has_failure
from intake.biglinks import large_file_links
from intake.bounces import original_message_ids
from intake.charsets import decode_bytes
from intake.htmltext import sanitise_html
from intake.machine import machine_reason, no_auto_reply
from intake.threading_hints import reference_hint


@pytest.mark.parametrize(("subject", "hint"), [
    ("回复：【LO－2026－000123】补充材料", "LO-2026-000123"),
    ("Re: Fwd: LO 2026 000123", "LO-2026-000123"),
    ("转发: [LO-2026-000123", "LO-2026-000123"),
    ("RE:[LO_2026_000123]", "LO-2026-000123"),
    ("回复: 投诉 2026 年的事", None),
])
def test_reference_hint_survives_mangling(subject: str, hint: str | None) -> None:
    assert reference_hint(subject) == hint


@pytest.mark.parametrize("text", [
    "新的内容\n\n------------------ 原始邮件 ------------------\n发件人: 中心\n旧内容",
    "新的内容\n在 2026年11月24日 10:00，投诉中心 写道：\n> 旧内容",
    "新的内容\nOn Tue, 24 Nov 2026 at 10:00, Centre <c@example.org> wrote:\n> old",
    "新的内容\n-----Original Message-----\nFrom: c@example.org\nold",
    "新的内容\n> 旧内容\n> 更旧",
])
def test_quoted_history_is_stripped(text: str) -> None:
    assert strip_quoted(text) == "新的内容"


def test_a_reply_that_is_all_quote_keeps_its_text() -> None:
    assert strip_quoted("> 只有引用") == "> 只有引用"


def test_large_file_links_of_qq_and_163() -> None:
    text = ("超大附件\nhttps://mail.qq.com/cgi-bin/ftnExs_download?k=1&amp;t=2\n"
            "https://mail.163.com/large-attachment-download/index.html?p=X")
    assert large_file_links(text, None) == (
        "https://mail.qq.com/cgi-bin/ftnExs_download?k=1&t=2",
        "https://mail.163.com/large-attachment-download/index.html?p=X")
    assert large_file_links("只提到了超大附件", None) == (
        "(超大附件 mentioned, link not recognised)",)
    assert large_file_links("普通邮件 https://example.org", None) == ()


def test_authentication_results_take_the_topmost_header() -> None:
    msg = message_from_bytes(
        b"Authentication-Results: mx.ours.org; dkim=pass header.d=a.cn;\r\n"
        b"  spf=fail smtp.mailfrom=a.cn; dmarc=none\r\n"
        b"Authentication-Results: evil.example; dkim=pass; spf=pass; dmarc=pass\r\n\r\nx")
    summary = authentication_summary(msg)
    assert summary == "dkim=pass spf=fail dmarc=none" and has_failure(summary)
    assert authentication_summary(message_from_bytes(b"Subject: x\r\n\r\nx")) is None


def test_wrong_single_byte_label_on_chinese_text() -> None:
    assert decode_bytes("医院".encode("gbk"), "iso-8859-1") == "医院"
    assert decode_bytes("医院".encode(), "windows-1252") == "医院"
    assert decode_bytes("Grüße".encode("cp1252"), "windows-1252") == "Grüße"
    assert decode_bytes("镕".encode("gbk"), "gb2312") == "镕"


def test_auto_response_suppress_is_not_machine_mail() -> None:
    msg = message_from_bytes(b"From: a@b.cn\r\nX-Auto-Response-Suppress: OOF, AutoReply\r\n\r\nx")
    assert machine_reason(msg) is None
    assert no_auto_reply(msg) == ("X-Auto-Response-Suppress: OOF, AutoReply "
                                  "(no auto-reply; still a case)")


def test_auto_submitted_no_is_a_person() -> None:
    msg = message_from_bytes(b"From: a@b.cn\r\nAuto-Submitted: no\r\nSubject: hi\r\n\r\nx")
    assert machine_reason(msg) is None


def test_bounce_original_message_ids_from_rfc822_and_plain_text() -> None:
    dsn = message_from_bytes(
        b"From: MAILER-DAEMON@x\r\nContent-Type: multipart/report; report-type=delivery-status;"
        b" boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--B\r\n"
        b"Content-Type: message/rfc822\r\n\r\nMessage-ID: <ack-1@ours.org>\r\n"
        b"Subject: x\r\n\r\nbody\r\n--B--\r\n")
    assert original_message_ids(dsn) == ("<ack-1@ours.org>",)
    qq = message_from_bytes(b"From: postmaster@qq.com\r\nContent-Type: text/plain\r\n\r\n"
                            b"Original message:\r\n  Message-ID: <ack-2@ours.org>\r\n")
    # A single-part bounce: the quoted headers are in its own body, not a sub-part.
    assert original_message_ids(qq) == ()


def test_sanitised_html_keeps_content_and_cid_images() -> None:
    html = sanitise_html('<p style="x" onload="y">好<img src="cid:a"><iframe src="h"></iframe>')
    assert html == '<p>好<img src="cid:a"></p>'
