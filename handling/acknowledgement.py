"""The acknowledgement of a new case (clause 二(二)), and when none may be sent.

Acknowledgements are withheld when the mail asks for no auto-reply, and limited to a daily
number per sender (one per case is the outbox's dedup key). The answer is a value,
``Acknowledgement``: the Message-ID of the queued mail, or why none was queued.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from casework.inbound import Inbound
from casework.models import Case, Party
from notifications.models import OutboxMail
from notifications.notices import Limit, OrganisationInfo, queue_acknowledgement
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer

ACKNOWLEDGEMENT = "acknowledgement"


@dataclass(frozen=True)
class Acknowledgement:
    """What became of a case's acknowledgement: its Message-ID, or why there is none."""

    message_id: str | None
    reason: str


@dataclass(frozen=True)
class Acknowledger:
    identity: MailIdentity
    renderer: TemplateRenderer
    org: OrganisationInfo
    daily_cap: int
    language_override: str | None = None  # None: the case's own language

    def __call__(self, session: Session, case: Case, inbound: Inbound, now: datetime, *,
                 limit: Limit | None = None, awaiting_material: bool = False,
                 ) -> Acknowledgement:
        """Queue the acknowledgement; ``limit``: the limit its category gives, with its
        unit (None: the organisation's); ``awaiting_material``: no date is promised yet."""
        withheld = withheld_because(session, inbound, now, self.daily_cap)
        if withheld:
            return Acknowledgement(None, f"acknowledgement withheld: {withheld}")
        mail = queue_acknowledgement(
            session, case, inbound_message_id=inbound.message_id,
            references=inbound.references, identity=self.identity, renderer=self.renderer,
            org=self.org, now=now, language_override=self.language_override,
            limit=limit, awaiting_material=awaiting_material)
        if mail is None:
            return Acknowledgement(None, "no address to mail the acknowledgement to")
        _count_queued(session, inbound.sender_email)
        return Acknowledgement(mail.message_id, "acknowledgement queued")


def withheld_because(session: Session, inbound: Inbound, now: datetime,
                     daily_cap: int) -> str | None:
    """Why no acknowledgement may go to this sender now, or None."""
    if inbound.extra.get("no_auto_reply"):
        return inbound.extra["no_auto_reply"]
    if inbound.sender_unverified:
        return f"the sender's address is a guess ({inbound.sender_unverified})"
    if not inbound.sender_email:
        return None
    sent = _acknowledged_today(session, mailbox_of(inbound.sender_email), now)
    if sent >= daily_cap:
        return f"daily cap of {daily_cap} acknowledgements to this sender reached"
    return None


# Per-sender counts of a batch session (see prefetch_acknowledged): counted once before
# the batch, then kept up to date as the batch queues acknowledgements.
_ACK_COUNTS = "handling.acknowledgements_today"


def mailbox_of(address: str) -> str:
    """The mailbox an address reaches: ``user+tag@example.cn`` is ``user@example.cn`` (a
    stranger must not get round the daily cap, or use us as a mailer, with tags)."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else address.strip().lower()


def _same_mailbox(mailbox: str) -> ColumnElement[bool]:
    """Party addresses that reach ``mailbox`` (patterns, not ranges: a database's collation
    may not sort "+" as a byte would)."""
    local, _, domain = mailbox.rpartition("@")
    tagged = and_(Party.email.startswith(f"{local}+", autoescape=True),
                  Party.email.endswith(f"@{domain}", autoescape=True))
    return or_(Party.email == mailbox, tagged)


def prefetch_acknowledged(session: Session, senders: Iterable[str], now: datetime) -> None:
    """Count, in a few queries, today's acknowledgements to the mailbox of each sender."""
    wanted = sorted({mailbox_of(s) for s in senders if s})
    counts = dict.fromkeys(wanted, 0)
    for start in range(0, len(wanted), 100):
        chunk = wanted[start:start + 100]
        rows = session.execute(_acks_since(now).add_columns(Party.email)
                               .where(or_(*(_same_mailbox(m) for m in chunk)))
                               .group_by(Party.email))
        for n, email in rows:
            if mailbox_of(email) in counts:
                counts[mailbox_of(email)] += int(n)
    session.info[_ACK_COUNTS] = counts


def _count_queued(session: Session, sender: str | None) -> None:
    counts = session.info.get(_ACK_COUNTS)
    if sender and counts is not None and mailbox_of(sender) in counts:
        counts[mailbox_of(sender)] += 1


def _acknowledged_today(session: Session, mailbox: str, now: datetime) -> int:
    counts = session.info.get(_ACK_COUNTS)
    if counts is not None and mailbox in counts:
        return int(counts[mailbox])
    return int(session.scalar(_acks_since(now).where(_same_mailbox(mailbox))) or 0)


def _acks_since(now: datetime) -> Select[Any]:
    # Through the indexed party address, not a scan of the (large) outbox rows.
    return (select(func.count(OutboxMail.id))
            .join(Case, OutboxMail.case_id == Case.id)
            .join(Party, Case.complainant_id == Party.id)
            .where(OutboxMail.kind == ACKNOWLEDGEMENT,
                   OutboxMail.created_at >= now - timedelta(days=1)))
