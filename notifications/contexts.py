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


DayKind = Literal["working", "calendar"]

_UNIT_ZH = {"working": "工作日", "calendar": "自然日"}
_UNIT_EN = {"working": "working day", "calendar": "calendar day"}
_COUNTED_ZH = {
    "working": "按工作日计算，不含周末和法定节假日",
    "calendar": "按自然日计算，含周末和节假日；最后一天为休息日的，顺延至下一个工作日",
}
_COUNTED_EN = {
    "working": "counted in working days, without weekends and public holidays",
    "calendar": "counted in calendar days, weekends and holidays included; a last day that "
                "falls on a rest day moves to the next working day",
}


@dataclass(frozen=True)
class Limit:
    """A time limit as a notice states it: how many days, and how they were counted.

    The date a notice gives was computed in this unit, so the notice names the unit next
    to the date ("30个自然日" is not "30个工作日": clause 四(三)).
    """

    days: int
    kind: DayKind = "working"

    def __post_init__(self) -> None:
        if self.kind not in _UNIT_ZH:
            raise ValueError(f"unknown kind of days {self.kind!r}; use working or calendar")

    @property
    def zh(self) -> str:
        """"15个工作日" / "30个自然日"."""
        return f"{self.days}个{_UNIT_ZH[self.kind]}"

    @property
    def en(self) -> str:
        """"15 working days" / "1 calendar day"."""
        unit = _UNIT_EN[self.kind]
        return f"{self.days} {unit}" + ("" if self.days == 1 else "s")

    @property
    def unit_zh(self) -> str:
        return _UNIT_ZH[self.kind]

    @property
    def unit_en(self) -> str:
        return _UNIT_EN[self.kind] + "s"

    @property
    def counted_zh(self) -> str:
        return _COUNTED_ZH[self.kind]

    @property
    def counted_en(self) -> str:
        return _COUNTED_EN[self.kind]


@dataclass(frozen=True)
class OrganisationInfo:
    """The organisation as the mails present it (from settings)."""

    name: str
    name_en: str
    hotline_phone: str
    # The committed time limit shown in the acknowledgement (限时办结).
    resolve_working_days: int

    @property
    def resolve_limit(self) -> Limit:
        """The organisation's own limit (settings ``[deadlines]``), in working days."""
        return Limit(self.resolve_working_days, "working")


@dataclass(frozen=True)
class DigestRow:
    """One case in the supervisor's daily digest."""

    reference: str
    status: str  # a casework.status.CaseStatus value
    handler: str | None
    resolve_due: date
    overdue: bool
    # How the deadline was counted (its category's resolve limit).
    kind: DayKind = "working"


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
    resolve_due: date | None,
    reply_address: str,
    org: OrganisationInfo,
    limit: Limit | None = None,
    working_days: int | None = None,
    verification_code: str | None = None,
    anonymous: bool = False,
    progress_url: str | None = None,
) -> Context:
    """Clause 二(二): reference, procedure, time limit and how to add material.

    ``verification_code`` (``casework.progress``): the second factor of the public progress
    page, with ``progress_url`` (its address, when the public pages are served); an
    ``anonymous`` complainant is asked to keep it as a receipt code.

    ``limit``: the category's resolve limit (default: the organisation's, in working days;
    ``working_days`` is the older way to give a working-day limit). ``resolve_due`` None:
    material is missing, so no date is promised: clause 四(四), the limit runs from the
    day the material is complete, and that date is announced then (``clock_started``).
    """
    if limit is None:
        limit = Limit(working_days) if working_days is not None else org.resolve_limit
    return {"reference": reference, "complainant_name": complainant_name,
            "received_on": received_on, "resolve_due": resolve_due, "limit": limit,
            # Kept for override templates written before limits had a unit.
            "working_days": limit.days, "awaiting_material": resolve_due is None,
            "reply_address": reply_address, "org": org,
            "verification_code": verification_code, "anonymous": anonymous,
            "progress_url": progress_url}


def missing_material_context(
    *,
    reference: str,
    complainant_name: str | None,
    items: list[str],
    reply_by: date | None,
    limit: Limit,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Clause 四(四): every missing item in one single notice; ``limit`` runs once the
    material is complete (no date yet: it is announced when the clock starts)."""
    if not items:
        raise ValueError(f"case {reference}: a missing-material notice needs at least one item")
    return {**locals(), "working_days": limit.days}


def clock_started_context(
    *,
    reference: str,
    complainant_name: str | None,
    complete_on: date,
    resolve_due: date,
    limit: Limit,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Clause 四(四): the material is complete (``complete_on``); the limit runs from that
    day and the matter is finished by ``resolve_due``, the date first promised now."""
    return dict(locals())


def routed_internally_context(
    *,
    reference: str,
    complainant_name: str | None,
    department: str,
    resolve_due: date,
    limit: Limit,
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
    answer_limit: Limit | None = None,
) -> Context:
    """Clause 三(五): the complainant is told which authority the matter went to, and why
    (``jurisdiction``: what the authority is responsible for; ``answer_limit``: the time
    the authority is expected to take, which ``answer_due`` was counted in)."""
    return dict(locals())


def extension_context(
    *,
    reference: str,
    complainant_name: str | None,
    reason: str,
    previous_due: date,
    new_due: date,
    extension: Limit,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """Clause 四(六): an extension, with its reason and the new time limit (``extension``:
    the days added, counted from the previous date)."""
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
    resolve_due: date | None,
    limit: Limit,
    delegate_for: str | None,
    commands_help: list[str],
    org: OrganisationInfo,
) -> Context:
    """A case given to a handler (or to a delegate for an absent one, clause 四(六)).

    ``resolve_due`` None: the case waits for material and the limit has not started.
    """
    return dict(locals())


def handler_reminder_context(
    *,
    reference: str,
    handler_name: str,
    case_subject: str,
    resolve_due: date,
    limit: Limit,
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
    limit: Limit,
    reason: str,
    days_overdue: int,
    org: OrganisationInfo,
) -> Context:
    """Clauses 四(三)/四(五): overdue, major or difficult matters go to the supervisor.

    ``days_overdue`` is in calendar days (the days since the deadline), and says so.
    """
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
    answer_limit: Limit | None = None,
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
    answer_limit: Limit | None = None,
    overdue: bool = False,
) -> Context:
    """Asking an authority how a reported matter stands (``overdue``: its answer date has
    passed; the delay is the authority's, not a violation of ours)."""
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





# -- the whole life of a case (issue 13) -----------------------------------------------

CLOSED_HOW = ("closed", "withdrawn", "out_of_scope", "merged")


def case_closed_context(
    *,
    reference: str,
    complainant_name: str | None,
    how: str,
    reason: str,
    merged_into: str | None,
    reply_address: str,
    org: OrganisationInfo,
) -> Context:
    """The case ended without (or after) an outcome: closed, withdrawn, out of scope (with
    the reason and where to go instead), or merged into another case (its reference)."""
    if how not in CLOSED_HOW:
        raise ValueError(f"how must be one of {CLOSED_HOW}, not {how!r}")
    return dict(locals())


def interim_reply_context(
    *, reference: str, complainant_name: str | None, text: str, handler_name: str | None,
    reply_address: str, org: OrganisationInfo,
) -> Context:  # fmt: skip
    """The handler's own words to the complainant while the case is open."""
    return dict(locals())


def appointment_context(
    *, reference: str, complainant_name: str | None, appointment_date: date, details: str,
    reply_address: str, org: OrganisationInfo,
) -> Context:  # fmt: skip
    """Clause 四(六) 预约服务: the appointment made for a major matter, with its date."""
    return dict(locals())


def complainant_wrote_context(
    *, reference: str, staff_name: str, case_subject: str, text: str, attachments: int,
    via: str, status: str, commands_help: list[str], org: OrganisationInfo,
) -> Context:  # fmt: skip
    """The complainant wrote again: the handler reads it here (``via``: the case written to,
    when it was merged into this one)."""
    return dict(locals())


def authority_answered_context(
    *, reference: str, staff_name: str, case_subject: str, authority_name: str, sender: str,
    answer: str, verified: bool, why: str, commands_help: list[str], org: OrganisationInfo,
) -> Context:  # fmt: skip
    """An authority answered (``verified``: a reply to our letter, from its address, proven)
    or a mail in its name names the case (unverified, ``why``): the handler reads it here
    and confirms with #转告 before anything reaches the complainant."""
    return dict(locals())


def triage_new_case_context(
    *, reference: str, case_subject: str, channel: str, received_on: date, text: str,
    resolve_due: date | None, org: OrganisationInfo, limit: Limit | None = None,
) -> Context:  # fmt: skip
    """A new case in the triage queue of an installation without routing rules.

    ``limit``: what ``resolve_due`` was counted in; default the organisation's own (the
    settings' ``[deadlines]``, working days), which is what such a case is given.
    """
    return {**locals(), "limit": limit or org.resolve_limit}


@dataclass(frozen=True)
class MissingYear:
    """A year the working-day calendar lacks, as the operator is told of it."""

    year: int
    key: str  # where to add it, literally: [calendar.years."2027"]
    zh: str
    en: str


def calendar_missing_context(
    *, today: date, years: list[MissingYear], alert_to: str, org: OrganisationInfo
) -> Context:
    """The operator's alert: holiday data is missing for ``years`` (from 1 November for
    next year), so deadlines in them are estimated; sent once a day until it is added."""
    if not years:
        raise ValueError("a calendar alert needs at least one missing year")
    return dict(locals())


# -- the progress answer (issue 15) ----------------------------------------------------


@dataclass(frozen=True)
class Plain:
    """Where a case stands in words, each a (Chinese, English) pair: no personal data, no
    staff names, no complaint text. The progress page prints the same."""

    reference: str
    stage: str
    status: tuple[str, str]
    body: tuple[str, str]  # who decides: our department, or the authority referred to
    committed: tuple[str, str] | None  # the committed date, and how it was promised
    waiting_for: tuple[str, str] | None
    steps: tuple[tuple[date, str, str], ...]
    received_on: date


def progress_answer_context(*, reference: str, complainant_name: str | None,
                            progress: Plain, progress_url: str | None, reply_address: str,
                            org: OrganisationInfo) -> Context:
    """The progress answer: the stage, the deciding body, the committed date, what we
    wait for, and the steps so far."""
    return dict(locals())
