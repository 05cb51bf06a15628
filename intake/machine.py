"""Is this mail from a machine (auto-reply, bounce, list) that must never be answered?

Each rule returns a reason that is stored with the item, so staff can see why a mail
did not become a case. ``X-Auto-Response-Suppress`` is not among them: it asks for no
auto-reply, but a person may well have written the mail (``no_auto_reply`` tells).
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message

import re2  # type: ignore[import-untyped]

LOOP_HEADER = "X-Complaintd-Loop"

Rule = Callable[[Message], str | None]

# On RE2 (google-re2) like every pattern run on a stranger's text: linear in the text.
# ``_S`` is Python's \s (RE2's is ASCII only).
_S = r"[\s\pZ]"
_DAEMONS = re2.compile(r"(?i)\b(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@")
# Subjects that webmail auto-replies use when they set no header at all (QQ, 163, Outlook).
_AUTO_SUBJECT = re2.compile(
    r"(?i)^" + _S + r"*(自动回复|自动答复|auto(matic)?[ -]?(reply|response)|auto:"
    r"|out of (the )?office"
    r"|undeliverable|undelivered mail|delivery status notification|non-delivery report"
    r"|mail delivery failed|delayed message|returned mail|failure notice|系统退信|退信)")
_DAEMON_NAMES = re2.compile(
    r"(?i)^" + _S + r"*\"?(mailer-daemon|mail delivery (subsystem|system))\b")


def _own_loop(msg: Message) -> str | None:
    return "our own outbound mail (loop header)" if msg.get(LOOP_HEADER) else None


def _auto_submitted(msg: Message) -> str | None:
    value = str(msg.get("Auto-Submitted", "")).strip().lower()
    if value and not value.startswith("no"):
        return f"Auto-Submitted: {value.split(';')[0]} (RFC 3834)"
    return None


def _delivery_report(msg: Message) -> str | None:
    if msg.get_content_type() == "multipart/report":
        kind = msg.get_param("report-type") or "report"
        return f"delivery or disposition report (multipart/report; {kind}, RFC 3464)"
    if msg.get_content_type() in {"message/delivery-status", "message/disposition-notification"}:
        return f"{msg.get_content_type()} (RFC 3464/8098)"
    return None


def _null_sender(msg: Message) -> str | None:
    if str(msg.get("Return-Path", "")).strip().replace(" ", "") == "<>":
        return "null return path (bounce, RFC 5321)"
    sender = str(msg.get("From", ""))
    if _DAEMONS.search(sender) or _DAEMONS.search(str(msg.get("Sender", ""))) \
            or _DAEMON_NAMES.match(sender):
        return "mailer-daemon sender"
    return None


def _bulk(msg: Message) -> str | None:
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe", "List-Post", "List-Help", "X-Mailing-List"):
        if msg.get(name):
            return f"mailing-list header ({name})"
    return None


def _autoreply_headers(msg: Message) -> str | None:
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-AutoReply-From",
                 "X-Mail-Autoreply", "X-FC-MachineGenerated"):
        if msg.get(name):
            return f"{name} header"
    return None


def _autoreply_subject(msg: Message) -> str | None:
    from intake.charsets import decode_header_value  # local: charsets imports nothing of ours

    subject = decode_header_value(str(msg.get("Subject", "")))
    match = _AUTO_SUBJECT.match(subject)
    return f"auto-reply subject ({str(match.group(1)).rstrip(':')})" if match else None


RULES: tuple[Rule, ...] = (
    _own_loop,
    _auto_submitted,
    _delivery_report,
    _null_sender,
    _bulk,
    _autoreply_headers,
    _autoreply_subject,
)


def machine_reason(msg: Message) -> str | None:
    """The reason ``msg`` is machine-made, or None for a mail a person wrote."""
    for rule in RULES:
        reason = rule(msg)
        if reason:
            return reason
    return None


def no_auto_reply(msg: Message) -> str | None:
    """Why no acknowledgement may go to this (human) mail, or None."""
    value = str(msg.get("X-Auto-Response-Suppress", "")).strip()
    if value and value.lower() != "none":
        return f"X-Auto-Response-Suppress: {value} (no auto-reply; still a case)"
    return None
