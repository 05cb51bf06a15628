"""``Inbound``: what intake hands to casework, whatever the channel.

Intake turns a raw mail or a hotline row into this plain value; casework never sees MIME
or spreadsheets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from casework.models import Case


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    size: int
    sha256: str
    refused: str | None = None  # why the bytes were not stored (then sha256 is "")


@dataclass(frozen=True)
class Inbound:
    channel: str  # "email" or "hotline"
    received_at: datetime
    subject: str
    text: str
    language: str = "zh"  # "zh" or "en"
    sender_name: str | None = None
    sender_email: str | None = None
    sender_phone: str | None = None
    anonymous: bool = False
    # Why the sender's address cannot be taken as written (intake read From as forged or
    # unclear): the item may open a case, but is never staff, an authority or a party of an
    # existing case, and nothing is mailed to the address it had to guess.
    sender_unverified: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    # To, Cc, Delivered-To and X-Original-To as written: a reply token may ride in the
    # plus-address of the intake address (routing.threads).
    addressed_to: tuple[str, ...] = ()
    raw_sha256: str | None = None
    raw_size: int = 0
    attachments: tuple[InboundAttachment, ...] = ()
    # A reference number given explicitly (a hotline row's 关联编号).
    reference_hint: str | None = None
    category_hint: str | None = None
    # Where it came from, for the timeline ("imap:reporting INBOX uid 42", "hotline a.csv row 3").
    origin: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def guess_language(text: str) -> str:
    """"zh" when the text has CJK ideographs, else "en" (complainants write in one or the other)."""
    # One character class, searched in C (linear: no pattern to backtrack), instead of a
    # Python loop over every character of an English text.
    return "zh" if _IDEOGRAPH.search(text) else "en"


_IDEOGRAPH = re.compile("[\u4e00-\u9fff\u3400-\u4dbf]")


@dataclass(frozen=True)
class Receipt:
    """What casework did with an ``Inbound``: opened a case or added to one."""

    # None only in a batch session (casework.db.start_batch) before its flush; ``case``
    # then gives the id once the batch is flushed.
    case_id: int | None
    reference: str
    outcome: str  # "case" (a new case) or "follow_up" (added to an existing case)
    case: Case | None = field(default=None, compare=False, repr=False)
