"""The notices of one item's handling, queued through ``notifications``.

``RoutingMailer`` is routing's ``Mailer`` port: routing says who is told what (a
``routing.ports.Notice`` whose kind is the notification's own name); this picks the
``queue_*`` function for that kind, fills its arguments, and returns the Message-ID of the
queued row, so that routing can recognise a reply to it. ``RefusalNotifier`` tells the
sender of a mail intake refused (too large) with the ``message_refused`` notice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from types import MethodType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.clock import local_date
from casework.models import Case, Extension
from casework.services import ACTOR_INTAKE
from casework.transitions import record
from handling.backscatter import DEFAULT_CAPS, Caps, counted, refusal_withheld
from notifications import notices as n
from notifications.models import OutboxMail
from notifications.outbox import InvalidRecipient, MailIdentity
from notifications.renderer import TemplateRenderer
from routing.commands import help_lines
from routing.directory import TimeLimit
from routing.ports import Notice, NoticeKind

log = logging.getLogger("complaintd.handling")

Sender = Callable[[Session, Notice, "Case | None", datetime], "OutboxMail | None"]


@dataclass(frozen=True)
class RoutingMailer:
    identity: MailIdentity
    renderer: TemplateRenderer
    org: n.OrganisationInfo
    complainant_language: str | None = None
    staff_language: str = "zh"
    authority_language: str = "zh"
    caps: Caps = DEFAULT_CAPS  # a refused command's answer is capped like any refusal
    # The survey form's link for the outcome mail (case id, now) → URL, or None.
    survey_link: Callable[[int, datetime], str | None] | None = None

    def __call__(self, session: Session, notice: Notice, now: datetime) -> str | None:
        case = session.get(Case, notice.case_id) if notice.case_id is not None else None
        # A mail that invites an answer carries its thread's token (notifications.outbox).
        mailer = self if notice.reply_token is None else replace(
            self, identity=replace(self.identity, thread_token=notice.reply_token))
        row = _SENDERS[notice.kind](mailer, session, notice, case, now)
        return row.message_id if row is not None else None

    def _senders(self) -> dict[NoticeKind, Sender]:
        """One notification function for each kind routing asks for, bound to this mailer
        (a test checks that every ``NoticeKind`` is here and has its template)."""
        return {kind: MethodType(function, self) for kind, function in _SENDERS.items()}

    def _common(self, now: datetime) -> dict[str, Any]:
        return {"identity": self.identity, "renderer": self.renderer, "org": self.org,
                "now": now}

    # -- to the complainant ---------------------------------------------------------

    def _mine(self, now: datetime) -> dict[str, Any]:
        return {**self._common(now), "language": self.complainant_language}

    def _missing_material(self, s: Session, x: Notice, case: Case | None,
                          now: datetime) -> OutboxMail | None:
        lang = n.complainant_language(_case(case), self.complainant_language)
        items = [_label(i, lang) for i in x.facts["items"]]
        return n.queue_missing_material(
            s, _case(case), items=items, reply_by=x.facts.get("reply_by"),
            limit=self._limit(x, "limit"), notice_number=int(x.facts.get("number", 1)),
            **self._mine(now))

    def _clock_started(self, s: Session, x: Notice, case: Case | None,
                       now: datetime) -> OutboxMail | None:
        return n.queue_clock_started(
            s, _case(case), complete_on=x.facts["complete_on"], resolve_due=_due(case, x),
            limit=self._limit(x, "limit"), **self._mine(now))

    def _routed_internally(self, s: Session, x: Notice, case: Case | None,
                now: datetime) -> OutboxMail | None:
        lang = n.complainant_language(_case(case), self.complainant_language)
        name = x.facts["department_en"] if lang == "en" else x.facts["department_zh"]
        return n.queue_routed_internally(s, _case(case), department=name,
                                         resolve_due=_due(case, x),
                                         limit=self._limit(x, "limit"), **self._mine(now))

    def _referred_to_authority(self, s: Session, x: Notice, case: Case | None,
                  now: datetime) -> OutboxMail | None:
        return n.queue_referred_to_authority(
            s, _case(case), authority=x.facts["authority_name"],
            referred_on=local_date(now).date(), answer_due=x.facts.get("answer_due"),
            jurisdiction=x.facts.get("jurisdiction"),
            answer_limit=_given_limit(x, "answer_limit"), **self._mine(now))

    def _extension(self, s: Session, x: Notice, case: Case | None,
                   now: datetime) -> OutboxMail | None:
        return n.queue_extension(s, _case(case), reason=x.facts["reason"],
                                 previous_due=x.facts["old_due"], new_due=x.facts["new_due"],
                                 extension=_extension_limit(s, x, _case(case)),
                                 **self._mine(now))

    def _limit(self, x: Notice, key: str) -> n.Limit:
        """Routing's limit (a ``TimeLimit``: days and kind) as the notice states it; without
        one, the organisation's own (working days)."""
        return _given_limit(x, key) or self.org.resolve_limit

    def _outcome(self, s: Session, x: Notice, case: Case | None,
                 now: datetime) -> OutboxMail | None:
        return n.queue_outcome(s, _case(case), outcome=x.facts["outcome"],
                               resolved_on=local_date(now).date(),
                               authority=x.facts.get("authority"), **self._mine(now))

    def _satisfaction_survey(self, s: Session, x: Notice, case: Case | None,
                now: datetime) -> OutboxMail | None:
        the_case = _case(case)
        url = self.survey_link(the_case.id, now) if self.survey_link is not None else None
        return n.queue_satisfaction_survey(s, the_case, resolved_on=local_date(now).date(),
                                           survey_url=url, **self._mine(now))

    # -- to staff --------------------------------------------------------------------

    def _staff(self, now: datetime) -> dict[str, Any]:
        return {**self._common(now), "language": self.staff_language}

    def _assignment(self, s: Session, x: Notice, case: Case | None,
                    now: datetime) -> OutboxMail | None:
        return n.queue_assignment(
            s, _case(case), handler_email=x.recipient, handler_name=x.recipient_name or "",
            deadline=x.facts.get("resolve_due") or _case(case).resolve_due,
            limit=self._limit(x, "limit"), commands_help=help_lines(),
            delegate_for=x.facts.get("covers_for"),
            occasion=str(x.facts.get("occasion", "")), **self._staff(now))

    def _handler_reminder(self, s: Session, x: Notice, case: Case | None,
                  now: datetime) -> OutboxMail | None:
        return n.queue_handler_reminder(
            s, _case(case), handler_email=x.recipient, handler_name=x.recipient_name or "",
            working_days_left=int(x.facts["days_left"]), commands_help=help_lines(),
            limit=self._limit(x, "limit"), **self._staff(now))

    def _supervisor_escalation(self, s: Session, x: Notice, case: Case | None,
                    now: datetime) -> OutboxMail | None:
        return n.queue_supervisor_escalation(
            s, _case(case), supervisor_email=x.recipient,
            supervisor_name=x.recipient_name or "", handler_name=x.facts.get("handler"),
            reason=str(x.facts["reason"]), days_overdue=int(x.facts.get("days_overdue", 0)),
            limit=self._limit(x, "limit"), **self._staff(now))

    def _supervisor_digest(self, s: Session, x: Notice, case: Case | None,
                now: datetime) -> OutboxMail | None:
        rows = [n.DigestRow(reference=r["reference"], status=r["status"],
                            handler=r.get("handler"), resolve_due=r["due"],
                            overdue=r["overdue"], kind=r.get("kind", "working"))
                for r in x.facts["cases"]]
        return n.queue_supervisor_digest(
            s, supervisor_email=x.recipient, supervisor_name=x.recipient_name or "",
            digest_date=x.facts["day"], rows=rows, new_count=int(x.facts.get("new", 0)),
            due_soon_count=sum(1 for r in rows if not r.overdue), **self._staff(now))

    def _command_refusal(self, s: Session, x: Notice, case: Case | None,
                         now: datetime) -> OutboxMail | None:
        # Anyone can forge a From: the refusal goes to that address, so it is capped.
        withheld = refusal_withheld(s, x.recipient, now, self.caps)
        if withheld is not None:
            if case is not None:
                record(case, "refusal_withheld", actor=ACTOR_INTAKE, at=now,
                       details={"notice": "command_refusal", "why": withheld})
            return None
        row = n.queue_command_refusal(
            s, staff_email=x.recipient, command_message_id=x.in_reply_to,
            command=str(x.facts.get("command", "")), reason=x.facts["why"], case=case,
            commands_help=help_lines(), command_references=x.references, **self._staff(now))
        counted(s, x.recipient, "command_refusal")
        return row

    def _command_done(self, s: Session, x: Notice, case: Case | None,
                      now: datetime) -> OutboxMail | None:
        return n.queue_command_done(
            s, staff_email=x.recipient, command_message_id=x.in_reply_to,
            command="\n".join(x.facts["commands"]), result=str(x.facts["result"]), case=case,
            command_references=x.references, **self._staff(now))

    # -- the whole life of a case (routing.case_life) ------------------------------------

    def _case_closed(self, s: Session, x: Notice, case: Case | None,
                     now: datetime) -> OutboxMail | None:
        return n.queue_case_closed(s, _case(case), how=x.facts["how"], reason=x.facts["reason"],
                                   merged_into=x.facts.get("merged_into"),
                                   key=f":{now.isoformat()}", **self._mine(now))

    def _interim_reply(self, s: Session, x: Notice, case: Case | None,
                       now: datetime) -> OutboxMail | None:
        return n.queue_interim_reply(s, _case(case), text=x.facts["text"],
                                     handler_name=x.facts.get("handler_name"),
                                     key=str(x.facts.get("key") or now.isoformat()),
                                     **self._mine(now))

    def _appointment(self, s: Session, x: Notice, case: Case | None,
                     now: datetime) -> OutboxMail | None:
        return n.queue_appointment(s, _case(case), appointment_date=x.facts["date"],
                                   details=x.facts.get("details", ""), **self._mine(now))

    def _complainant_wrote(self, s: Session, x: Notice, case: Case | None,
                           now: datetime) -> OutboxMail | None:
        return n.queue_complainant_wrote(
            s, _case(case), staff_email=x.recipient, staff_name=x.recipient_name or "",
            text=x.facts["text"], attachments=int(x.facts.get("attachments", 0)),
            via=x.facts.get("via") or _case(case).reference, status=str(x.facts["status"]),
            commands_help=help_lines(), key=str(x.facts.get("key") or now.isoformat()),
            **self._staff(now))

    def _authority_answered(self, s: Session, x: Notice, case: Case | None,
                            now: datetime) -> OutboxMail | None:
        return n.queue_authority_answered(
            s, _case(case), staff_email=x.recipient, staff_name=x.recipient_name or "",
            authority_name=str(x.facts["authority_name"]), sender=str(x.facts["sender"]),
            answer=str(x.facts["answer"]), verified=bool(x.facts["verified"]),
            why=str(x.facts.get("why", "")), commands_help=help_lines(),
            key=x.dedup_key, **self._staff(now))

    # -- to an authority ---------------------------------------------------------------

    def _authority_referral(self, s: Session, x: Notice, case: Case | None,
                         now: datetime) -> OutboxMail | None:
        fields = [f for f in x.facts["fields"] if f in ("name", "phone", "email")]
        return n.queue_authority_referral(
            s, _case(case), authority_name=x.facts["authority_name"], authority_email=x.recipient,
            matter=x.facts["matter"], personal_fields=fields,
            health_allowed="health" in x.facts["fields"],
            health_details=x.facts.get("health_details"), answer_due=x.facts["answer_due"],
            answer_limit=_given_limit(x, "answer_limit"), **self._common(now),
            language=self.authority_language)

    def _authority_follow_up(self, s: Session, x: Notice, case: Case | None,
                            now: datetime) -> OutboxMail | None:
        return n.queue_authority_follow_up(
            s, _case(case), authority_name=x.facts["authority_name"],
            authority_email=x.recipient, referred_on=x.facts["sent_on"],
            answer_due=x.facts.get("answer_due"), follow_up_number=int(x.facts["number"]),
            answer_limit=_given_limit(x, "answer_limit"), overdue=bool(x.facts.get("overdue")),
            **self._common(now), language=self.authority_language)


# Looked up once per notice; built once, not per call (each notice's mailer is a new
# copy carrying its reply token, so a per-instance table was built for every mail).
_SENDERS: dict[NoticeKind, Callable[[RoutingMailer, Session, Notice, Case | None, datetime],
                                    OutboxMail | None]] = {
    NoticeKind.MISSING_MATERIAL: RoutingMailer._missing_material,
    NoticeKind.CLOCK_STARTED: RoutingMailer._clock_started,
    NoticeKind.ROUTED_INTERNALLY: RoutingMailer._routed_internally,
    NoticeKind.REFERRED_TO_AUTHORITY: RoutingMailer._referred_to_authority,
    NoticeKind.EXTENSION: RoutingMailer._extension,
    NoticeKind.OUTCOME: RoutingMailer._outcome,
    NoticeKind.SATISFACTION_SURVEY: RoutingMailer._satisfaction_survey,
    NoticeKind.ASSIGNMENT: RoutingMailer._assignment,
    NoticeKind.HANDLER_REMINDER: RoutingMailer._handler_reminder,
    NoticeKind.SUPERVISOR_ESCALATION: RoutingMailer._supervisor_escalation,
    NoticeKind.SUPERVISOR_DIGEST: RoutingMailer._supervisor_digest,
    NoticeKind.AUTHORITY_REFERRAL: RoutingMailer._authority_referral,
    NoticeKind.AUTHORITY_FOLLOW_UP: RoutingMailer._authority_follow_up,
    NoticeKind.COMMAND_REFUSAL: RoutingMailer._command_refusal,
    NoticeKind.COMMAND_DONE: RoutingMailer._command_done,
    NoticeKind.CASE_CLOSED: RoutingMailer._case_closed,
    NoticeKind.INTERIM_REPLY: RoutingMailer._interim_reply,
    NoticeKind.APPOINTMENT: RoutingMailer._appointment,
    NoticeKind.COMPLAINANT_WROTE: RoutingMailer._complainant_wrote,
    NoticeKind.AUTHORITY_ANSWERED: RoutingMailer._authority_answered,
}


def _case(case: Case | None) -> Case:
    if case is None:
        raise ValueError("this notice needs its case")
    return case


def _given_limit(notice: Notice, key: str) -> n.Limit | None:
    """Routing's ``TimeLimit`` (days and kind) under ``key`` as a notice states it."""
    value = notice.facts.get(key)
    if isinstance(value, TimeLimit):
        return n.Limit(value.days, value.kind)
    return None


def _extension_limit(session: Session, notice: Notice, case: Case) -> n.Limit:
    """The days an extension added: routing's value, else the case's extension row
    (``routing.actions.approve`` counts them in working days)."""
    given = _given_limit(notice, "extension")
    if given is not None:
        return given
    days = session.scalar(select(Extension.days).where(Extension.case_id == case.id)
                          .order_by(Extension.id.desc()).limit(1))
    return n.Limit(int(days or 1), "working")


def _due(case: Case | None, notice: Notice) -> date:
    """The deadline to show: the case's, or while waiting for material the provisional one."""
    due = notice.facts.get("resolve_due") or _case(case).resolve_due or _case(case).acknowledge_due
    if due is None:
        raise ValueError(f"case {notice.reference}: no deadline to show")
    return due


def _label(item: dict[str, str], language: str) -> str:
    if language == "en":
        return item["en"]
    if language == "bilingual":
        return f"{item['zh']} / {item['en']}"
    return item["zh"]


# Intake refuses a mail only for its size (``ImapPoller``: headers fetched, body never);
# its reason is English and technical and stays in the quarantine: the sender reads this.
_TOO_LARGE = ("邮件过大，超过了邮箱的大小上限 / the mail is larger than our mailbox's size "
              "limit")


@dataclass(frozen=True)
class RefusedMail:
    """What intake read of a mail it refused (only the headers were fetched)."""

    sender: str | None
    sender_name: str | None
    subject: str
    message_id: str | None
    machine: bool  # an auto-reply or a bounce: never answered
    key: str  # identifies the refused mail: one notice each


@dataclass(frozen=True)
class RefusalNotifier:
    """Tells the sender of a refused (oversized) mail, once per message and within the
    caps of ``handling.backscatter``; returns why the sender was not told (for the
    quarantine row), or None."""

    identity: MailIdentity
    renderer: TemplateRenderer
    org: n.OrganisationInfo
    caps: Caps = DEFAULT_CAPS

    def __call__(self, session: Session, mail: RefusedMail, now: datetime) -> str | None:
        if mail.machine or not mail.sender:
            return "sender not told: an automatic mail or no sender"  # never answer a machine
        withheld = refusal_withheld(session, mail.sender, now, self.caps)
        if withheld is not None:
            return f"sender not told: {withheld}"
        try:
            n.queue_message_refused(
                session, recipient_email=mail.sender, recipient_name=mail.sender_name,
                original_subject=mail.subject or "(无主题 / no subject)",
                original_message_id=mail.message_id,
                reason=_TOO_LARGE,
                source_key=mail.key, identity=self.identity, renderer=self.renderer,
                org=self.org, now=now)
        except InvalidRecipient:
            log.warning("intake: refused mail has no usable sender address; nobody told")
            return "sender not told: no usable address"
        counted(session, mail.sender, "message_refused")
        return None


@dataclass(frozen=True)
class TriageNotifier:
    """Without routing rules every new case waits in the triage queue: the configured
    triage addresses are told of each (``[routing] triage_to``), so somebody knows."""

    recipients: tuple[str, ...]
    identity: MailIdentity
    renderer: TemplateRenderer
    org: n.OrganisationInfo
    language: str = "zh"

    def __call__(self, session: Session, case: Case, now: datetime) -> None:
        for address in self.recipients:
            n.queue_triage_new_case(session, case, recipient_email=address,
                                    identity=self.identity, renderer=self.renderer,
                                    org=self.org, now=now, language=self.language)
