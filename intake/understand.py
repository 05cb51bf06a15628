"""A fetched mail → an ``Inbound`` for casework, or the reason it is set aside.

Every outcome carries its classification with the reason: a machine mail is ignored with
the rule that hit; a human mail records why it is one and whether it may be answered.

A complaint with a broken part is still a complaint: when understanding a mail raises,
whatever the error, the mail is read *degraded* (its headers if they parse, its raw text
decoded with replacement characters) and becomes a case flagged for staff
(``extra["parse_problems"]``) instead of going to quarantine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

import re2  # type: ignore[import-untyped]

from casework.inbound import Inbound, InboundAttachment, guess_language
from casework.quotes import strip_quoted
from casework.rawstore import sha256_hex
from intake.authresults import border_verdict
from intake.biglinks import large_file_links
from intake.bounces import quotes_our_loop_header
from intake.charsets import clean_text
from intake.ledger import SourceItem, Understood
from intake.mail import MailPart, ParsedMail, parse_headers, parse_mail
from intake.threading_hints import reference_hint

log = logging.getLogger("complaintd.intake")
MAX_DEGRADED_TEXT = 1 << 20  # bytes of a broken mail's body shown as its text

_REPLY_PREFIX = ("re:", "re：", "回复", "答复", "aw:", "sv:")


@dataclass(frozen=True)
class MailUnderstanding:
    """The mail parser with its limits (a ``Parser`` for the ledger)."""

    max_attachment_bytes: int = 30 * 1024 * 1024
    # Attachments kept as files, by count and by total size (intake.max_attachments…):
    # the rest stay in the raw mail, are listed as not kept, and staff are told.
    max_attachments: int = 100
    max_attachments_total_bytes: int = 100 * 1024 * 1024
    # The authserv-ids our own receiving servers write (intake.trusted_authserv_ids): only
    # their Authentication-Results count; empty: nobody's, and staff see the topmost.
    trusted_authserv_ids: frozenset[str] = frozenset()

    def __call__(self, item: SourceItem, digest: str, now: datetime) -> Understood:
        try:
            return self._understood(item, parse_mail(item.raw), digest, now)
        except Exception as exc:  # any error in reading a stranger's bytes: read it degraded
            log.warning("intake %s: mail read degraded (%s)", item.location,
                        type(exc).__name__)
            # The message may quote the mail's text: the traceback only at DEBUG.
            log.debug("intake %s: degraded parse", item.location, exc_info=exc)
            return self._understood(item, degraded_parse(item.raw, exc), digest, now)

    def _understood(self, item: SourceItem, parsed: ParsedMail, digest: str,
                    now: datetime) -> Understood:
        if parsed.machine_reason:
            reason = parsed.machine_reason
            if not parsed.bounce_of and quotes_our_loop_header(item.raw):
                reason += "; it quotes our X-Complaintd-Loop header (our mail, case unknown)"
            return Understood(ignore=reason, message_id=parsed.message_id,
                              bounce_of=parsed.bounce_of)
        if not parsed.from_email:
            return Understood(ignore="no sender address to answer", message_id=parsed.message_id)
        refusals = self._refusals(parsed.attachments)
        capped = [r for r in refusals if r and not r.startswith("over the limit of")]
        if capped:
            parsed = replace(parsed, problems=(*parsed.problems, capped[0]))
        kept = [a.data for a, refused in zip(parsed.attachments, refusals, strict=True)
                if refused is None]
        inbound = self.to_inbound(parsed, item, digest, now, refusals)
        return Understood(inbound=inbound, message_id=parsed.message_id, blobs=tuple(kept))

    def _refusals(self, parts: tuple[MailPart, ...]) -> list[str | None]:
        """Why each attachment is not kept as a file (None: kept), in the mail's order.

        100,000 tiny parts must not become 100,000 files, nor a few large ones fill the
        disk: past ``max_attachments`` files or ``max_attachments_total_bytes`` together,
        an attachment stays in the raw mail only.
        """
        refusals: list[str | None] = []
        kept = total = 0
        for part in parts:
            size = len(part.data)
            if size > self.max_attachment_bytes:
                refusals.append(f"over the limit of {self.max_attachment_bytes} bytes")
            elif kept >= self.max_attachments:
                refusals.append(f"more than {self.max_attachments} attachments: the rest are "
                                "in the raw mail only")
            elif total + size > self.max_attachments_total_bytes:
                refusals.append(f"attachments over {self.max_attachments_total_bytes} bytes "
                                "together: the rest are in the raw mail only")
            else:
                kept += 1
                total += size
                refusals.append(None)
        return refusals

    def to_inbound(self, parsed: ParsedMail, item: SourceItem, digest: str,
                   now: datetime, refusals: list[str | None] | None = None) -> Inbound:
        arrived = item.arrived_at if item.arrived_at and item.arrived_at <= now else now
        subject = parsed.subject or "(无主题)"
        reply = _is_reply(parsed)
        return Inbound(
            channel="email",
            received_at=arrived,
            subject=subject,
            # A reply's case text is the new part; the full message stays in the raw store.
            text=strip_quoted(parsed.text) if reply else parsed.text,
            language=guess_language(subject + parsed.text),
            sender_name=greeting_name(parsed.from_name),
            sender_email=parsed.from_email,
            sender_unverified=parsed.sender_unverified,
            message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to,
            references=parsed.references,
            addressed_to=parsed.addressed_to,
            raw_sha256=digest,
            raw_size=len(item.raw),
            attachments=tuple(self._attachment(a, refused) for a, refused in zip(
                parsed.attachments, refusals or self._refusals(parsed.attachments),
                strict=True)),
            reference_hint=reference_hint(subject),
            origin=item.location,
            extra={**_extra(parsed, reply), **self._border(parsed)},
        )

    def _border(self, parsed: ParsedMail) -> dict[str, str]:
        """What our own border proved about the sender, when a border is configured.

        ``authentication_border``: "aligned-pass" (DMARC, or DKIM aligned with the From
        domain, passed) or "unproven"; read by routing before it obeys a staff command.
        """
        if not self.trusted_authserv_ids:
            return {}
        verdict = border_verdict(parsed.auth_results, parsed.from_email,
                                 self.trusted_authserv_ids)
        # A header from anyone else is not shown as if it were ours.
        return {"authentication_border": "aligned-pass" if verdict.aligned_pass else "unproven",
                "authentication": verdict.summary or "no result from our own servers"}

    def _attachment(self, part: MailPart, refused: str | None) -> InboundAttachment:
        size = len(part.data)
        if refused is not None:
            return InboundAttachment(part.filename, part.content_type, size, "", refused=refused)
        return InboundAttachment(part.filename, part.content_type, size, sha256_hex(part.data))


understand_mail = MailUnderstanding()


def _is_reply(parsed: ParsedMail) -> bool:
    subject = parsed.subject.strip().lower()
    return bool(parsed.in_reply_to or parsed.references) or subject.startswith(_REPLY_PREFIX)


def degraded_parse(raw: bytes, exc: BaseException) -> ParsedMail:
    """What can be read of a mail whose parse failed: headers when they parse, the text raw.

    Only the exception's type is recorded: its message may quote the mail.
    """
    problem = (f"the mail could not be read in full ({type(exc).__name__}); its text is "
               "shown as received, the raw mail is in the raw store")
    head, _sep, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else \
        raw.partition(b"\n\n")
    try:
        headers = parse_headers(head + b"\n\n")
    except Exception:  # not even the headers: a case without a sender is set aside
        headers = ParsedMail(subject="", from_name="", from_email="", date=None,
                             message_id=None, in_reply_to=None, references=(), text="",
                             html=None)
    text = clean_text(body[:MAX_DEGRADED_TEXT].decode("utf-8", errors="replace"))
    return replace(headers, text=text, html=None, attachments=(), bounce_of=(),
                   problems=(*headers.problems, problem))


# A display name is a stranger's text that our acknowledgement would repeat in its
# greeting: a link or a domain in it would make us a mailer of the stranger's advert.
_LINKISH = re2.compile(r"(?i)\S*://\S*|www\.\S+|\S+\.[a-z]{2,24}(?:/\S*)?")
MAX_NAME = 64


def greeting_name(name: str) -> str | None:
    """The sender's display name fit to greet: links and domains left out, cut to 64."""
    kept = " ".join(_LINKISH.sub(" ", name).split())
    return kept[:MAX_NAME].strip() or None


def _extra(parsed: ParsedMail, reply: bool) -> dict[str, str]:
    extra = {"classification": _classification(parsed, reply)}
    if parsed.problems:
        # Read by the pipeline to flag the case for staff, with the reasons on its timeline.
        extra["parse_problems"] = "\n".join(parsed.problems)
    if parsed.html:
        extra["html"] = parsed.html
    if parsed.authentication:
        extra["authentication"] = parsed.authentication
    if parsed.no_auto_reply:
        extra["no_auto_reply"] = parsed.no_auto_reply
    links = large_file_links(parsed.text, parsed.html)
    if links:
        extra["large_file_links"] = "\n".join(links)
    if any(a.content_type == "application/ms-tnef" for a in parsed.attachments):
        # No permissively licensed TNEF decoder exists (tnefparse is LGPL): kept as a file.
        extra["tnef"] = "winmail.dat kept undecoded"
    return extra


def _classification(parsed: ParsedMail, reply: bool) -> str:
    why = "person: no machine rule matched"
    if reply:
        why += "; a reply (quoted history stripped for the case text)"
    if parsed.no_auto_reply:
        why += f"; {parsed.no_auto_reply}"
    if parsed.problems:
        why += "; read in part: " + "; ".join(parsed.problems)
    return why
