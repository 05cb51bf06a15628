"""A fetched mail → an ``Inbound`` for casework, or the reason it is set aside."""

from __future__ import annotations

from datetime import datetime

from casework.inbound import Inbound, InboundAttachment, guess_language
from casework.rawstore import sha256_hex
from intake.ledger import SourceItem, Understood
from intake.mail import ParsedMail, parse_mail


def understand_mail(item: SourceItem, digest: str, now: datetime) -> Understood:
    parsed = parse_mail(item.raw)
    if parsed.machine_reason:
        return Understood(ignore=parsed.machine_reason, message_id=parsed.message_id)
    if not parsed.from_email:
        return Understood(ignore="no sender address to answer", message_id=parsed.message_id)
    return Understood(inbound=to_inbound(parsed, item, digest, now), message_id=parsed.message_id,
                      blobs=tuple(a.data for a in parsed.attachments))


def to_inbound(parsed: ParsedMail, item: SourceItem, digest: str, now: datetime) -> Inbound:
    arrived = item.arrived_at if item.arrived_at and item.arrived_at <= now else now
    subject = parsed.subject or "(无主题)"
    return Inbound(
        channel="email",
        received_at=arrived,
        subject=subject,
        text=parsed.text,
        language=guess_language(subject + parsed.text),
        sender_name=parsed.from_name or None,
        sender_email=parsed.from_email,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        raw_sha256=digest,
        raw_size=len(item.raw),
        attachments=tuple(
            InboundAttachment(a.filename, a.content_type, len(a.data), sha256_hex(a.data))
            for a in parsed.attachments
        ),
        origin=item.location,
    )
