"""Raw mail bytes → ``ParsedMail``: pure, no disk, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime

from intake.authresults import authentication_summary
from intake.bounces import original_message_ids
from intake.charsets import clean_text, decode_bytes, decode_header_value
from intake.htmltext import html_to_text, sanitise_html
from intake.machine import machine_reason, no_auto_reply

_MSGID = re.compile(r"<[^<>\s]+>")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f/\\:*?\"<>|]+")


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
    # For a bounce: the Message-IDs of the mail it reports on.
    bounce_of: tuple[str, ...] = ()
    raw_message_id: str | None = None  # the header as it came, for the ledger index


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse ``raw``; compat32 is used because it keeps raw header bytes we decode ourselves."""
    msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    name, address = _sender(msg)
    text, html, attachments = _walk(msg)
    machine = machine_reason(msg)
    return ParsedMail(
        subject=header(msg, "Subject"),
        from_name=name,
        from_email=address,
        date=_date(msg),
        message_id=_first_msgid(msg.get("Message-ID")),
        in_reply_to=_first_msgid(msg.get("In-Reply-To")),
        references=tuple(_MSGID.findall(str(msg.get("References", "")))),
        text=text,
        html=sanitise_html(html) if html else None,
        attachments=tuple(attachments),
        machine_reason=machine,
        no_auto_reply=no_auto_reply(msg),
        authentication=authentication_summary(msg),
        bounce_of=original_message_ids(msg) if machine else (),
        raw_message_id=clean_text(str(msg.get("Message-ID", "")).strip()) or None,
    )


def header_message_id(raw_headers: bytes) -> str | None:
    """The Message-ID of a message of which only the headers are at hand."""
    msg = BytesParser(policy=policy.compat32).parsebytes(raw_headers, headersonly=True)
    return _first_msgid(msg.get("Message-ID"))


def header(msg: Message, name: str) -> str:
    """The first ``name`` header, decoded from its raw form (8-bit bytes kept as surrogates)."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return decode_header_value(str(value))
    return ""


def _sender(msg: Message) -> tuple[str, str]:
    name, address = parseaddr(header(msg, "From"))
    return name.strip(), address.strip().lower()


def _date(msg: Message) -> datetime | None:
    try:
        value = parsedate_to_datetime(str(msg.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo else None


def _first_msgid(value: object) -> str | None:
    if value is None:
        return None
    found = _MSGID.search(str(value))
    return found.group(0) if found else None


def _walk(msg: Message) -> tuple[str, str | None, list[MailPart]]:
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[MailPart] = []
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822" and part is not msg:
            texts.append(_forwarded_banner(part))
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        kind = part.get_content_type()
        if _is_attachment(part):
            attachments.append(MailPart(_filename(part, len(attachments)), kind, data))
        elif kind == "text/plain":
            texts.append(decode_bytes(data, part.get_content_charset()))
        elif kind == "text/html":
            htmls.append(decode_bytes(data, part.get_content_charset()))
        elif data:
            attachments.append(MailPart(_filename(part, len(attachments)), kind, data))
    html = "\n".join(htmls) or None
    text = "\n".join(t.strip() for t in texts) if texts else html_to_text(html or "")
    return clean_text(text), html, attachments


def _forwarded_banner(part: Message) -> str:
    """Who wrote a forwarded mail, and when: its text follows in the walk."""
    inner = part.get_payload()
    if not isinstance(inner, list) or not inner or not isinstance(inner[0], Message):
        return "---- 转发的邮件 / forwarded message ----"
    lines = ["---- 转发的邮件 / forwarded message ----"]
    for name in ("From", "Date", "Subject"):
        value = header(inner[0], name)
        if value:
            lines.append(f"{name}: {value}")
    return "\n".join(lines)


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).lower()
    return disposition.startswith("attachment") or (
        part.get_filename() is not None and part.get_content_maintype() != "text"
    )


def _filename(part: Message, index: int) -> str:
    raw = part.get_filename()
    name = decode_header_value(str(raw)) if raw else ""
    return safe_filename(name) or f"attachment-{index + 1}"


def safe_filename(name: str) -> str:
    """A file name with no path, no control characters and a sane length."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" .")
    return name[:200]
