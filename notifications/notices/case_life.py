"""Notices of the rest of a case's life (issue 13): to the complainant when the case ends
without an outcome (closed, withdrawn, out of scope, merged), an interim reply from the
handler and an appointment (clause 四(六)); to staff when the complainant writes again and,
in an installation without routing rules, when a new case reaches the triage queue.

They behave as every notice does (``notifications.notices``): queued in the caller's
transaction, once per key; complainant notices join the case's thread, and without an
address the case is flagged for a phone call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from casework.clock import local_date
from casework.models import Case
from notifications import contexts as c
from notifications.contexts import Context, OrganisationInfo
from notifications.models import OutboxMail
from notifications.notices.common import (
    NO_THREAD,
    Delivery,
    Recipient,
    complainant_language,
    complainant_of,
    complainant_thread,
    queue_notice,
    tell_by_phone,
)
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer


def _to_complainant(
    session: Session, case: Case, *, notice: str, dedup_key: str,
    context_for: Callable[[str | None], Context], identity: MailIdentity,
    renderer: TemplateRenderer, now: datetime, language: str | None,
) -> OutboxMail | None:  # fmt: skip
    recipient = complainant_of(case)
    if recipient is None:
        tell_by_phone(case, notice, dedup_key, now)
        return None
    delivery = Delivery(recipient=recipient, thread=complainant_thread(case),
                        auto_submitted="auto-generated", identity=identity,
                        keep_on_case=True, to_complainant=True)
    return queue_notice(
        session, notice=notice, language=complainant_language(case, language),
        context=context_for(recipient.name), dedup_key=dedup_key, case=case,
        delivery=delivery, renderer=renderer, now=now)  # fmt: skip


def queue_case_closed(
    session: Session, case: Case, *, how: str, reason: str, merged_into: str | None,
    identity: MailIdentity, renderer: TemplateRenderer, org: OrganisationInfo, now: datetime,
    language: str | None = None, key: str = "",
) -> OutboxMail | None:  # fmt: skip
    """The case ended: closed, withdrawn, out of scope or merged (never for spam)."""
    def context(name: str | None) -> Context:
        return c.case_closed_context(
            reference=case.reference, complainant_name=name, how=how, reason=reason,
            merged_into=merged_into, reply_address=identity.reply_to, org=org)  # fmt: skip

    return _to_complainant(
        session, case, notice="case_closed", dedup_key=f"closed:{case.reference}:{how}{key}",
        context_for=context, identity=identity, renderer=renderer, now=now,
        language=language)  # fmt: skip


def queue_interim_reply(
    session: Session, case: Case, *, text: str, handler_name: str | None, key: str,
    identity: MailIdentity, renderer: TemplateRenderer, org: OrganisationInfo, now: datetime,
    language: str | None = None,
) -> OutboxMail | None:  # fmt: skip
    """The handler's interim reply; ``key`` tells one reply from the next (e.g. its time)."""
    def context(name: str | None) -> Context:
        return c.interim_reply_context(
            reference=case.reference, complainant_name=name, text=text,
            handler_name=handler_name, reply_address=identity.reply_to, org=org)  # fmt: skip

    return _to_complainant(
        session, case, notice="interim_reply", dedup_key=f"reply:{case.reference}:{key}",
        context_for=context, identity=identity, renderer=renderer, now=now,
        language=language)  # fmt: skip


def queue_appointment(
    session: Session, case: Case, *, appointment_date: date, details: str,
    identity: MailIdentity, renderer: TemplateRenderer, org: OrganisationInfo, now: datetime,
    language: str | None = None,
) -> OutboxMail | None:  # fmt: skip
    """Clause 四(六) 预约服务: once per case and date."""
    def context(name: str | None) -> Context:
        return c.appointment_context(
            reference=case.reference, complainant_name=name,
            appointment_date=appointment_date, details=details,
            reply_address=identity.reply_to, org=org)  # fmt: skip

    return _to_complainant(
        session, case, notice="appointment",
        dedup_key=f"appointment:{case.reference}:{appointment_date.isoformat()}",
        context_for=context, identity=identity, renderer=renderer, now=now,
        language=language)  # fmt: skip


def queue_triage_new_case(
    session: Session, case: Case, *, recipient_email: str, identity: MailIdentity,
    renderer: TemplateRenderer, org: OrganisationInfo, now: datetime, language: str = "zh",
) -> OutboxMail | None:  # fmt: skip
    """A new case in the triage queue, to the configured triage address; once per case and
    address. The complaint's text goes to staff only."""
    context = c.triage_new_case_context(
        reference=case.reference, case_subject=case.subject, channel=case.channel,
        received_on=local_date(case.received_at).date(), text=case.summary[:4000],
        resolve_due=case.resolve_due, org=org)  # fmt: skip
    return queue_notice(
        session, notice="triage_new_case", language=language, context=context,
        dedup_key=f"triage:{case.reference}:{recipient_email.strip().lower()}", case=case,
        delivery=Delivery(Recipient(recipient_email, None), NO_THREAD, "auto-generated",
                          identity),
        renderer=renderer, now=now)  # fmt: skip


def queue_complainant_wrote(
    session: Session, case: Case, *, staff_email: str, staff_name: str, text: str,
    attachments: int, via: str, status: str, commands_help: Sequence[str], key: str,
    identity: MailIdentity, renderer: TemplateRenderer, org: OrganisationInfo, now: datetime,
    language: str = "zh",
) -> OutboxMail | None:  # fmt: skip
    """The complainant wrote again: the handler is told what (a reply may carry commands,
    e.g. #答复). Once per case, staff member and ``key`` (the mail's time)."""
    context = c.complainant_wrote_context(
        reference=case.reference, staff_name=staff_name, case_subject=case.subject, text=text,
        attachments=attachments, via=via, status=status, commands_help=list(commands_help),
        org=org)  # fmt: skip
    return queue_notice(
        session, notice="complainant_wrote", language=language, context=context,
        dedup_key=f"wrote:{case.reference}:{staff_email.strip().lower()}:{key}", case=case,
        delivery=Delivery(Recipient(staff_email, staff_name), NO_THREAD, "auto-generated",
                          identity),
        renderer=renderer, now=now)  # fmt: skip


def queue_authority_answered(
    session: Session, case: Case, *, staff_email: str, staff_name: str, authority_name: str,
    sender: str, answer: str, verified: bool, why: str, commands_help: Sequence[str],
    key: str, identity: MailIdentity, renderer: TemplateRenderer, org: OrganisationInfo,
    now: datetime, language: str = "zh",
) -> OutboxMail | None:  # fmt: skip
    """An authority's answer (or an unverified mail in its name) to the handler, who
    confirms it with #转告; once per case, staff member and ``key`` (the stored message)."""
    context = c.authority_answered_context(
        reference=case.reference, staff_name=staff_name, case_subject=case.subject,
        authority_name=authority_name, sender=sender, answer=answer, verified=verified,
        why=why, commands_help=list(commands_help), org=org)  # fmt: skip
    return queue_notice(
        session, notice="authority_answered", language=language, context=context,
        dedup_key=f"answered:{case.reference}:{staff_email.strip().lower()}:{key}", case=case,
        delivery=Delivery(Recipient(staff_email, staff_name), NO_THREAD, "auto-generated",
                          identity),
        renderer=renderer, now=now)  # fmt: skip
