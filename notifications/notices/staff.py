"""Notices to staff: handlers, supervisors, the hotline team; Chinese unless configured.

Each is queued in the caller's transaction once per key and returns the ``OutboxMail``
(the earlier row when the change is repeated) or None when the address is unusable
(recorded on the case when there is one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from casework.clock import local_date
from casework.models import Case
from notifications import contexts as c
from notifications.contexts import CallbackRow, Context, DigestRow, Limit, OrganisationInfo
from notifications.models import OutboxMail
from notifications.notices.common import (
    NO_THREAD,
    Delivery,
    Recipient,
    Thread,
    queue_notice,
    thread_after,
)
from notifications.outbox import AutoSubmitted, MailIdentity
from notifications.renderer import TemplateRenderer


def _to_staff(
    session: Session,
    *,
    notice: str,
    dedup_key: str,
    context: Context,
    case: Case | None,
    recipient: Recipient,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    now: datetime,
    language: str,
    thread: Thread = NO_THREAD,
    auto_submitted: AutoSubmitted = "auto-generated",
) -> OutboxMail | None:
    delivery = Delivery(recipient=recipient, thread=thread, auto_submitted=auto_submitted,
                        identity=identity)
    return queue_notice(session, notice=notice, language=language, context=context,
                        dedup_key=dedup_key, case=case, delivery=delivery, renderer=renderer,
                        now=now)  # fmt: skip


def _resolve_due(case: Case) -> date:
    if case.resolve_due is None:
        raise ValueError(f"case {case.reference}: resolve_due is not set")
    return case.resolve_due


def assignment_key(case: Case, handler_email: str, occasion: str = "") -> str:
    key = f"assign:{case.reference}:{handler_email.strip().lower()}"
    return f"{key}:{occasion}" if occasion else key


def queue_assignment(
    session: Session,
    case: Case,
    *,
    handler_email: str,
    handler_name: str,
    deadline: date | None,
    commands_help: Sequence[str],
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    delegate_for: str | None = None,
    occasion: str = "",
    language: str = "zh",
    limit: Limit | None = None,
) -> OutboxMail | None:
    """Tell a handler a case is theirs (``delegate_for``: the absent handler they stand in for).

    Once per case and handler; pass ``occasion`` (e.g. the assignment id) when the same
    handler can be given the same case again after a reassignment. ``deadline`` None: the
    case waits for material and its ``limit`` (default: the organisation's) has not started.
    """
    context = c.assignment_context(
        reference=case.reference, handler_name=handler_name, case_subject=case.subject,
        category=case.category, received_on=local_date(case.received_at).date(),
        resolve_due=deadline, limit=limit or org.resolve_limit, delegate_for=delegate_for,
        commands_help=list(commands_help), org=org)  # fmt: skip
    return _to_staff(
        session, notice="assignment", dedup_key=assignment_key(case, handler_email, occasion),
        context=context, case=case, recipient=Recipient(handler_email, handler_name),
        identity=identity, renderer=renderer, now=now, language=language)  # fmt: skip


def queue_handler_reminder(
    session: Session,
    case: Case,
    *,
    handler_email: str,
    handler_name: str,
    working_days_left: int,
    commands_help: Sequence[str],
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str = "zh",
    limit: Limit | None = None,
) -> OutboxMail | None:
    """Clause 四(三): a reminder before the time limit; once per deadline and days left.

    Threaded under the assignment mail when there is one (same handler, no occasion).
    ``limit``: the case's limit, stated beside its date (default: the organisation's).
    """
    due = _resolve_due(case)
    context = c.handler_reminder_context(
        reference=case.reference, handler_name=handler_name, case_subject=case.subject,
        resolve_due=due, limit=limit or org.resolve_limit, working_days_left=working_days_left,
        commands_help=list(commands_help), org=org)  # fmt: skip
    key = f"reminder:{case.reference}:{handler_email.strip().lower()}:{due}:{working_days_left}"
    return _to_staff(
        session, notice="handler_reminder", dedup_key=key, context=context, case=case,
        recipient=Recipient(handler_email, handler_name), identity=identity,
        renderer=renderer, now=now, language=language,
        thread=thread_after(session, assignment_key(case, handler_email)))  # fmt: skip


def queue_supervisor_escalation(
    session: Session,
    case: Case,
    *,
    supervisor_email: str,
    supervisor_name: str,
    handler_name: str | None,
    reason: str,
    days_overdue: int,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str = "zh",
    limit: Limit | None = None,
) -> OutboxMail | None:
    """Clauses 四(三)/四(五): an overdue, major or difficult case for the supervisor.

    Once per case, supervisor, deadline and ``reason`` (a short text, e.g. "已逾期").
    ``days_overdue`` is in calendar days; ``limit``: the case's (default: the organisation's).
    """
    # A major matter may be reported while the case waits for material (no resolution
    # date yet): the acknowledgement's date stands in, and the reason says why.
    due = case.resolve_due or case.acknowledge_due or _resolve_due(case)
    context = c.supervisor_escalation_context(
        reference=case.reference, supervisor_name=supervisor_name, handler_name=handler_name,
        case_subject=case.subject, resolve_due=due, limit=limit or org.resolve_limit,
        reason=reason, days_overdue=days_overdue,
        org=org)  # fmt: skip
    digest = hashlib.sha256(reason.encode("utf-8")).hexdigest()[:16]
    key = f"escalation:{case.reference}:{supervisor_email.strip().lower()}:{due}:{digest}"
    return _to_staff(
        session, notice="supervisor_escalation", dedup_key=key, context=context, case=case,
        recipient=Recipient(supervisor_email, supervisor_name), identity=identity,
        renderer=renderer, now=now, language=language)  # fmt: skip


def queue_supervisor_digest(
    session: Session,
    *,
    supervisor_email: str,
    supervisor_name: str,
    digest_date: date,
    rows: Sequence[DigestRow],
    new_count: int,
    due_soon_count: int,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str = "zh",
) -> OutboxMail | None:
    """The supervisor's daily digest; once per supervisor and day (no case: case_id None)."""
    context = c.supervisor_digest_context(
        supervisor_name=supervisor_name, digest_date=digest_date, rows=list(rows),
        new_count=new_count, due_soon_count=due_soon_count,
        overdue_count=sum(1 for row in rows if row.overdue), org=org)  # fmt: skip
    return _to_staff(
        session, notice="supervisor_digest",
        dedup_key=f"digest:{supervisor_email.strip().lower()}:{digest_date.isoformat()}",
        context=context, case=None, recipient=Recipient(supervisor_email, supervisor_name),
        identity=identity, renderer=renderer, now=now, language=language)  # fmt: skip


def queue_hotline_callback_list(
    session: Session,
    *,
    recipient_email: str,
    list_date: date,
    rows: Sequence[CallbackRow],
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str = "zh",
) -> OutboxMail | None:
    """The complainants the hotline must call; once per recipient and day.

    Phone numbers go to staff only: this list must never be addressed outside.
    """
    context = c.hotline_callback_list_context(list_date=list_date, rows=list(rows), org=org)
    return _to_staff(
        session, notice="hotline_callback_list",
        dedup_key=f"callbacks:{recipient_email.strip().lower()}:{list_date.isoformat()}",
        context=context, case=None, recipient=Recipient(recipient_email, None),
        identity=identity, renderer=renderer, now=now, language=language)  # fmt: skip


def queue_command_refusal(
    session: Session,
    *,
    staff_email: str,
    command_message_id: str | None,
    command: str,
    reason: str,
    case: Case | None,
    commands_help: Sequence[str],
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    command_references: Sequence[str] = (),
    language: str = "zh",
) -> OutboxMail | None:
    """An ``auto-replied`` answer to a staff command mail that was not carried out.

    Once per command mail (its Message-ID; without one, per sender, command and time).
    """
    context = c.command_refusal_context(
        command=command, reason=reason, reference=case.reference if case else None,
        commands_help=list(commands_help), org=org)  # fmt: skip
    return _to_staff(
        session, notice="command_refusal",
        dedup_key=_command_key("refusal", staff_email, command_message_id, command, now),
        context=context, case=case, recipient=Recipient(staff_email, None), identity=identity,
        renderer=renderer, now=now, language=language, auto_submitted="auto-replied",
        thread=Thread(command_message_id, tuple(command_references)))  # fmt: skip


def queue_command_done(
    session: Session,
    *,
    staff_email: str,
    command_message_id: str | None,
    command: str,
    result: str,
    case: Case | None,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    command_references: Sequence[str] = (),
    language: str = "zh",
) -> OutboxMail | None:
    """An ``auto-replied`` confirmation that a staff command mail was carried out."""
    context = c.command_done_context(
        command=command, result=result, reference=case.reference if case else None, org=org)
    return _to_staff(
        session, notice="command_done",
        dedup_key=_command_key("done", staff_email, command_message_id, command, now),
        context=context, case=case, recipient=Recipient(staff_email, None), identity=identity,
        renderer=renderer, now=now, language=language, auto_submitted="auto-replied",
        thread=Thread(command_message_id, tuple(command_references)))  # fmt: skip


def _command_key(
    kind: str, staff_email: str, message_id: str | None, command: str, now: datetime
) -> str:
    source = message_id or f"{staff_email.strip().lower()}|{command}|{now.isoformat()}"
    return f"command-{kind}:{hashlib.sha256(source.encode('utf-8')).hexdigest()[:32]}"


def queue_message_refused(
    session: Session,
    *,
    recipient_email: str,
    recipient_name: str | None,
    original_subject: str,
    original_message_id: str | None,
    reason: str,
    source_key: str,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str = "bilingual",
) -> OutboxMail | None:
    """An ``auto-replied`` answer to a mail intake could not take in (e.g. too large).

    Not a case notice (there is no case). ``source_key`` identifies the refused mail
    (e.g. a hash of its headers); the dedup key is ``refused:SOURCE_KEY``. Never call it
    for a machine's mail (auto-replies, bounces): intake decides that.
    """
    context = c.message_refused_context(
        original_subject=original_subject, reason=reason, org=org)
    return _to_staff(
        session, notice="message_refused", dedup_key=f"refused:{source_key}", context=context,
        case=None, recipient=Recipient(recipient_email, recipient_name), identity=identity,
        renderer=renderer, now=now, language=language, auto_submitted="auto-replied",
        thread=Thread(original_message_id, ()))  # fmt: skip
