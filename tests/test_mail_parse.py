"""Parsing raw mail: Chinese charsets, headers, bodies, machine mail."""

from __future__ import annotations

import base64

import pytest

from intake.charsets import decode_bytes, decode_header_value
from intake.htmltext import html_to_text
from intake.mail import parse_mail, safe_filename


def b64word(text: str, charset: str, codec: str | None = None) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(codec or charset)).decode()}?="


def test_gb2312_label_on_gbk_text_decodes_without_replacement() -> None:
    # 镕 and 喆 are GBK but not GB2312: a strict GB2312 decoder turns them into U+FFFD.
    subject = b64word("朱镕基和陶喆", "gb2312", "gbk")
    body = base64.b64encode("朱镕基和陶喆的投诉".encode("gbk")).decode()
    raw = (f"From: {b64word('朱先生', 'gb2312')} <zhu@example.cn>\r\nSubject: {subject}\r\n"
           "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n"
           f"\r\n{body}\r\n").encode()
    mail = parse_mail(raw)
    assert mail.subject == "朱镕基和陶喆"
    assert mail.from_name == "朱先生" and mail.from_email == "zhu@example.cn"
    assert mail.text == "朱镕基和陶喆的投诉"


def test_raw_8bit_gbk_header_and_body() -> None:
    raw = (b"Subject: " + "撤回邮件".encode("gbk") + b"\r\nFrom: a@example.cn\r\n"
           b"Content-Type: text/plain\r\n\r\n" + "内容".encode("gbk"))
    mail = parse_mail(raw)
    assert mail.subject == "撤回邮件"
    assert mail.text == "内容"


def test_unknown_charset_label_falls_back() -> None:
    raw = (b"From: a@example.cn\r\nSubject: x\r\nContent-Type: text/plain; charset=x-unknown\r\n"
           b"\r\n") + "你好".encode()
    assert parse_mail(raw).text == "你好"


def test_nul_bytes_and_lone_surrogates_are_removed() -> None:
    assert decode_bytes(b"a\x00b") == "ab"
    assert decode_header_value("x\ud800y") == "xy"


def test_html_only_body_becomes_text() -> None:
    raw = (b"From: a@example.cn\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           + "<html><head><style>p{}</style></head><body><p>第一段</p><p>第二&amp;段</p>"
             "<script>alert(1)</script></body></html>".encode())
    mail = parse_mail(raw)
    assert mail.text == "第一段\n\n第二&段"
    assert mail.html is not None and "<p>" in mail.html


def test_threading_headers() -> None:
    raw = (b"From: a@example.cn\r\nSubject: Re: x\r\nMessage-ID: <m2@example.cn>\r\n"
           b"In-Reply-To: <m1@example.org>\r\nReferences: <m0@example.org>\r\n <m1@example.org>\r\n"
           b"\r\nbody")
    mail = parse_mail(raw)
    assert mail.message_id == "<m2@example.cn>"
    assert mail.in_reply_to == "<m1@example.org>"
    assert mail.references == ("<m0@example.org>", "<m1@example.org>")


@pytest.mark.parametrize(("header", "reason"), [
    ("Auto-Submitted: auto-replied", "Auto-Submitted"),
    ("Precedence: bulk", "Precedence"),
    ("List-Id: <x.example.org>", "List-"),
    ("X-Autoreply: yes", "X-Autoreply"),
    ("Return-Path: <>", "null return path"),
    ("X-Complaintd-Loop: example.org", "loop"),
])
def test_machine_mail_is_recognised_with_a_reason(header: str, reason: str) -> None:
    raw = f"From: a@example.cn\r\nSubject: x\r\n{header}\r\n\r\nbody".encode()
    assert reason in (parse_mail(raw).machine_reason or "")


def test_suppress_header_alone_is_still_a_person() -> None:
    raw = b"From: a@example.cn\r\nSubject: x\r\nX-Auto-Response-Suppress: All\r\n\r\nbody"
    assert parse_mail(raw).machine_reason is None


def test_attachment_names_are_made_safe() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\evil\\病历.pdf") == "病历.pdf"
    assert safe_filename("a\x00b:c.txt") == "a_b_c.txt"


def test_html_to_text_keeps_paragraphs() -> None:
    assert html_to_text("<div>a</div><div>b&nbsp;c</div>") == "a\n\nb c"
