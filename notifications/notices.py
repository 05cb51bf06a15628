"""The notices a case sends its complainant, queued in the caller's transaction."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from casework.clock import local_date
from casework.models import Case
from casework.states import record
from notifications.contexts import OrganisationInfo, acknowledgement_context
from notifications.models import OutboxMail
from notifications.outbox import InvalidRecipient, MailIdentity, queue_mail
from notifications.renderer import LANGUAGES, TemplateRenderer

__all__ = ["OrganisationInfo", "queue_acknowledgement"]

logger = logging.getLogger("complaintd.outbox")

ACTOR = "complaintd.notifications"
ACKNOWLEDGEMENT = "acknowledgement"


def queue_acknowledgement(
    session: Session,
    case: Case,
    *,
    inbound_message_id: str | None,
    references: tuple[str, ...],
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language_override: str | None = None,
    working_days: int | None = None,
) -> OutboxMail | None:
    """Queue the acknowledgement of ``case`` (clause 二(二)); once per case.

    Returns None when there is no address to write to. ``working_days`` overrides the
    organisation's default limit when the case's category has its own.
    """
    party = case.complainant
    if party is None or not party.email:
        return None
    if case.resolve_due is None:
        raise ValueError(f"case {case.reference}: resolve_due must be set before acknowledging")
    # Anonymity is about the name; an address given for replies is still written to.
    name = None if party.anonymous else party.name
    context = acknowledgement_context(
        reference=case.reference,
        complainant_name=name,
        received_on=local_date(case.received_at).date(),
        resolve_due=case.resolve_due,
        working_days=working_days if working_days is not None else org.resolve_working_days,
        reply_address=identity.reply_to,
        org=org,
    )
    mail = renderer.render(
        ACKNOWLEDGEMENT, notice_language(case.language, language_override), context
    )
    if case.id is None:
        session.flush()  # the outbox row points at the case
    try:
        return queue_mail(
            session,
            dedup_key=f"ack:{case.reference}",
            case_id=case.id,
            kind=ACKNOWLEDGEMENT,
            recipient=party.email,
            recipient_name=name,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            identity=identity,
            now=now,
            in_reply_to=inbound_message_id,
            references=references,
            # A hotline case with an address on file is not a reply to anything.
            auto_submitted="auto-replied" if inbound_message_id else "auto-generated",
        )
    except InvalidRecipient as exc:
        _record_not_queued(case, ACKNOWLEDGEMENT, str(exc), now)
        return None


def notice_language(case_language: str, override: str | None) -> str:
    """The language of a notice: the override if set, else the case's; Chinese by default."""
    wanted = override or case_language
    return wanted if wanted in LANGUAGES else "zh"


def _record_not_queued(case: Case, kind: str, reason: str, now: datetime) -> None:
    # Nothing is dropped silently: staff see on the case why no mail went out.
    logger.warning("outbox: %s for case %s not queued: %s", kind, case.id, reason)
    record(case, "mail_not_queued", actor=ACTOR, at=now, details={"kind": kind, "reason": reason})
