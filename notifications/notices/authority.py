"""Letters to administrative authorities (clause 三(五)): only what a rule allows.

A referral letter carries the matter as the handler wrote it for the authority, the
complainant's personal fields that the rule lists in ``personal_fields``, and health
details only when the rule allows them AND the complainant gave separate consent
(``Party.consent_health_data``, PIPL art. 28-29). A withheld name, phone number or
address that appears in the matter text is masked, so a careless summary cannot leak it.
What was shared is recorded on the case timeline (auditors ask).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from casework.clock import local_date
from casework.models import Case, Party
from casework.transitions import record
from notifications import contexts as c
from notifications.contexts import (
    PERSONAL_FIELDS,
    ComplainantDetails,
    Limit,
    OrganisationInfo,
    PersonalField,
)
from notifications.models import OutboxMail
from notifications.notices.common import (
    ACTOR,
    NO_THREAD,
    Delivery,
    Recipient,
    queue_notice,
    thread_after,
)
from notifications.outbox import MailIdentity, find_queued
from notifications.renderer import TemplateRenderer

MASK = "＊＊＊"


def referral_key(case: Case, authority_email: str) -> str:
    return f"referral:{case.reference}:{authority_email.strip().lower()}"


def shared_details(
    party: Party | None, allowed: Collection[PersonalField]
) -> ComplainantDetails | None:
    """The complainant's fields ``allowed`` lets out; None when nothing is shared."""
    if party is None or party.anonymous:
        return None
    unknown = set(allowed) - set(PERSONAL_FIELDS)
    if unknown:
        raise ValueError(f"unknown personal fields {sorted(unknown)}; allowed: {PERSONAL_FIELDS}")
    details = ComplainantDetails(
        name=party.name if "name" in allowed else None,
        phone=party.phone if "phone" in allowed else None,
        email=party.email if "email" in allowed else None,
    )
    return details if any((details.name, details.phone, details.email)) else None


def shared_health(party: Party | None, health_details: str | None, rule_allows: bool) -> str | None:
    """Health details only with the rule's leave and the complainant's separate consent."""
    if not rule_allows or not health_details or party is None:
        return None
    return health_details if party.consent_health_data else None


def masked(text: str, party: Party | None, shared: ComplainantDetails | None) -> str:
    """``text`` with every personal value of ``party`` that is not shared replaced by a mask."""
    if party is None:
        return text
    given = shared or ComplainantDetails()
    for field in PERSONAL_FIELDS:
        value = getattr(party, field)
        if value and not getattr(given, field) and len(value.strip()) >= 2:
            text = text.replace(value.strip(), MASK)
    return text


def queue_authority_referral(
    session: Session,
    case: Case,
    *,
    authority_name: str,
    authority_email: str,
    matter: str,
    personal_fields: Collection[PersonalField],
    health_allowed: bool,
    health_details: str | None,
    answer_due: date | None,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str = "zh",
    answer_limit: Limit | None = None,
) -> OutboxMail | None:
    """Report ``case`` to an authority; once per case and authority address.

    ``matter``: the facts as written for the authority (never the complainant's raw
    text); ``personal_fields``: which of "name", "phone", "email" the rule allows;
    ``health_allowed``: whether the rule allows health details at all.
    """
    party = case.complainant
    details = shared_details(party, personal_fields)
    health = shared_health(party, health_details, health_allowed)
    context = c.authority_referral_context(
        authority_name=authority_name, reference=case.reference,
        received_on=local_date(case.received_at).date(), category=case.category,
        matter=masked(matter, party, details), complainant=details,
        health_details=masked(health, party, details) if health else None,
        answer_due=answer_due, reply_address=identity.reply_to, org=org,
        answer_limit=answer_limit)  # fmt: skip
    key = referral_key(case, authority_email)
    # A case not written yet (new in a batch) has only this session's rows to look at.
    first_time = find_queued(session, key, unflushed_only=inspect(case).pending) is None
    row = queue_notice(
        session, notice="authority_referral", language=language, context=context,
        dedup_key=key, case=case, renderer=renderer, now=now,
        delivery=Delivery(Recipient(authority_email, authority_name), NO_THREAD,
                          "auto-generated", identity))  # fmt: skip
    if row is not None and first_time:
        shared = [f for f in PERSONAL_FIELDS if details and getattr(details, f)]
        record(case, "referral_letter_queued", actor=ACTOR, at=now, details={
            "authority": authority_name, "outbox_id": row.id, "personal_fields": shared,
            "health_details": health is not None})  # fmt: skip
    return row


def queue_authority_follow_up(
    session: Session,
    case: Case,
    *,
    authority_name: str,
    authority_email: str,
    referred_on: date,
    answer_due: date | None,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    follow_up_number: int = 1,
    language: str = "zh",
    answer_limit: Limit | None = None,
    overdue: bool = False,
) -> OutboxMail | None:
    """Ask an authority how a reported case stands; threaded under the referral letter.

    Once per case, authority and ``follow_up_number``. Carries no personal data at all.
    ``overdue``: the answer date has passed (the letter says so).
    """
    context = c.authority_follow_up_context(
        authority_name=authority_name, reference=case.reference, referred_on=referred_on,
        answer_due=answer_due, reply_address=identity.reply_to, org=org,
        answer_limit=answer_limit, overdue=overdue)  # fmt: skip
    address = authority_email.strip().lower()
    key = f"referral-follow-up:{case.reference}:{address}:{follow_up_number}"
    thread = thread_after(session, referral_key(case, authority_email))
    return queue_notice(
        session, notice="authority_follow_up", language=language, context=context,
        dedup_key=key, case=case, renderer=renderer, now=now,
        delivery=Delivery(Recipient(authority_email, authority_name), thread,
                          "auto-generated", identity))  # fmt: skip
