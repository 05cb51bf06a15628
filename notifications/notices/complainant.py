"""Notices to the complainant, each queued in the caller's transaction, once per key.

All return the queued ``OutboxMail`` (the earlier row when the same change is repeated)
or None when the complainant has no usable address: that is recorded on the case, and
``case.phone_follow_up`` is set when there is a phone number to call instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from casework.clock import local_date
from casework.models import Case
from notifications import contexts as c
from notifications.contexts import Context, Limit, OrganisationInfo
from notifications.models import OutboxMail
from notifications.notices.common import (
    Delivery,
    Thread,
    complainant_language,
    complainant_of,
    complainant_thread,
    queue_notice,
    tell_by_phone,
)
from notifications.outbox import AutoSubmitted, MailIdentity
from notifications.renderer import TemplateRenderer

ACKNOWLEDGEMENT = "acknowledgement"


def _to_complainant(
    session: Session,
    case: Case,
    *,
    notice: str,
    dedup_key: str,
    context_for: Callable[[str | None], Context],
    identity: MailIdentity,
    renderer: TemplateRenderer,
    now: datetime,
    language: str | None,
    thread: Thread | None = None,
    auto_submitted: AutoSubmitted = "auto-generated",
    phone_instead: bool = True,
    keep_on_case: bool = True,
) -> OutboxMail | None:
    recipient = complainant_of(case)
    if recipient is None:
        if phone_instead:
            tell_by_phone(case, notice, dedup_key, now)
        return None
    delivery = Delivery(recipient=recipient, thread=thread or complainant_thread(case),
                        auto_submitted=auto_submitted, identity=identity,
                        keep_on_case=keep_on_case, to_complainant=True)
    return queue_notice(
        session, notice=notice, language=complainant_language(case, language),
        context=context_for(recipient.name), dedup_key=dedup_key, case=case,
        delivery=delivery, renderer=renderer, now=now)  # fmt: skip


def queue_acknowledgement(
    session: Session,
    case: Case,
    *,
    inbound_message_id: str | None,
    references: Sequence[str],
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language_override: str | None = None,
    limit: Limit | None = None,
    awaiting_material: bool = False,
    verification_code: str | None = None,
    progress_url: str | None = None,
) -> OutboxMail | None:
    """Queue the acknowledgement of ``case`` (clause 二(二)); once per case.

    An ``auto-replied`` answer to ``inbound_message_id`` (``auto-generated`` for a hotline
    case). Returns None when there is no address (the caller records why: a hotline case
    is acknowledged on the call). ``limit``: the category's resolve limit with its unit
    (default: the organisation's, in working days). ``awaiting_material``: material is
    missing, so no completion date is promised (clause 四(四): the limit runs from the day
    the material is complete; ``queue_clock_started`` announces the date then).
    ``verification_code``: printed for the public progress page (``casework.progress``).
    """
    if case.resolve_due is None and not awaiting_material:
        raise ValueError(f"case {case.reference}: resolve_due must be set before acknowledging")
    resolve_due = None if awaiting_material else case.resolve_due

    def context(name: str | None) -> Context:
        return c.acknowledgement_context(
            reference=case.reference, complainant_name=name,
            received_on=local_date(case.received_at).date(), resolve_due=resolve_due,
            limit=limit or org.resolve_limit, reply_address=identity.reply_to,
            org=org, verification_code=verification_code, progress_url=progress_url,
            anonymous=bool(case.complainant is not None and case.complainant.anonymous),
            )  # fmt: skip

    thread = Thread(in_reply_to=inbound_message_id, references=tuple(references))
    # The pipeline records the acknowledgement's Message on the case (and why there is
    # none: a hotline case is acknowledged on the call), so neither is done here.
    return _to_complainant(
        session, case, notice=ACKNOWLEDGEMENT, dedup_key=f"ack:{case.reference}",
        context_for=context, identity=identity, renderer=renderer, now=now,
        language=language_override, thread=thread, phone_instead=False, keep_on_case=False,
        auto_submitted="auto-replied" if inbound_message_id else "auto-generated")  # fmt: skip


def queue_missing_material(
    session: Session,
    case: Case,
    *,
    items: Sequence[str],
    reply_by: date | None,
    limit: Limit,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str | None = None,
    notice_number: int = 1,
) -> OutboxMail | None:
    """Clause 四(四): the single notice listing EVERY missing item (key per notice number).

    ``limit``: the limit (with its unit) that runs once the material is complete. A second
    notice (``notice_number=2``) is possible but is itself a violation if its items were
    knowable.
    """
    def context(name: str | None) -> Context:
        return c.missing_material_context(
            reference=case.reference, complainant_name=name, items=list(items),
            reply_by=reply_by, limit=limit, reply_address=identity.reply_to,
            org=org)  # fmt: skip

    return _to_complainant(
        session, case, notice="missing_material",
        dedup_key=f"missing:{case.reference}:{notice_number}", context_for=context,
        identity=identity, renderer=renderer, now=now, language=language)  # fmt: skip


def queue_clock_started(
    session: Session,
    case: Case,
    *,
    complete_on: date,
    resolve_due: date,
    limit: Limit,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str | None = None,
) -> OutboxMail | None:
    """Clause 四(四): the material is complete; the limit runs from ``complete_on`` and the
    matter is finished by ``resolve_due`` (the date the acknowledgement could not promise).

    Once per case and completion day (a case asked for material again gets a new date).
    """
    def context(name: str | None) -> Context:
        return c.clock_started_context(
            reference=case.reference, complainant_name=name, complete_on=complete_on,
            resolve_due=resolve_due, limit=limit, reply_address=identity.reply_to,
            org=org)  # fmt: skip

    return _to_complainant(
        session, case, notice="clock_started",
        dedup_key=f"clock-started:{case.reference}:{complete_on.isoformat()}",
        context_for=context, identity=identity, renderer=renderer, now=now,
        language=language)  # fmt: skip


def queue_routed_internally(
    session: Session,
    case: Case,
    *,
    department: str,
    resolve_due: date,
    limit: Limit,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str | None = None,
) -> OutboxMail | None:
    """Clause 三(五): the matter is coordinated internally by ``department`` (display name)."""
    def context(name: str | None) -> Context:
        return c.routed_internally_context(
            reference=case.reference, complainant_name=name, department=department,
            resolve_due=resolve_due, limit=limit, reply_address=identity.reply_to,
            org=org)  # fmt: skip

    return _to_complainant(
        session, case, notice="routed_internally",
        dedup_key=f"routed:{case.reference}:{department}", context_for=context,
        identity=identity, renderer=renderer, now=now, language=language)  # fmt: skip


def queue_referred_to_authority(
    session: Session,
    case: Case,
    *,
    authority: str,
    referred_on: date,
    answer_due: date | None,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str | None = None,
    jurisdiction: str | None = None,
    answer_limit: Limit | None = None,
) -> OutboxMail | None:
    """Clause 三(五): the matter was reported to ``authority`` (its display name), because
    it lies within ``jurisdiction`` (what that authority is responsible for)."""
    def context(name: str | None) -> Context:
        return c.referred_to_authority_context(
            reference=case.reference, complainant_name=name, authority=authority,
            referred_on=referred_on, answer_due=answer_due, reply_address=identity.reply_to,
            org=org, jurisdiction=jurisdiction, answer_limit=answer_limit)  # fmt: skip

    return _to_complainant(
        session, case, notice="referred_to_authority",
        dedup_key=f"referred:{case.reference}:{authority}", context_for=context,
        identity=identity, renderer=renderer, now=now, language=language)  # fmt: skip


def queue_extension(
    session: Session,
    case: Case,
    *,
    reason: str,
    previous_due: date,
    new_due: date,
    extension: Limit,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str | None = None,
) -> OutboxMail | None:
    """Clause 四(六): the extension, its reason and the new time limit (once per new date)."""
    def context(name: str | None) -> Context:
        return c.extension_context(
            reference=case.reference, complainant_name=name, reason=reason,
            previous_due=previous_due, new_due=new_due, extension=extension,
            reply_address=identity.reply_to, org=org)  # fmt: skip

    return _to_complainant(
        session, case, notice="extension",
        dedup_key=f"extension:{case.reference}:{new_due.isoformat()}", context_for=context,
        identity=identity, renderer=renderer, now=now, language=language)  # fmt: skip


def queue_outcome(
    session: Session,
    case: Case,
    *,
    outcome: str,
    resolved_on: date,
    authority: str | None,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str | None = None,
) -> OutboxMail | None:
    """Clause 三(五)/六: the result (``authority`` names who decided it, if not us).

    Keyed by ``resolved_on``, so a reopened case that is resolved again is told again.
    """
    def context(name: str | None) -> Context:
        return c.outcome_context(
            reference=case.reference, complainant_name=name, outcome=outcome,
            resolved_on=resolved_on, authority=authority, reply_address=identity.reply_to,
            org=org)  # fmt: skip

    return _to_complainant(
        session, case, notice="outcome",
        dedup_key=f"outcome:{case.reference}:{resolved_on.isoformat()}", context_for=context,
        identity=identity, renderer=renderer, now=now, language=language)  # fmt: skip


def queue_satisfaction_survey(
    session: Session,
    case: Case,
    *,
    resolved_on: date,
    survey_url: str | None,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str | None = None,
) -> OutboxMail | None:
    """Clause 五(三): the feedback request after the outcome (once per resolution).

    No phone follow-up is asked for when there is no address: the survey is by mail only.
    """
    def context(name: str | None) -> Context:
        return c.satisfaction_survey_context(
            reference=case.reference, complainant_name=name, survey_url=survey_url,
            reply_address=identity.reply_to, org=org)  # fmt: skip

    return _to_complainant(
        session, case, notice="satisfaction_survey",
        dedup_key=f"survey:{case.reference}:{resolved_on.isoformat()}", context_for=context,
        identity=identity, renderer=renderer, now=now, language=language,
        phone_instead=False)  # fmt: skip
