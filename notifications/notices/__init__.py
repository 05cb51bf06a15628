"""Every notice the policy promises: one typed ``queue_*`` function each.

How they all behave
-------------------
- Call them inside the transaction of the change that causes the mail; they never
  commit. The whole message is rendered now and stored in ``outbox_mail``.
- Each has a stable dedup key (below): calling it again for the same change returns the
  row queued the first time and queues nothing.
- They return the ``OutboxMail`` (``.message_id`` is the stored Message-ID) or None when
  the mail cannot be addressed; that is recorded on the case timeline
  (``mail_not_queued``), and complainant notices set ``case.phone_follow_up`` when the
  complainant has a phone number but no usable address.
- Common keyword arguments: ``identity: MailIdentity`` (From, Reply-To = the intake
  mailbox, Message-ID domain), ``renderer: TemplateRenderer``, ``org: OrganisationInfo``,
  ``now: datetime`` (aware). ``App`` in complaintd has ``identity``, ``renderer`` and
  ``organisation``.
- Language: complainant notices take ``language: str | None = None`` ("zh", "en",
  "bilingual"; None or "auto" = the case's language, Chinese text → "zh"); pass
  ``settings.organisation.complainant_language``. Staff and authority notices take
  ``language: str = "zh"``; pass ``settings.notices.staff_language`` /
  ``settings.notices.authority_language``.
- Subjects carry ``[reference]``; complainant notices are threaded (In-Reply-To /
  References) into the case's mail thread and their Message-ID is stored on the case;
  Auto-Submitted is ``auto-replied`` only on direct replies (acknowledgement, command
  answers), ``auto-generated`` elsewhere.

To the complainant (``case`` first; key in brackets)
----------------------------------------------------
- ``queue_acknowledgement(session, case, *, inbound_message_id, references, identity,
  renderer, org, now, language_override=None, limit=None, awaiting_material=False)``
  [ack:REF] — ``limit``: a ``Limit(days, "working" | "calendar")``, stated with its unit;
  awaiting material: no date is promised.
- ``queue_missing_material(session, case, *, items, reply_by, limit, identity,
  renderer, org, now, language=None, notice_number=1)``  [missing:REF:N] — clause 四(四):
  ALL items in one notice.
- ``queue_clock_started(session, case, *, complete_on, resolve_due, limit, ...)``
  [clock-started:REF:COMPLETE_ON] — clause 四(四): the date, once the material is complete.
- ``queue_routed_internally(session, case, *, department, resolve_due, ...)``
  [routed:REF:DEPARTMENT]
- ``queue_referred_to_authority(session, case, *, authority, referred_on, answer_due, ...)``
  [referred:REF:AUTHORITY]
- ``queue_extension(session, case, *, reason, previous_due, new_due, ...)``
  [extension:REF:NEW_DUE]
- ``queue_outcome(session, case, *, outcome, resolved_on, authority, ...)``
  [outcome:REF:RESOLVED_ON] (``authority``: None when we decided it)
- ``queue_satisfaction_survey(session, case, *, resolved_on, survey_url, ...)``
  [survey:REF:RESOLVED_ON]
- ``queue_case_closed(session, case, *, how, reason, merged_into, ..., key="")``
  [closed:REF:HOW[KEY]] — closed, withdrawn, out of scope or merged (never for spam)
- ``queue_interim_reply(session, case, *, text, handler_name, key, ...)`` [reply:REF:KEY]
- ``queue_appointment(session, case, *, appointment_date, details, ...)``
  [appointment:REF:DATE] — clause 四(六) 预约服务

To staff
--------
- ``queue_complainant_wrote(session, case, *, staff_email, staff_name, text, attachments,
  via, status, commands_help, key, ...)``  [wrote:REF:EMAIL:KEY]
- ``queue_authority_answered(session, case, *, staff_email, staff_name, authority_name,
  sender, answer, verified, why, commands_help, key, ...)``  [answered:REF:EMAIL:KEY] — an
  authority's answer (or an unverified mail in its name), confirmed with #转告
- ``queue_triage_new_case(session, case, *, recipient_email, ...)``  [triage:REF:EMAIL] —
  without routing rules, every new case to the configured triage address
- ``queue_assignment(session, case, *, handler_email, handler_name, deadline,
  commands_help, identity, renderer, org, now, delegate_for=None, occasion="",
  language="zh")``  [assign:REF:EMAIL[:OCCASION]]
- ``queue_handler_reminder(session, case, *, handler_email, handler_name,
  working_days_left, commands_help, ...)``  [reminder:REF:EMAIL:DUE:DAYS_LEFT]
- ``queue_supervisor_escalation(session, case, *, supervisor_email, supervisor_name,
  handler_name, reason, days_overdue, ...)``  [escalation:REF:EMAIL:DUE:hash(reason)]
- ``queue_supervisor_digest(session, *, supervisor_email, supervisor_name, digest_date,
  rows: Sequence[DigestRow], new_count, due_soon_count, ...)``  [digest:EMAIL:DATE]
- ``queue_hotline_callback_list(session, *, recipient_email, list_date,
  rows: Sequence[CallbackRow], ...)``  [callbacks:EMAIL:DATE]
- ``queue_command_refusal(session, *, staff_email, command_message_id, command, reason,
  case, commands_help, ..., command_references=())``  [command-refusal:hash(Message-ID)]
- ``queue_command_done(session, *, staff_email, command_message_id, command, result,
  case, ..., command_references=())``  [command-done:hash(Message-ID)]

To the sender of a mail intake refused (no case)
------------------------------------------------
- ``queue_message_refused(session, *, recipient_email, recipient_name, original_subject,
  original_message_id, reason, source_key, ..., language="bilingual")``
  [refused:SOURCE_KEY] — auto-replied; for handling.notices.RefusalNotifier.

To the operator (``[operator] alert_to``)
-----------------------------------------
- ``queue_calendar_missing(session, *, recipient_email, today, years: Sequence[MissingYear],
  ...)``  [calendar-missing:EMAIL:DATE] — next year's holidays missing (from 1 November).

To the director (``[reports] director_to``)
------------------------------------------
- ``queue_monthly_summary(session, *, recipient_email, summary: MonthSummary, ...)``
  [monthly-summary:EMAIL:YYYY-MM] — last month against the month before, overdue today.

To an administrative authority
------------------------------
- ``queue_authority_referral(session, case, *, authority_name, authority_email, matter,
  personal_fields, health_allowed, health_details, answer_due, ...)``
  [referral:REF:EMAIL] — only the personal fields the rule lists ("name", "phone",
  "email"); health details only if ``health_allowed`` and the party consented; withheld
  values are masked in ``matter``; what was shared goes on the timeline.
- ``queue_authority_follow_up(session, case, *, authority_name, authority_email,
  referred_on, answer_due, ..., follow_up_number=1)``  [referral-follow-up:REF:EMAIL:N],
  threaded under the referral letter.

routing.ports kinds → functions: material_request → queue_missing_material, routed →
queue_routed_internally, referred → queue_referred_to_authority, extension, outcome,
survey → queue_satisfaction_survey, assignment, reminder → queue_handler_reminder,
escalation → queue_supervisor_escalation, digest → queue_supervisor_digest,
referral_letter → queue_authority_referral, referral_follow_up → queue_authority_follow_up,
command_refused → queue_command_refusal, command_done → queue_command_done.
"""

from notifications.contexts import (
    CallbackRow,
    ComplainantDetails,
    DigestRow,
    Limit,
    MissingYear,
    OrganisationInfo,
)
from notifications.notices.authority import (
    queue_authority_follow_up,
    queue_authority_referral,
    shared_details,
    shared_health,
)
from notifications.notices.case_life import (
    queue_appointment,
    queue_authority_answered,
    queue_case_closed,
    queue_complainant_wrote,
    queue_interim_reply,
    queue_triage_new_case,
)
from notifications.notices.common import complainant_language, tell_by_phone
from notifications.notices.complainant import (
    queue_acknowledgement,
    queue_clock_started,
    queue_extension,
    queue_missing_material,
    queue_outcome,
    queue_referred_to_authority,
    queue_routed_internally,
    queue_satisfaction_survey,
)
from notifications.notices.director import MonthSummary, queue_monthly_summary
from notifications.notices.operator import queue_calendar_missing
from notifications.notices.staff import (
    queue_assignment,
    queue_command_done,
    queue_command_refusal,
    queue_handler_reminder,
    queue_hotline_callback_list,
    queue_message_refused,
    queue_supervisor_digest,
    queue_supervisor_escalation,
)

__all__ = [
    "CallbackRow",
    "ComplainantDetails",
    "DigestRow",
    "Limit",
    "MissingYear",
    "MonthSummary",
    "OrganisationInfo",
    "complainant_language",
    "queue_acknowledgement",
    "queue_appointment",
    "queue_assignment",
    "queue_authority_answered",
    "queue_authority_follow_up",
    "queue_authority_referral",
    "queue_calendar_missing",
    "queue_case_closed",
    "queue_clock_started",
    "queue_command_done",
    "queue_command_refusal",
    "queue_complainant_wrote",
    "queue_extension",
    "queue_handler_reminder",
    "queue_hotline_callback_list",
    "queue_interim_reply",
    "queue_message_refused",
    "queue_missing_material",
    "queue_monthly_summary",
    "queue_outcome",
    "queue_referred_to_authority",
    "queue_routed_internally",
    "queue_satisfaction_survey",
    "queue_supervisor_digest",
    "queue_supervisor_escalation",
    "queue_triage_new_case",
    "shared_details",
    "shared_health",
    "tell_by_phone",
]
