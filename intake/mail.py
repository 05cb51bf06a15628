"""Raw mail bytes → ``ParsedMail``: pure, no disk, no database.

The bytes are a stranger's, so the work is bounded before the standard library sees them:
at most ``MAX_CONTAINERS`` multipart/message parts and ``MAX_DELIMITERS`` boundary lines
are given to the parser (its recursion follows the nesting: 2,000 nested parts raise
RecursionError), at most ``MAX_PARTS`` parts are read, none deeper than ``MAX_DEPTH``, and
header values are cut to ``MAX_HEADER_CHARS``. What is left out stays in the raw store, and
``ParsedMail.problems`` says so for staff.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

import re2  # type: ignore[import-untyped]

from intake.authresults import authentication_summary, header_values
from intake.bounces import original_message_ids
from intake.charsets import clean_text, decode_header_value, decode_with, text_charset
from intake.htmltext import html_to_text, meta_charset, rough_text, sanitise_html, too_complex
from intake.machine import machine_reason, no_auto_reply

# Single character classes between fixed characters: linear on any text.
_MSGID = re.compile(r"<[^<>\s]+>")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f/\\:*?\"<>|]+")

MAX_PARTS = 200  # parts read (text, HTML, attachments); the rest stay in the raw mail
MAX_DEPTH = 8  # nesting of multipart and forwarded-message parts that is read
MAX_CONTAINERS = 64  # multipart/message parts handed to the standard parser at all
MAX_DELIMITERS = 2 * MAX_PARTS + MAX_CONTAINERS  # lines starting with "--"
MAX_HEADER_CHARS = 16_384  # of one header value (an address, a subject, References)
MAX_LINES = 100_000  # above it, runs of blank lines are collapsed before parsing
_BLANK_RUN = re2.compile(rb"\r?\n(?:[ \t\r]*\n){2,}")  # RE2: linear (and fast) in any bytes
# Lines that open a part for the standard parser: a boundary line, or a Content-Type of a
# container (folded once at most: a deeper fold only escapes the count, never the caps,
# since the parse is degraded on RecursionError). One pass over the bytes.
_STRUCTURE = re.compile(
    rb"^(?:--|content-type:[ \t]*(?:\r?\n[ \t]+)?(multipart|message)/)", re.I | re.M)


@dataclass(frozen=True)
class MailPart:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    subject: str
    from_name: str
    from_email: str
    date: datetime | None
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str
    html: str | None
    attachments: tuple[MailPart, ...] = field(default=())
    machine_reason: str | None = None
    # Set for a human mail that asks for no auto-reply (X-Auto-Response-Suppress).
    no_auto_reply: str | None = None
    authentication: str | None = None  # "dkim=pass spf=fail dmarc=none"
    # Why From cannot be taken as written (two Froms, an address-like encoded name …):
    # such a mail may be a complaint, but never staff, an authority or a case's party.
    sender_unverified: str | None = None
    # The Authentication-Results headers as they came (bounded): whose they are is checked
    # against the trusted authserv-ids (intake.authresults.border_verdict).
    auth_results: tuple[str, ...] = ()
    # For a bounce: the Message-IDs of the mail it reports on.
    bounce_of: tuple[str, ...] = ()
    raw_message_id: str | None = None  # the header as it came, for the ledger index
    # What was not read and why (parts over the caps, HTML too complex): staff are told.
    problems: tuple[str, ...] = ()
    # The recipient headers as written (bounded): a reply token may be in a plus-address.
    addressed_to: tuple[str, ...] = ()


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse ``raw``; compat32 is used because it keeps raw header bytes we decode ourselves."""
    problems: list[str] = []
    msg = BytesParser(policy=policy.compat32).parsebytes(_bounded(raw, problems))
    text, html, attachments, charset = _walk(msg, problems)
    headers = _from_headers(msg, charset)
    return replace(
        headers, text=text, html=_sanitised(html, problems), attachments=tuple(attachments),
        bounce_of=original_message_ids(msg) if headers.machine_reason else (),
        problems=tuple(problems))


def _bounded(raw: bytes, problems: list[str]) -> bytes:
    """``raw`` cut before the part that would pass MAX_CONTAINERS or MAX_DELIMITERS, with
    runs of blank lines collapsed when it has more than MAX_LINES lines."""
    if raw.count(b"\n") > MAX_LINES:
        # The standard parser costs a Python call per line: a body of a million empty
        # lines took a second. Blank lines say nothing; one keeps the parts apart.
        raw = _BLANK_RUN.sub(b"\n\n", raw)
    containers = delimiters = 0
    for match in _STRUCTURE.finditer(raw):
        if match.group(1):
            containers += 1
        else:
            delimiters += 1
        if containers > MAX_CONTAINERS or delimiters > MAX_DELIMITERS:
            problems.append(
                f"more than {MAX_CONTAINERS} nested parts or {MAX_PARTS} parts: the mail is "
                f"read up to byte {match.start()}, the rest is in the raw mail only")
            return raw[:match.start()]
    return raw


def _limited(value: object) -> str:
    return str(value)[:MAX_HEADER_CHARS]


def _sanitised(html: str | None, problems: list[str]) -> str | None:
    if not html:
        return None
    why = too_complex(html)
    if why:
        problems.append(f"HTML body not kept for display ({why}); its text is kept")
        return None
    return sanitise_html(html)


def parse_headers(raw_headers: bytes) -> ParsedMail:
    """A ``ParsedMail`` from the headers alone (no text): for a mail whose body failed."""
    return _from_headers(
        BytesParser(policy=policy.compat32).parsebytes(raw_headers, headersonly=True))


def _from_headers(msg: Message, charset: str | None = None) -> ParsedMail:
    """What the headers say: sender, subject, thread, machine signs, authentication.

    ``charset`` is the charset of the message's text, for raw 8-bit header bytes.
    """
    name, address, unverified = _sender(msg, charset)
    return ParsedMail(
        subject=header(msg, "Subject", charset),
        from_name=name,
        from_email=address,
        sender_unverified=unverified,
        date=_date(msg),
        message_id=_first_msgid(msg.get("Message-ID")),
        in_reply_to=_first_msgid(msg.get("In-Reply-To")),
        references=tuple(_MSGID.findall(_limited(msg.get("References", "")))),
        text="",
        html=None,
        machine_reason=machine_reason(msg),
        no_auto_reply=no_auto_reply(msg),
        authentication=authentication_summary(msg),
        auth_results=header_values(msg),
        raw_message_id=clean_text(_limited(msg.get("Message-ID", "")).strip()) or None,
        addressed_to=_addressed_to(msg),
    )


_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to")


def _addressed_to(msg: Message) -> tuple[str, ...]:
    """The recipient headers as they came, at most 20 of them, each bounded."""
    found = [clean_text(_limited(str(value))) for key, value in msg.raw_items()
             if key.lower() in _RECIPIENT_HEADERS]
    return tuple(found[:20])


def header_message_id(raw_headers: bytes) -> str | None:
    """The Message-ID of a message of which only the headers are at hand."""
    msg = BytesParser(policy=policy.compat32).parsebytes(raw_headers, headersonly=True)
    return _first_msgid(msg.get("Message-ID"))


def header(msg: Message, name: str, charset: str | None = None) -> str:
    """The first ``name`` header, decoded from its raw form (8-bit bytes kept as surrogates);
    ``charset`` (the message text's) is the first guess for raw 8-bit bytes after UTF-8."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return decode_header_value(_limited(value), charset)
    return ""


# An address we take as written: one "@", no spaces, brackets or separators around it.
_ADDR_SPEC = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")


def _sender(msg: Message, charset: str | None = None) -> tuple[str, str, str | None]:
    """(display name, address, why the address is unverified or None).

    The address is read from the raw header, before any encoded word is decoded: an
    encoded display name (``=?utf-8?q?boss=40example.org?= <x@evil.example>``) must not
    become the address. Only the display name is decoded afterwards.
    """
    values = [value for key, value in msg.raw_items() if key.lower() == "from"]
    if not values:
        return "", "", None
    try:
        pairs = [(n, a) for n, a in getaddresses([_limited(values[0])]) if n or a]
    except (RecursionError, ValueError, IndexError):  # "((((…": the parser recurses per "("
        return "", "", None
    if not pairs:
        return "", "", None
    raw_name, address = pairs[0]
    name = decode_header_value(raw_name, charset).strip()
    if any("\udc80" <= ch <= "\udcff" for ch in address):
        address = decode_header_value(address, charset)  # raw 8-bit (UTF-8 mailbox names), not MIME
    address = address.strip().lower()
    if not address:
        return name, "", None
    return name, address, _unverified(len(values), len(pairs), raw_name, name, address)


def _unverified(headers: int, addresses: int, raw_name: str, name: str,
                address: str) -> str | None:
    """Why an address that parses still cannot be taken as the sender's, or None."""
    if headers > 1:
        return "several From headers"
    if addresses > 1:
        return "several addresses in From"
    if not _ADDR_SPEC.fullmatch(address):
        return "the From address does not parse"  # still a complaint; nobody is mailed
    if "=?" in raw_name and ("@" in name or "<" in name):
        return "an encoded display name in From holds an address"
    # Outlook writes the address itself as the name; another address there is a disguise.
    if any(found.lower() != address for found in _ADDR_SPEC.findall(name)):
        return "the display name in From holds another address"
    return None


def _date(msg: Message) -> datetime | None:
    try:
        value = parsedate_to_datetime(_limited(msg.get("Date", ""))[:200])
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo else None


def _first_msgid(value: object) -> str | None:
    if value is None:
        return None
    found = _MSGID.search(_limited(value))
    return found.group(0) if found else None


def _walk(msg: Message, problems: list[str]
          ) -> tuple[str, str | None, list[MailPart], str | None]:
    """(text, HTML, attachments, the charset of the first 8-bit text part or None)."""
    charset = _text_charset(msg)
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[MailPart] = []
    for part in _parts(msg, problems):
        if part.get_content_type() == "message/rfc822" and part is not msg:
            texts.append(_forwarded_banner(part, charset))
        if part.is_multipart():
            continue
        data = _payload(part)
        kind = part.get_content_type()
        if _is_attachment(part):
            attachments.append(MailPart(_filename(part, len(attachments), charset), kind, data))
        elif kind in ("text/plain", "text/html"):
            text, _codec = decode_with(data, _charset(part, data), charset)
            (texts if kind == "text/plain" else htmls).append(text)
        elif data:
            attachments.append(MailPart(_filename(part, len(attachments), charset), kind, data))
    html = "\n".join(htmls) or None
    text = "\n".join(t.strip() for t in texts) if texts else _html_text(html, problems)
    return clean_text(text), html, attachments, charset


def _payload(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _text_charset(msg: Message) -> str | None:
    """The charset the message's own text is in: that of its first text part with 8-bit
    bytes, as declared or (unlabelled or wrongly labelled) as read; else the first label
    of a 7-bit text part (ISO-2022-JP is 7-bit). A Big5 or Latin-1 body says what its raw
    8-bit subject and names are."""
    labelled = None
    for part in _parts(msg, []):
        if part.is_multipart() or part.get_content_type() not in ("text/plain", "text/html"):
            continue
        if _is_attachment(part):
            continue
        data = _payload(part)
        label = _charset(part, data)
        if not data.isascii():
            return text_charset(data, label, _raw_header(msg, "Subject"))
        labelled = labelled or label
    return labelled


def _raw_header(msg: Message, name: str) -> bytes:
    """The first ``name`` header as the bytes that came (8-bit bytes included)."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return _limited(value).encode("utf-8", errors="surrogateescape")
    return b""


def _parts(msg: Message, problems: list[str]) -> Iterator[Message]:
    """``msg.walk()`` (depth first, in order) without recursion, within the caps."""
    stack: list[tuple[Message, int]] = [(msg, 0)]
    read = 0
    while stack:
        part, depth = stack.pop()
        if read == MAX_PARTS:
            problems.append(f"more than {MAX_PARTS} parts: the rest are in the raw mail only")
            return
        read += 1
        yield part
        children = part.get_payload() if part.is_multipart() else []
        if not isinstance(children, list) or not children:
            continue
        if depth == MAX_DEPTH:
            problems.append(f"parts nested deeper than {MAX_DEPTH} are in the raw mail only")
            continue
        stack.extend((child, depth + 1) for child in reversed(children)
                     if isinstance(child, Message))


def _html_text(html: str | None, problems: list[str]) -> str:
    if not html:
        return ""
    if too_complex(html):
        return rough_text(html)  # _sanitised notes the problem
    return html_to_text(html)


def _forwarded_banner(part: Message, charset: str | None) -> str:
    """Who wrote a forwarded mail, and when: its text follows in the walk."""
    inner = part.get_payload()
    if not isinstance(inner, list) or not inner or not isinstance(inner[0], Message):
        return "---- 转发的邮件 / forwarded message ----"
    lines = ["---- 转发的邮件 / forwarded message ----"]
    for name in ("From", "Date", "Subject"):
        value = header(inner[0], name, charset)
        if value:
            lines.append(f"{name}: {value}")
    return "\n".join(lines)


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).lower()
    named = _param(part, "filename", "content-disposition") or _param(part, "name", "content-type")
    return disposition.startswith("attachment") or (
        bool(named) and part.get_content_maintype() != "text"
    )


def _filename(part: Message, index: int, charset: str | None = None) -> str:
    raw = (_param(part, "filename", "content-disposition", charset)
           or _param(part, "name", "content-type", charset))
    name = decode_header_value(raw[:MAX_HEADER_CHARS], charset) if raw else ""
    return safe_filename(name) or f"attachment-{index + 1}"


def _charset(part: Message, data: bytes = b"") -> str | None:
    """The part's declared charset; for HTML without one, its <meta> charset."""
    declared = _param(part, "charset", "content-type") or None
    if declared is None and part.get_content_type() == "text/html":
        return meta_charset(data)
    return declared


def _param(part: Message, name: str, header_name: str, charset: str | None = None) -> str:
    """A parameter of a part's header as text, its raw 8-bit bytes decoded like a header's.

    The standard library turns raw 8-bit bytes in a parameter into U+FFFD (病历.pdf sent
    raw by a Chinese client became ������.pdf) and runs an RFC 2231 value through whatever
    codec it names (``zlib``, ``idna``…). Here the raw header is decoded first, and an RFC
    2231 value goes through ``decode_with``, which accepts only real text charsets.
    """
    holder = Message()
    for key, raw in part.raw_items():
        if key.lower() == header_name:
            holder[key] = _eight_bit_text(_limited(raw), charset)
            break
    value = holder.get_param(name, header=header_name)
    if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded as Latin-1)
        label, _language, text = value
        if all(ord(ch) < 256 for ch in text):
            return decode_with(text.encode("latin-1"), str(label or "") or None)[0]
        return str(text)
    return str(value) if isinstance(value, str) else ""


def _eight_bit_text(raw: str, charset: str | None = None) -> str:
    """A raw header value with its 8-bit bytes (kept as surrogates) decoded to text."""
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        return decode_with(raw.encode("utf-8", errors="surrogateescape"), None, charset)[0]
    return raw


def safe_filename(name: str) -> str:
    """A file name with no path, no control characters and a sane length."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" .")
    return name[:200]
