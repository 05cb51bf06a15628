"""What each notice's templates may use, built from plain values.

The notices and the start-up template check build their context with the same functions,
so a template that renders with the sample data renders with real data too. Every
builder takes keyword arguments only; the names are the template variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

Context = dict[str, Any]

# Personal fields of a complainant that a rule may allow into a mail to an authority.
PersonalField = Literal["name", "phone", "email"]
PERSONAL_FIELDS: tuple[PersonalField, ...] = ("name", "phone", "email")


@dataclass(frozen=True)
class OrganisationInfo:
    """The organisation as the mails present it (from settings)."""

    name: str
    name_en: str
    hotline_phone: str
    # The committed time limit shown in the acknowledgement (限时办结).
    resolve_working_days: int


@dataclass(frozen=True)
class DigestRow:
    """One case in the supervisor's daily digest."""

    reference: str
    status: str  # a casework.status.CaseStatus value
    handler: str | None
    resolve_due: date
    overdue: bool


@dataclass(frozen=True)
class CallbackRow:
    """One complainant the hotline must call back."""

    reference: str
    name: str | None
    phone: str
    reason: str
    due: date


@dataclass(frozen=True)
class ComplainantDetails:
    """The complainant's details a rule allowed into an authority letter; None = withheld."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None


def acknowledgement_context(
    *,
    reference: str,
    complainant_name: str | None,
    received_on: date,
    resolve_due: date,
    working_days: int,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Clause 二(二): reference, procedure, time limit and how to add material."""
    return dict(locals())


def missing_material_context(
    *,
    reference: str,
    complainant_name: str | None,
    items: list[str],
    reply_by: date | None,
    working_days: int,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Clause 四(四): every missing item in one single notice."""
    if not items:
        raise ValueError(f"case {reference}: a missing-material notice needs at least one item")
    return dict(locals())


def routed_internally_context(
    *,
    reference: str,
    complainant_name: str | None,
    department: str,
    resolve_due: date,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Clause 三(五): a matter in the organisation's own remit, coordinated internally."""
    return dict(locals())


def referred_to_authority_context(
    *,
    reference: str,
    complainant_name: str | None,
    authority: str,
    referred_on: date,
    answer_due: date | None,
    reply_address: str,
    org: OrganisationInfo,
    jurisdiction: str | None = None,
) -> Context:
    """Clause 三(五): the complainant is told which authority the matter went to, and why
    (``jurisdiction``: what the authority is responsible for)."""
    return dict(locals())


def extension_context(
    *,
    reference: str,
    complainant_name: str | None,
    reason: str,
    previous_due: date,
    new_due: date,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Clause 四(六): an extension, with its reason and the new time limit."""
    return dict(locals())


def outcome_context(
    *,
    reference: str,
    complainant_name: str | None,
    outcome: str,
    resolved_on: date,
    authority: str | None,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Clause 三(五)/六: the result, told promptly (``authority`` when one handled it)."""
    return dict(locals())


def satisfaction_survey_context(
    *,
    reference: str,
    complainant_name: str | None,
    survey_url: str | None,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Clause 五(三): the feedback form after the service."""
    return dict(locals())


def assignment_context(
    *,
    reference: str,
    handler_name: str,
    case_subject: str,
    category: str | None,
    received_on: date,
    resolve_due: date,
    delegate_for: str | None,
    commands_help: list[str],
    org: OrganisationInfo,
) -> Context:
    """A case given to a handler (or to a delegate for an absent one, clause 四(六))."""
    return dict(locals())


def handler_reminder_context(
    *,
    reference: str,
    handler_name: str,
    case_subject: str,
    resolve_due: date,
    working_days_left: int,
    commands_help: list[str],
    org: OrganisationInfo,
) -> Context:
    """Clause 四(三): a reminder before the time limit."""
    return dict(locals())


def supervisor_escalation_context(
    *,
    reference: str,
    supervisor_name: str,
    handler_name: str | None,
    case_subject: str,
    resolve_due: date,
    reason: str,
    days_overdue: int,
    org: OrganisationInfo,
) -> Context:
    """Clauses 四(三)/四(五): overdue, major or difficult matters go to the supervisor."""
    return dict(locals())


def supervisor_digest_context(
    *,
    supervisor_name: str,
    digest_date: date,
    rows: list[DigestRow],
    new_count: int,
    due_soon_count: int,
    overdue_count: int,
    org: OrganisationInfo,
) -> Context:
    """The supervisor's daily overview."""
    return dict(locals())


def authority_referral_context(
    *,
    authority_name: str,
    reference: str,
    received_on: date,
    category: str | None,
    matter: str,
    complainant: ComplainantDetails | None,
    health_details: str | None,
    answer_due: date | None,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Clause 三(五): the report to an authority; personal data only as a rule allows."""
    return dict(locals())


def authority_follow_up_context(
    *,
    authority_name: str,
    reference: str,
    referred_on: date,
    answer_due: date | None,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Asking an authority how a reported matter stands."""
    return dict(locals())


def hotline_callback_list_context(
    *, list_date: date, rows: list[CallbackRow], org: OrganisationInfo
) -> Context:
    """Complainants the hotline must call (mail failed, or a follow-up call is due)."""
    return dict(locals())


def command_refusal_context(
    *,
    command: str,
    reason: str,
    reference: str | None,
    commands_help: list[str],
    org: OrganisationInfo,
) -> Context:
    """A command mail from staff that was not carried out, and why."""
    return dict(locals())


def command_done_context(
    *, command: str, result: str, reference: str | None, org: OrganisationInfo
) -> Context:
    """A command mail from staff that was carried out, and what it did."""
    return dict(locals())


def message_refused_context(
    *, original_subject: str, reason: str, org: OrganisationInfo
) -> Context:
    """A mail intake could not take in (too large): the sender is told how to resend."""
    return dict(locals())


