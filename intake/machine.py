"""Is this mail from a machine (auto-reply, bounce, list) that must never be answered?

Each rule returns a reason that is stored with the item, so staff can see why a mail
did not become a case.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message

LOOP_HEADER = "X-Complaintd-Loop"

Rule = Callable[[Message], str | None]


def _own_loop(msg: Message) -> str | None:
    return "our own outbound mail (loop header)" if msg.get(LOOP_HEADER) else None


def _auto_submitted(msg: Message) -> str | None:
    value = str(msg.get("Auto-Submitted", "")).strip().lower()
    if value and value != "no":
        return f"Auto-Submitted: {value} (RFC 3834)"
    return None


def _delivery_report(msg: Message) -> str | None:
    if msg.get_content_type() == "multipart/report":
        return "delivery or disposition report (multipart/report, RFC 3464)"
    return None


def _null_sender(msg: Message) -> str | None:
    if str(msg.get("Return-Path", "")).strip() == "<>":
        return "null return path (bounce)"
    sender = str(msg.get("From", "")).lower()
    if "mailer-daemon@" in sender or "postmaster@" in sender:
        return "mailer-daemon sender"
    return None


def _bulk(msg: Message) -> str | None:
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    if msg.get("List-Id") or msg.get("List-Unsubscribe"):
        return "mailing-list headers (List-*)"
    return None


def _autoreply_headers(msg: Message) -> str | None:
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if msg.get(name):
            return f"{name} header"
    return None


RULES: tuple[Rule, ...] = (
    _own_loop,
    _auto_submitted,
    _delivery_report,
    _null_sender,
    _bulk,
    _autoreply_headers,
)


def machine_reason(msg: Message) -> str | None:
    """The reason ``msg`` is machine-made, or None for a mail a person wrote."""
    for rule in RULES:
        reason = rule(msg)
        if reason:
            return reason
    return None
