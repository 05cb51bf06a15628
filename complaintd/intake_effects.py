"""What a mail's content means for its case, applied in the intake transaction.

- large files sent as expiring download links (超大附件): the case is flagged so staff
  fetch them in time;
- a complainant's reply to a case waiting for material moves it on (the material rules
  themselves belong to routing; this only records the event and the state change);
- acknowledgements are withheld when the mail asks for no auto-reply, and limited to a
  daily number per sender (one per case is the outbox's dedup key).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from casework.inbound import Inbound
from casework.models import Case, Party
from casework.states import can_transition, record, transition
from casework.status import CaseStatus
from notifications.models import OutboxMail

ACTOR = "system:intake"
ACKNOWLEDGEMENT = "acknowledgement"


def after_receive(session: Session, case: Case, inbound: Inbound, outcome: str,
                  now: datetime) -> None:
    links = inbound.extra.get("large_file_links")
    if links:
        case.needs_attention = True
        record(case, "large_file_links", actor=ACTOR, at=now,
               details={"links": links.splitlines(),
                        "action": "download the files before the links expire"})
    if outcome == "follow_up" and case.status == CaseStatus.AWAITING_MATERIAL \
            and can_transition(case.status, CaseStatus.ROUTED):
        transition(case, CaseStatus.ROUTED, actor=ACTOR, at=now,
                   reason="the complainant replied while the case waited for material",
                   details={"origin": inbound.origin})


def acknowledgement_withheld(session: Session, inbound: Inbound, now: datetime,
                             daily_cap: int) -> str | None:
    """Why no acknowledgement may go to this sender now, or None."""
    if inbound.extra.get("no_auto_reply"):
        return inbound.extra["no_auto_reply"]
    if not inbound.sender_email:
        return None
    sent = _acknowledged_today(session, inbound.sender_email.lower(), now)
    if sent >= daily_cap:
        return f"daily cap of {daily_cap} acknowledgements to this sender reached"
    return None


# Per-sender counts of a batch session (see prefetch_acknowledged): counted once before
# the batch, then kept up to date as the batch queues acknowledgements.
_ACK_COUNTS = "complaintd.acknowledgements_today"


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


def acknowledgement_queued(session: Session, sender: str | None) -> None:
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
