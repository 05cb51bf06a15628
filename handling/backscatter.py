"""How much automatic mail a stranger can make us send (issue 12, backscatter).

The reporting mailbox is public: anyone can put any address in From and have us write to
it. Automatic answers to outsiders — acknowledgements and refusals (a mail too large, a
command refused) — are therefore capped: acknowledgements per sender a day (``user+tag@``
counts as ``user@``) and per mail domain an hour; refusals per sender a day; and all of
them together an hour. A withheld answer is a reason (a value) the caller records on the
case's timeline or the quarantine row; the case itself is always kept.

Counts come from the outbox (what was queued), through the ``(kind, created_at)`` index.
A batch session counts once for the batch (``prefetch``) and then keeps the counts as it
queues (``counted``), so it never flushes in the middle of the batch to ask.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from casework.models import Case, Party
from notifications.models import OutboxMail

ACKNOWLEDGEMENT = "acknowledgement"
REFUSALS = ("message_refused", "command_refusal")
PROGRESS_ANSWER = "progress_answer"  # handling.progress: capped per case, and here
AUTO_REPLIES = (ACKNOWLEDGEMENT, *REFUSALS, PROGRESS_ANSWER)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Caps:
    """The limits (``[intake]`` in the settings; validated there, naming the key)."""

    acknowledgements_per_sender_per_day: int = 5
    acknowledgements_per_domain_per_hour: int = 30
    refusals_per_sender_per_day: int = 1
    auto_replies_per_hour: int = 300


DEFAULT_CAPS = Caps()


def mailbox_of(address: str) -> str:
    """The mailbox an address reaches: ``User+tag@Example.CN`` is ``user@example.cn`` (a
    stranger must not get round a cap, or use us as a mailer, with tags or capitals)."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else address.strip().lower()


def domain_of(address: str) -> str:
    return address.strip().lower().rpartition("@")[2]


# -- the decisions -------------------------------------------------------------------------


def acknowledgement_withheld(session: Session, sender: str, now: datetime,
                             caps: Caps) -> str | None:
    """Why no acknowledgement may go to ``sender`` now, or None."""
    box, domain = mailbox_of(sender), domain_of(sender)
    daily = caps.acknowledgements_per_sender_per_day
    if _kept(session, "sender", box, lambda: _acks_to_mailbox(session, box, now)) >= daily:
        return f"daily cap of {daily} acknowledgements to this sender reached"
    hourly = caps.acknowledgements_per_domain_per_hour
    if _kept(session, "domain", domain, lambda: _acks_to_domain(session, domain, now)) >= hourly:
        return f"hourly cap of {hourly} acknowledgements to one mail domain reached"
    return _global_withheld(session, now, caps)


def refusal_withheld(session: Session, recipient: str, now: datetime,
                     caps: Caps) -> str | None:
    """Why no refusal notice may go to ``recipient`` now, or None."""
    box = mailbox_of(recipient)
    daily = caps.refusals_per_sender_per_day
    if _kept(session, "refused", box, lambda: _refusals_to(session, box, now)) >= daily:
        return f"daily cap of {daily} refusal notice(s) to this sender reached"
    return _global_withheld(session, now, caps)


def automatic_answers_withheld(session: Session, now: datetime, caps: Caps) -> str | None:
    """Why no automatic answer of any kind may go out now (the hourly cap), or None."""
    return _global_withheld(session, now, caps)


def _global_withheld(session: Session, now: datetime, caps: Caps) -> str | None:
    hourly = caps.auto_replies_per_hour
    if _kept(session, "all", "", lambda: _auto_replies(session, now)) >= hourly:
        return f"hourly cap of {hourly} automatic answers to outsiders reached"
    return None


# -- counts kept by a batch ------------------------------------------------------------

_COUNTS = "handling.backscatter_counts"


def prefetch(session: Session, senders: Iterable[str], now: datetime) -> None:
    """Count, in a few queries, what a batch's acknowledgements are capped by."""
    addresses = [s for s in senders if s]
    boxes = sorted({mailbox_of(s) for s in addresses})
    domains = sorted({domain_of(s) for s in addresses})
    counts: dict[str, dict[str, int]] = {
        "sender": _acks_to_mailboxes(session, boxes, now),
        "domain": {d: _acks_to_domain(session, d, now) for d in domains},
        "all": {"": _auto_replies(session, now)},
    }
    session.info[_COUNTS] = counts


def counted(session: Session, recipient: str | None, kind: str) -> None:
    """An automatic answer was queued: keep a batch's counts up to date."""
    counts = session.info.get(_COUNTS)
    if counts is None or not recipient:
        return
    keys = [("all", "")]
    if kind == ACKNOWLEDGEMENT:
        keys += [("sender", mailbox_of(recipient)), ("domain", domain_of(recipient))]
    elif kind in REFUSALS:
        keys.append(("refused", mailbox_of(recipient)))
    for group, key in keys:
        kept = counts.setdefault(group, {})
        if key in kept:
            kept[key] += 1


def _kept(session: Session, group: str, key: str, ask: Any) -> int:
    kept = session.info.get(_COUNTS, {}).get(group, {})
    if key in kept:
        return int(kept[key])
    value = int(ask())
    if _COUNTS in session.info:
        session.info[_COUNTS].setdefault(group, {})[key] = value
    return value


# -- the queries -----------------------------------------------------------------------------


def _acks_to_mailbox(session: Session, mailbox: str, now: datetime) -> int:
    return int(session.scalar(_acks_since(now).where(_same_mailbox(mailbox))) or 0)


def _acks_to_mailboxes(session: Session, boxes: list[str], now: datetime) -> dict[str, int]:
    """Each mailbox's acknowledgements of the last day, for a whole batch: the addresses
    as they are, then every tagged address (``user+tag@``) acknowledged that day, each
    counted for the mailbox it reaches. Two plain statements whatever the batch (an OR of
    a pattern pair per mailbox was built and compiled anew for every batch: a twentieth
    of a call log's import)."""
    by_address = _acks_since(now).add_columns(Party.email).group_by(Party.email)
    found: dict[str, int] = {}
    for start in range(0, len(boxes), 500):
        exact = by_address.where(Party.email.in_(boxes[start:start + 500]))
        found.update({email: int(n) for n, email in session.execute(exact)})
    if boxes:
        tagged = by_address.where(Party.email.contains("+", autoescape=True))
        found.update({email: int(n) for n, email in session.execute(tagged)})
    counts = dict.fromkeys(boxes, 0)
    for email, n in found.items():  # each address once, whichever statement found it
        if mailbox_of(email) in counts:
            counts[mailbox_of(email)] += n
    return counts


def _same_mailbox(mailbox: str) -> ColumnElement[bool]:
    """Party addresses that reach ``mailbox`` (patterns, not ranges: a database's collation
    may not sort "+" as a byte would). Intake keeps mail addresses in lower case."""
    local, _, domain = mailbox.rpartition("@")
    tagged = and_(Party.email.startswith(f"{local}+", autoescape=True),
                  Party.email.endswith(f"@{domain}", autoescape=True))
    return or_(Party.email == mailbox, tagged)


def _acks_since(now: datetime) -> Select[Any]:
    # Through the indexed party address, not a scan of the (large) outbox rows.
    return (select(func.count(OutboxMail.id))
            .join(Case, OutboxMail.case_id == Case.id)
            .join(Party, Case.complainant_id == Party.id)
            .where(OutboxMail.kind == ACKNOWLEDGEMENT, OutboxMail.created_at >= now - DAY))


def _acks_to_domain(session: Session, domain: str, now: datetime) -> int:
    recipient = func.lower(OutboxMail.recipient)
    return int(session.scalar(select(func.count(OutboxMail.id)).where(
        OutboxMail.kind == ACKNOWLEDGEMENT, OutboxMail.created_at >= now - HOUR,
        recipient.endswith(f"@{domain}", autoescape=True))) or 0)


def _refusals_to(session: Session, mailbox: str, now: datetime) -> int:
    local, _, domain = mailbox.rpartition("@")
    recipient = func.lower(OutboxMail.recipient)
    same = or_(recipient == mailbox,
               and_(recipient.startswith(f"{local}+", autoescape=True),
                    recipient.endswith(f"@{domain}", autoescape=True)))
    return int(session.scalar(select(func.count(OutboxMail.id)).where(
        OutboxMail.kind.in_(REFUSALS), OutboxMail.created_at >= now - DAY, same)) or 0)


def _auto_replies(session: Session, now: datetime) -> int:
    return int(session.scalar(select(func.count(OutboxMail.id)).where(
        OutboxMail.kind.in_(AUTO_REPLIES), OutboxMail.created_at >= now - HOUR)) or 0)
