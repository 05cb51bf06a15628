"""Property-based fuzzing of mail intake (issue 12): whatever bytes arrive, understanding a
mail never raises, and each mail ends as exactly one outcome with its reason.

Mails are built from parts a hostile sender controls: header names and values (encoded
words, raw 8-bit bytes, hostile charset labels), bodies in any bytes, multipart trees with
any boundaries, nesting and part counts. Kept fast: modest ``max_examples``, no deadline.
"""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from intake.ledger import SourceItem
from intake.mail import parse_mail
from intake.understand import MailUnderstanding
from tests.test_intake_support import make_app

# Hypothesis keeps caches under .hypothesis/ of the working folder: not in the project tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "complaintd-hypothesis")
NOW = datetime(2026, 12, 2, tzinfo=UTC)
CHARSETS = ["utf-8", "gb2312", "gbk", "big5", "iso-8859-1", "us-ascii", "punycode", "idna",
            "hex", "zlib", "rot13", "utf-8\x00", "", "x-unknown", "utf-16", "utf-7"]
TYPES = ["text/plain", "text/html", "application/pdf", "message/rfc822", "image/png",
         "multipart/report", "message/delivery-status", "text/rfc822-headers"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", "bogus"]

text = st.text(max_size=60)
raw_bytes = st.binary(max_size=120)


@st.composite
def header_value(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["text", "encoded", "raw", "address"]))
    if kind == "text":
        return draw(text).encode("utf-8", "surrogateescape")
    if kind == "encoded":
        charset = draw(st.sampled_from(CHARSETS))
        payload = draw(st.sampled_from(["B", "Q"]))
        return f"=?{charset}?{payload}?{draw(text)}?=".encode("utf-8", "surrogateescape")
    if kind == "raw":
        return draw(raw_bytes).replace(b"\r", b"").replace(b"\n", b"")
    name = draw(text).replace("\n", "").replace("\r", "")
    return f'"{name}" <{draw(text)}@example.cn>'.encode("utf-8", "surrogateescape")


def one_line(value: bytes) -> bytes:
    return value.replace(b"\r", b" ").replace(b"\n", b" ")


@st.composite
def part(draw: st.DrawFn, depth: int) -> bytes:
    kind = draw(st.sampled_from(TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    head = [b"Content-Type: " + kind.encode() + b"; charset=\"" + charset.encode() + b"\""]
    if draw(st.booleans()):
        head.append(b"Content-Transfer-Encoding: " + draw(st.sampled_from(ENCODINGS)).encode())
    if draw(st.booleans()):
        name = one_line(draw(header_value()))
        head.append(b"Content-Disposition: attachment; filename=\"" + name + b"\"")
    if depth > 0 and draw(st.booleans()):
        boundary = draw(st.text("abc-=_'()+,./:?", min_size=1, max_size=20)).encode()
        children = draw(st.lists(part(depth - 1), max_size=4))
        head[0] = b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\""
        body = b"".join(b"--" + boundary + b"\r\n" + c + b"\r\n" for c in children)
        if draw(st.booleans()):
            body += b"--" + boundary + b"--\r\n"
        return b"\r\n".join(head) + b"\r\n\r\n" + body
    return b"\r\n".join(head) + b"\r\n\r\n" + draw(raw_bytes)


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    names = ["From", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
             "Auto-Submitted", "Precedence", "Return-Path", "Authentication-Results",
             "X-Auto-Response-Suppress", "List-Id", "Sender"]
    headers = [name.encode() + b": " + one_line(draw(header_value()))
               for name in draw(st.lists(st.sampled_from(names), max_size=8))]
    if draw(st.booleans()):
        headers.insert(0, b"From: zhang@example.cn")
    if draw(st.booleans()):
        return b"\r\n".join(headers) + b"\r\n" + draw(part(depth=3))
    return b"\r\n".join(headers) + b"\r\n\r\n" + draw(raw_bytes)


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.one_of(mails(), st.binary(max_size=400)))
def test_understanding_any_bytes_gives_a_case_or_a_reason(raw: bytes) -> None:
    parse_mail(raw)  # the parser alone raises nothing either
    understood = MailUnderstanding()(SourceItem("fuzz", "INBOX", 1, "1", raw), "0" * 64, NOW)
    assert (understood.inbound is None) != (understood.ignore is None)
    if understood.ignore is not None:
        assert understood.ignore.strip()
    else:
        assert understood.inbound is not None and understood.inbound.sender_email


def test_every_mail_ends_as_one_outcome_with_its_reason(tmp_path: Path, sqlite_url: str) -> None:
    app = make_app(tmp_path, sqlite_url, [])
    uids = itertools.count(1)

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(raw=mails())
    def take(raw: bytes) -> None:
        item = SourceItem("fuzz", "INBOX", 1, str(next(uids)), raw)
        outcome = app.ledger.take(item, MailUnderstanding())
        assert outcome.kind in {"case", "follow_up", "ignored", "quarantined", "duplicate"}
        if outcome.kind in {"ignored", "quarantined"}:
            assert outcome.detail.strip()

    take()
