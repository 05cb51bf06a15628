"""Queueing mail: the whole message is built now and stored as one outbox row.

``queue_mail`` runs inside the caller's transaction, so the mail exists exactly when the
change that caused it does. The message is final when queued (headers, Message-ID, date),
so what is sent later is what was promised, and a retry sends the same bytes.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
import secrets
import uuid
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import base64mime, quoprimime
from email import errors as email_errors
from email.charset import Charset
from email.headerregistry import Address
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.policy import Compat32
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any, Literal
from weakref import WeakValueDictionary

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.clock import SHANGHAI
from casework.db import give_id
from casework.models import Case
from notifications.encoded_words import encoded
from notifications.models import OutboxMail, OutboxStatus

logger = logging.getLogger("complaintd.outbox")

# Intake drops inbound mail that carries this header with our domain: our own mail
# coming back (a forward, a misconfigured alias) must never open a case or get a reply.
LOOP_HEADER = "X-Complaintd-Loop"

AutoSubmitted = Literal["auto-replied", "auto-generated", "no"]

# Non-ASCII bodies go out as base64 or quoted-printable, so a relay without 8BITMIME
# takes them unchanged and the stored bytes are exactly the bytes sent.
class _WirePolicy(Compat32):
    """compat32 with CRLF that writes a short ASCII header line as it is: every value built
    here is ASCII already (RFC 2047 words, IDNA domains), and folding each one again
    through ``email.header`` costs more than building the whole message."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if isinstance(value, str) and value.isascii() and "\n" not in value \
                and len(name) + len(value) + 2 <= 78:
            return f"{name}: {value}{self.linesep}".encode("ascii")
        if self is _WIRE and isinstance(value, str):
            if _folded_already(name, value):
                # Encoded words one a line (a long Subject): compat32 would keep each line.
                lines = value.replace("\n", self.linesep)
                return f"{name}: {lines}{self.linesep}".encode("ascii")
            return _fold_again(name, value)
        return super().fold_binary(name, value)


_MAX_LINE = 78  # compat32's max_line_length


def _folded_already(name: str, value: str) -> bool:
    """Whether compat32 would write ``value`` line for line as it is: ASCII lines that
    fit, with no space in them but the one that starts each continuation line (as
    ``notifications.encoded_words`` writes them; ``tests/test_encoded_words.py``)."""
    if not value.isascii() or "\r" in value:
        return False
    first, *rest = value.split("\n")
    return (bool(first) and not any(c.isspace() for c in first)
            and len(name) + 2 + len(first) <= _MAX_LINE
            and all(len(line) <= _MAX_LINE and line[:1] == " "
                    and len(line) > 1 and not any(c.isspace() for c in line[1:])
                    for line in rest))


@functools.lru_cache(maxsize=1024)
def _fold_again(name: str, value: str) -> bytes:
    """A long header folded by compat32 (``Header``'s folding is slow): the From line and
    the staff's To lines come again in every batch, so each is folded once."""
    return Compat32.fold_binary(_WIRE, name, value)


_WIRE = _WirePolicy(linesep="\r\n")
# Headers in whichever of B or Q encoding is shorter (bodies: base64).
_UTF8 = Charset("utf-8")
_MSG_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
# Long threads would grow References without end; keep the root and the latest ones.
_MAX_REFERENCES = 10
_SUBJECT_COLUMN = 998
# An ASCII dot-atom address (RFC 5322), which is nearly every address.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_PLAIN_ADDRESS = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@({_LABEL}(?:\.{_LABEL})*)")
# Unicode categories Cc (control), Zl and Zp (line and paragraph separators), exactly.
_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_UNFLUSHED_KEY = "complaintd.outbox_unflushed"


class InvalidRecipient(ValueError):
    """The recipient is not one usable mailbox (nothing is queued)."""


@dataclass(frozen=True)
class MailIdentity:
    """Who our mail comes from and where replies go (the intake mailbox)."""

    from_address: str
    from_name: str
    reply_to: str
    message_id_domain: str
    # The reply token of a mail that invites an answer (routing.threads): the mail carries
    # it in the Reply-To plus-address, a subject tag and its Message-ID, so a reply brings
    # it back in whichever of them the recipient's mail program keeps.
    thread_token: str | None = None
    # False when the intake address's server cannot take ``user+tag@`` (the token then
    # rides only in the subject tag and the Message-ID).
    plus_address: bool = True


def queue_mail(
    session: Session,
    *,
    dedup_key: str,
    case_id: int | None,
    kind: str,
    recipient: str,
    recipient_name: str | None,
    subject: str,
    text: str,
    html: str | None,
    identity: MailIdentity,
    now: datetime,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto_submitted: AutoSubmitted = "auto-replied",
    new_case: Case | None = None,
) -> OutboxMail:
    """Queue one mail in the caller's transaction; the same ``dedup_key`` queues it once.

    ``new_case``: the mail is for this case, which is not in the database yet (a batch
    flushes it later), so nothing can be queued under its keys yet.

    ``in_reply_to`` is appended to ``references`` (the thread as the recipient will see it).
    Raises ``InvalidRecipient`` when ``recipient`` is not a single usable address.
    """
    existing = find_queued(session, dedup_key, unflushed_only=new_case is not None)
    if existing is not None:
        return existing
    to = mailbox(recipient, recipient_name)
    message_id, raw = message_bytes(
        to=to,
        subject=subject,
        text=text,
        html=html,
        identity=identity,
        now=now,
        in_reply_to=_first_msg_id(in_reply_to or ""),
        references=_thread_ids(in_reply_to, references),
        auto_submitted=auto_submitted,
    )
    row = OutboxMail(
        dedup_key=dedup_key,
        case_id=case_id,
        kind=kind,
        recipient=to.addr_spec,
        sender=identity.from_address,
        subject=header_text(subject)[:_SUBJECT_COLUMN],
        message_id=message_id,
        raw=raw,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
    )
    _unflushed(session)[dedup_key] = row
    if new_case is None:
        return _insert_once(session, row)
    row.case = new_case
    session.add(row)
    give_id(session, row)  # its id, as a flush would give it (a timeline event names it)
    return row


def _unflushed(session: Session) -> MutableMapping[str, OutboxMail]:
    """This session's queued rows by key; only those still pending count.

    A batch queues a thousand mails before it flushes: looking for a key among all the
    session's new objects each time would cost the square of that."""
    index: MutableMapping[str, OutboxMail] | None = session.info.get(_UNFLUSHED_KEY)
    if index is None:
        index = session.info[_UNFLUSHED_KEY] = WeakValueDictionary()
    return index


def find_queued(session: Session, dedup_key: str, *,
                unflushed_only: bool = False) -> OutboxMail | None:
    """The row queued under ``dedup_key``, including one added to this session unflushed.

    ``unflushed_only``: the key belongs to a case not in the database yet, so only this
    session's new rows can hold it.
    """
    row = _unflushed(session).get(dedup_key)
    if row is not None and inspect(row).pending:
        return row
    if unflushed_only:
        return None
    return session.scalar(select(OutboxMail).where(OutboxMail.dedup_key == dedup_key))


def _insert_once(session: Session, row: OutboxMail) -> OutboxMail:
    # The lookup above misses a row another transaction is inserting right now; the unique
    # key catches that, and the savepoint keeps the caller's transaction usable.
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = find_queued(session, row.dedup_key)
        if existing is None:
            raise
        return existing
    logger.info("outbox: queued %s mail %s", row.kind, row.id)
    return row


def build_message(
    *,
    to: Address,
    subject: str,
    text: str,
    html: str | None,
    identity: MailIdentity,
    now: datetime,
    in_reply_to: str | None,
    references: Sequence[str],
    auto_submitted: AutoSubmitted,
    message_id: str | None = None,
    boundary: str | None = None,
) -> Message:
    """The complete RFC 5322 message; header values are made single-line here.

    Built with the stdlib's compat32 classes (``email.mime``, ``email.header``): they encode
    and fold exactly as a receiver needs, at a tenth of the cost of the modern
    header registry, which parses every header again while building and again while
    writing (about 7 ms a mail, most of the cost of taking a complaint in).
    ``message_bytes`` writes the same message's bytes without building it.
    """
    body = _text_part(text, "plain")
    message: Message = body
    if html is not None:
        message = MIMEMultipart("alternative", boundary=boundary or _boundary(),
                                _subparts=[body, _text_part(html, "html")])
    for name, value in _headers(
            to=to, subject=subject, identity=identity, now=now,
            message_id=message_id or _message_id(identity.message_id_domain,
                                                identity.thread_token),
            in_reply_to=in_reply_to, references=references, auto_submitted=auto_submitted):
        message[name] = value
    return message


def message_bytes(
    *,
    to: Address,
    subject: str,
    text: str,
    html: str | None,
    identity: MailIdentity,
    now: datetime,
    in_reply_to: str | None,
    references: Sequence[str],
    auto_submitted: AutoSubmitted,
    message_id: str | None = None,
    boundary: str | None = None,
) -> tuple[str, bytes]:
    """The Message-ID and the bytes of ``wire_bytes(build_message(...))``, written
    directly: the message objects, built only to be written out at once, were half the
    cost of queueing a mail (``tests/test_wire_bytes.py`` compares the two)."""
    message_id = message_id or _message_id(identity.message_id_domain, identity.thread_token)
    headers = _headers(
        to=to, subject=subject, identity=identity, now=now, message_id=message_id,
        in_reply_to=in_reply_to, references=references, auto_submitted=auto_submitted)
    if html is None:
        return message_id, (_TEXT_HEAD["plain"] + _folded(headers) + b"\r\n"
                            + _base64_lines(text))
    mark = (boundary or _boundary()).encode("ascii")
    head = _multipart_head(mark) + _folded(headers)
    return message_id, b"".join((
        head, b"\r\n--", mark, b"\r\n",
        _TEXT_HEAD["plain"], b"\r\n", _base64_lines(text), b"\r\n--", mark, b"\r\n",
        _TEXT_HEAD["html"], b"\r\n", _base64_lines(html), b"\r\n--", mark, b"--\r\n"))


def _multipart_head(mark: bytes) -> bytes:
    """The multipart's Content-Type and MIME-Version lines. Its Content-Type is too long
    for one line: a boundary of ours (``_boundary``) folds exactly as the sample one, since
    hex digits are never where compat32 folds, so only the boundary is put in."""
    if _OUR_BOUNDARY.fullmatch(mark):
        return _MULTIPART_HEAD.replace(_SAMPLE_BOUNDARY, mark)
    return _folded([("Content-Type", f'multipart/alternative; boundary="{mark.decode()}"'),
                    ("MIME-Version", "1.0")])


def _boundary() -> str:
    # The parts are base64, whose alphabet has no "_": this boundary cannot occur in
    # them, so the generator need not search the text for a safe one (a regex a mail).
    return f"=_{uuid.uuid4().hex}"


def _headers(
    *,
    to: Address,
    subject: str,
    identity: MailIdentity,
    now: datetime,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    auto_submitted: AutoSubmitted,
) -> list[tuple[str, str]]:
    """The message's own headers, in order, after its Content-Type and MIME-Version."""
    token = identity.thread_token
    headers = [
        ("From", _address(header_text(identity.from_name), identity.from_address)),
        ("To", _address(to.display_name, to.addr_spec)),
        ("Subject", _header(header_text(f"{subject} [{token}]" if token else subject))),
        ("Date", _date(now)),
        ("Message-ID", message_id),
    ]
    if in_reply_to:
        headers.append(("In-Reply-To", in_reply_to))
    if references:
        headers.append(("References", " ".join(references)))
    headers.append(("Reply-To", plus_address(identity.reply_to, token)
                    if token and identity.plus_address else identity.reply_to))
    # RFC 3834 for well-behaved responders; X-Auto-Response-Suppress stops Exchange
    # out-of-office replies; Precedence is what older vacation programs look at.
    headers.append(("Auto-Submitted", auto_submitted))
    headers.append(("X-Auto-Response-Suppress", "All"))
    if auto_submitted == "auto-replied":
        headers.append(("Precedence", "auto_reply"))
    headers.append((LOOP_HEADER, identity.message_id_domain))
    return headers


def _folded(headers: Iterable[tuple[str, str]]) -> bytes:
    return b"".join(_WIRE.fold_binary(name, value) for name, value in headers)


def _base64_lines(text: str) -> bytes:
    """A text part's body as the generator writes ``_text_part``'s: base64, CRLF."""
    return base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")


@functools.lru_cache(maxsize=256)  # a batch's mails share a few moments
def _date(now: datetime) -> str:
    return format_datetime(now.astimezone(SHANGHAI))


def _message_id(domain: str, token: str | None) -> str:
    if token is None:
        return make_msgid(domain=domain)
    # Unguessable from ``secrets`` (make_msgid uses the random module) and carrying the token.
    return f"<{token}.{secrets.token_hex(6)}@{domain}>"


def plus_address(address: str, tag: str) -> str:
    """``user+tag@domain`` for ``user@domain`` (a display name kept)."""
    parts = _address_parts(address)
    if parts is None:
        return address
    name, user, domain = parts
    tagged = f"{user}+{tag}@{domain}"
    return formataddr((name, tagged)) if name else tagged


@functools.lru_cache(maxsize=64)  # our own Reply-To, the same for every mail
def _address_parts(address: str) -> tuple[str, str, str] | None:
    name, addr = parseaddr(address)
    user, at, domain = addr.rpartition("@")
    return (name, user, domain) if at else None


def _text_part(text: str, subtype: str) -> Message:
    """What ``MIMEText(text, subtype, "utf-8")`` gives, without its header-parameter
    parsing, which cost more than encoding the text."""
    part = Message()
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["MIME-Version"] = "1.0"
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(text.encode("utf-8")).decode("ascii"))
    return part


_OUR_BOUNDARY = re.compile(rb"=_[0-9a-f]{32}")
_SAMPLE_BOUNDARY = b"=_" + b"0" * 32
_MULTIPART_HEAD = _folded([
    ("Content-Type", f'multipart/alternative; boundary="{_SAMPLE_BOUNDARY.decode()}"'),
    ("MIME-Version", "1.0")])
# The header block of each kind of text part, as the generator writes it.
_TEXT_HEAD = {subtype: _folded(_text_part("", subtype).raw_items())
              for subtype in ("plain", "html")}


def wire_bytes(message: Message) -> bytes:
    """The message as stored and sent: CRLF line ends, 7-bit transfer encodings."""
    flat = _flat(message)
    return flat if flat is not None else message.as_bytes(policy=_WIRE)


def _flat(message: Message) -> bytes | None:
    """What ``message.as_bytes(policy=_WIRE)`` gives, for the messages built here (ASCII
    text parts, a multipart with its boundary set and no preamble); None for anything
    else. The generator's general machinery (a buffer and a clone per part, dispatch by
    content type) cost more than the rest of queueing a mail."""
    head = b"".join(_WIRE.fold_binary(name, value) for name, value in message.raw_items())
    if not message.is_multipart():
        payload = message.get_payload()
        if not isinstance(payload, str) or not payload.isascii() or "\r" in payload:
            return None
        # The generator's line by line CRLF, for text without CR.
        return head + b"\r\n" + payload.replace("\n", "\r\n").encode("ascii")
    parts = message.get_payload()
    boundary = message.get_boundary()
    if not parts or not boundary or not isinstance(parts, list) \
            or message.preamble is not None or message.epilogue is not None:
        return None
    texts = [_flat(part) if isinstance(part, Message) else None for part in parts]
    if any(text is None for text in texts):
        return None
    mark = boundary.encode("ascii")
    body = b"--" + mark + b"\r\n" + b"".join(
        (b"\r\n--" + mark + b"\r\n" if i else b"") + text
        for i, text in enumerate(texts) if text is not None)
    return head + b"\r\n" + body + b"\r\n--" + mark + b"--\r\n"


@functools.lru_cache(maxsize=64)  # the From line is the same for every mail
def _address(name: str, address: str) -> str:
    # formataddr quotes a name with specials and RFC 2047-encodes a non-ASCII one.
    return formataddr((name, address), charset=_UTF8) if name else address


# What fits in the first line of "Subject: " as one encoded word: 76 columns less the
# name and its colon and space (9) and the word's "=?utf-8?b?" and "?=" (12).
_ONE_WORD = 76 - len("Subject: ") - len("=?utf-8?b??=")


def _header(value: str) -> str:
    """The Subject as ``email.header.Header`` encodes it. A subject that fits in one
    encoded word is that word, in base64 or, when not longer, quoted-printable (as
    ``Header`` chooses); written here because ``Header`` measures the text again after
    every character it adds. Longer ones (a reply token makes most subjects longer) are
    split as ``Header`` splits them (``notifications.encoded_words``)."""
    if value.isascii():
        return value
    data = value.encode("utf-8")
    b_length, q_length = base64mime.header_length(data), quoprimime.header_length(data)
    if min(b_length, q_length) <= _ONE_WORD:
        encoder = base64mime if b_length < q_length else quoprimime
        return str(encoder.header_encode(data, charset="utf-8"))
    return encoded(value, "Subject")


def mailbox(address: str, name: str | None) -> Address:
    """``address`` as one mailbox with ``name`` shown; raises ``InvalidRecipient``."""
    try:
        username, domain = _split_address(header_text(address))
        domain = domain.encode("idna").decode("ascii")
    except (ValueError, IndexError, UnicodeError, email_errors.MessageError) as exc:
        raise InvalidRecipient(f"not a single mailbox: {type(exc).__name__}") from exc
    if not username or not domain:
        raise InvalidRecipient("not a single mailbox: empty local part or domain")
    # The envelope is plain ASCII (no SMTPUTF8): an internationalised domain goes as IDNA.
    return Address(display_name=header_text(name or ""), username=username, domain=domain)


def _split_address(address: str) -> tuple[str, str]:
    plain = _PLAIN_ADDRESS.fullmatch(address)
    if plain is not None:  # what the parser would give, at a tenth of its cost
        return plain.group(1), plain.group(2)
    parsed = Address(addr_spec=address)
    return parsed.username, parsed.domain


def header_text(value: str) -> str:
    """``value`` as one header line: line breaks and control characters become spaces.

    Text from a complainant (a name, a subject) must never start a header of its own.
    """
    return " ".join(_BREAKS.sub(" ", value).split())


def _first_msg_id(value: str) -> str | None:
    found = _MSG_ID.findall(header_text(value))
    return found[0] if found else None


def _thread_ids(in_reply_to: str | None, references: Iterable[str]) -> list[str]:
    """Well-formed Message-IDs of the thread, oldest first, each once, ``in_reply_to`` last."""
    found: list[str] = []
    for value in [*references, in_reply_to or ""]:
        for msg_id in _MSG_ID.findall(header_text(value)):
            if msg_id in found:
                found.remove(msg_id)
            found.append(msg_id)
    if len(found) > _MAX_REFERENCES:
        found = [found[0], *found[-(_MAX_REFERENCES - 1) :]]
    return found
