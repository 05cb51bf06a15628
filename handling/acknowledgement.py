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

from sqlalchemy import Select, func, select
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
    sent = _acknowledged_today(session, inbound.sender_email.lower(), now)
    if sent >= daily_cap:
        return f"daily cap of {daily_cap} acknowledgements to this sender reached"
    return None


# Per-sender counts of a batch session (see prefetch_acknowledged): counted once before
# the batch, then kept up to date as the batch queues acknowledgements.
_ACK_COUNTS = "handling.acknowledgements_today"


def prefetch_acknowledged(session: Session, senders: Iterable[str], now: datetime) -> None:
    """Count, in one query, today's acknowledgements to each of ``senders``."""
    wanted = sorted({s.lower() for s in senders if s})
    counts = dict.fromkeys(wanted, 0)
    for start in range(0, len(wanted), 500):
        rows = session.execute(_acks_since(now).add_columns(Party.email)
                               .where(Party.email.in_(wanted[start:start + 500]))
                               .group_by(Party.email))
        counts.update({email: int(n) for n, email in rows})
    session.info[_ACK_COUNTS] = counts


def _count_queued(session: Session, sender: str | None) -> None:
    counts = session.info.get(_ACK_COUNTS)
    if sender and counts is not None and sender.lower() in counts:
        counts[sender.lower()] += 1


def _acknowledged_today(session: Session, sender: str, now: datetime) -> int:
    counts = session.info.get(_ACK_COUNTS)
    if counts is not None and sender in counts:
        return int(counts[sender])
    return int(session.scalar(_acks_since(now).where(Party.email == sender)) or 0)


def _acks_since(now: datetime) -> Select[Any]:
    # Through the indexed party address, not a scan of the (large) outbox rows.
    return (select(func.count(OutboxMail.id))
            .join(Case, OutboxMail.case_id == Case.id)
            .join(Party, Case.complainant_id == Party.id)
            .where(OutboxMail.kind == ACKNOWLEDGEMENT,
                   OutboxMail.created_at >= now - timedelta(days=1)))
