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
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from casework.clock import local_date
from casework.models import Case
from notifications import notices as n
from notifications.models import OutboxMail
from notifications.outbox import InvalidRecipient, MailIdentity
from notifications.renderer import TemplateRenderer
from routing.commands import help_lines
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

    def __call__(self, session: Session, notice: Notice, now: datetime) -> str | None:
        case = session.get(Case, notice.case_id) if notice.case_id is not None else None
        row = self._senders()[notice.kind](session, notice, case, now)
        return row.message_id if row is not None else None

    def _senders(self) -> dict[NoticeKind, Sender]:
        """One notification function for each kind routing asks for (a test checks that
        every ``NoticeKind`` is here and has its template)."""
        K = NoticeKind
        return {
            K.MISSING_MATERIAL: self._missing_material,
            K.ROUTED_INTERNALLY: self._routed_internally,
            K.REFERRED_TO_AUTHORITY: self._referred_to_authority,
            K.EXTENSION: self._extension,
            K.OUTCOME: self._outcome,
            K.SATISFACTION_SURVEY: self._satisfaction_survey,
            K.ASSIGNMENT: self._assignment,
            K.HANDLER_REMINDER: self._handler_reminder,
            K.SUPERVISOR_ESCALATION: self._supervisor_escalation,
            K.SUPERVISOR_DIGEST: self._supervisor_digest,
            K.AUTHORITY_REFERRAL: self._authority_referral,
            K.AUTHORITY_FOLLOW_UP: self._authority_follow_up,
            K.COMMAND_REFUSAL: self._command_refusal,
            K.COMMAND_DONE: self._command_done,
        }

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
            working_days=int(x.facts.get("working_days", self.org.resolve_working_days)),
            notice_number=int(x.facts.get("number", 1)), **self._mine(now))

    def _routed_internally(self, s: Session, x: Notice, case: Case | None,
                now: datetime) -> OutboxMail | None:
        lang = n.complainant_language(_case(case), self.complainant_language)
        name = x.facts["department_en"] if lang == "en" else x.facts["department_zh"]
        return n.queue_routed_internally(s, _case(case), department=name,
                                         resolve_due=_due(case, x), **self._mine(now))

    def _referred_to_authority(self, s: Session, x: Notice, case: Case | None,
                  now: datetime) -> OutboxMail | None:
        return n.queue_referred_to_authority(
            s, _case(case), authority=x.facts["authority_name"],
            referred_on=local_date(now).date(), answer_due=x.facts.get("answer_due"),
            jurisdiction=x.facts.get("jurisdiction"), **self._mine(now))

    def _extension(self, s: Session, x: Notice, case: Case | None,
                   now: datetime) -> OutboxMail | None:
        return n.queue_extension(s, _case(case), reason=x.facts["reason"],
                                 previous_due=x.facts["old_due"], new_due=x.facts["new_due"],
                                 **self._mine(now))

    def _outcome(self, s: Session, x: Notice, case: Case | None,
                 now: datetime) -> OutboxMail | None:
        return n.queue_outcome(s, _case(case), outcome=x.facts["outcome"],
                               resolved_on=local_date(now).date(),
                               authority=x.facts.get("authority"), **self._mine(now))

    def _satisfaction_survey(self, s: Session, x: Notice, case: Case | None,
                now: datetime) -> OutboxMail | None:
        return n.queue_satisfaction_survey(s, _case(case), resolved_on=local_date(now).date(),
                                           survey_url=None, **self._mine(now))

    # -- to staff --------------------------------------------------------------------

    def _staff(self, now: datetime) -> dict[str, Any]:
        return {**self._common(now), "language": self.staff_language}

    def _assignment(self, s: Session, x: Notice, case: Case | None,
                    now: datetime) -> OutboxMail | None:
        return n.queue_assignment(
            s, _case(case), handler_email=x.recipient, handler_name=x.recipient_name or "",
            deadline=_due(case, x), commands_help=help_lines(),
            delegate_for=x.facts.get("covers_for"),
            occasion=str(x.facts.get("occasion", "")), **self._staff(now))

    def _handler_reminder(self, s: Session, x: Notice, case: Case | None,
                  now: datetime) -> OutboxMail | None:
        return n.queue_handler_reminder(
            s, _case(case), handler_email=x.recipient, handler_name=x.recipient_name or "",
            working_days_left=int(x.facts["days_left"]), commands_help=help_lines(),
            **self._staff(now))

    def _supervisor_escalation(self, s: Session, x: Notice, case: Case | None,
                    now: datetime) -> OutboxMail | None:
        return n.queue_supervisor_escalation(
            s, _case(case), supervisor_email=x.recipient,
            supervisor_name=x.recipient_name or "", handler_name=x.facts.get("handler"),
            reason=str(x.facts["reason"]), days_overdue=int(x.facts.get("days_overdue", 0)),
            **self._staff(now))

    def _supervisor_digest(self, s: Session, x: Notice, case: Case | None,
                now: datetime) -> OutboxMail | None:
        rows = [n.DigestRow(reference=r["reference"], status=r["status"],
                            handler=r.get("handler"), resolve_due=r["due"],
                            overdue=r["overdue"]) for r in x.facts["cases"]]
        return n.queue_supervisor_digest(
            s, supervisor_email=x.recipient, supervisor_name=x.recipient_name or "",
            digest_date=x.facts["day"], rows=rows, new_count=int(x.facts.get("new", 0)),
            due_soon_count=sum(1 for r in rows if not r.overdue), **self._staff(now))

    def _command_refusal(self, s: Session, x: Notice, case: Case | None,
                         now: datetime) -> OutboxMail | None:
        return n.queue_command_refusal(
            s, staff_email=x.recipient, command_message_id=x.in_reply_to,
            command=str(x.facts.get("command", "")), reason=x.facts["why"], case=case,
            commands_help=help_lines(), command_references=x.references, **self._staff(now))

    def _command_done(self, s: Session, x: Notice, case: Case | None,
                      now: datetime) -> OutboxMail | None:
        return n.queue_command_done(
            s, staff_email=x.recipient, command_message_id=x.in_reply_to,
            command="\n".join(x.facts["commands"]), result=str(x.facts["result"]), case=case,
            command_references=x.references, **self._staff(now))

    # -- to an authority ---------------------------------------------------------------

    def _authority_referral(self, s: Session, x: Notice, case: Case | None,
                         now: datetime) -> OutboxMail | None:
        fields = [f for f in x.facts["fields"] if f in ("name", "phone", "email")]
        return n.queue_authority_referral(
            s, _case(case), authority_name=x.facts["authority_name"], authority_email=x.recipient,
            matter=x.facts["matter"], personal_fields=fields,
            health_allowed="health" in x.facts["fields"],
            health_details=x.facts.get("health_details"), answer_due=x.facts["answer_due"],
            **self._common(now), language=self.authority_language)

    def _authority_follow_up(self, s: Session, x: Notice, case: Case | None,
                            now: datetime) -> OutboxMail | None:
        return n.queue_authority_follow_up(
            s, _case(case), authority_name=x.facts["authority_name"],
            authority_email=x.recipient, referred_on=x.facts["sent_on"],
            answer_due=x.facts.get("answer_due"), follow_up_number=int(x.facts["number"]),
            **self._common(now), language=self.authority_language)


def _case(case: Case | None) -> Case:
    if case is None:
        raise ValueError("this notice needs its case")
    return case


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


# Intake's reasons are English and technical; the sender reads this one.
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
    """Tells the sender of a refused (oversized) mail, once per message."""

    identity: MailIdentity
    renderer: TemplateRenderer
    org: n.OrganisationInfo

    def __call__(self, session: Session, mail: RefusedMail, reason: str, now: datetime) -> None:
        if mail.machine or not mail.sender:
            return  # never answer a machine
        try:
            n.queue_message_refused(
                session, recipient_email=mail.sender, recipient_name=mail.sender_name,
                original_subject=mail.subject or "(无主题 / no subject)",
                original_message_id=mail.message_id,
                reason=_TOO_LARGE if "over the limit" in reason else reason,
                source_key=mail.key, identity=self.identity, renderer=self.renderer,
                org=self.org, now=now)
        except InvalidRecipient:
            log.warning("intake: refused mail has no usable sender address; nobody told")
