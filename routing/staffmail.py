"""Mail from staff and authorities that answers our own mail about a case.

A command is obeyed only when (1) the From address is a configured staff address, (2) the
mail threads (In-Reply-To/References) to a mail we sent that person about this case, (3)
the person is the case's handler, the handler's deputy or the case's supervisor and is not
excluded from it, and (4) our server's ``Authentication-Results`` (as intake summarised
it), when present, reports no spf/dkim/dmarc failure; it is recorded either way. Anything
else is refused with a reply saying why; a forged From gets its reply at the real address,
so the real person learns of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.inbound import Inbound
from casework.models import Case, StaffThread
from casework.services import add_follow_up
from casework.transitions import record
from routing import actions
from routing.actions import Acting, Actor
from routing.commands import Command, CommandError, action_named, parse_reply, run
from routing.conflicts import excluded, supervisor_for
from routing.context import ACTOR_ROUTER, Desk
from routing.errors import ActionRefused
from routing.feedback import authority_replied
from routing.ports import AUTHORITY_LETTERS, Notice, NoticeKind


@dataclass(frozen=True)
class StaffMailResult:
    case: Case
    # "staff_command", "command_refused", "staff_note", "authority_reply",
    # "authority_unverified"
    outcome: str


def threaded_to(session: Session, inbound: Inbound) -> StaffThread | None:
    ids = [i for i in (inbound.in_reply_to, *inbound.references) if i]
    if not ids:
        return None
    return session.scalar(select(StaffThread).where(StaffThread.message_id.in_(ids))
                          .order_by(StaffThread.id.desc()).limit(1))


def handle(session: Session, desk: Desk, inbound: Inbound, case_by_reference: Case | None,
           now: datetime) -> StaffMailResult | None:
    """Process ``inbound`` if it is staff or authority mail about a case; else None."""
    sender = (inbound.sender_email or "").lower()
    thread = threaded_to(session, inbound)
    staff = desk.config.staff_by_email(sender)
    # Set when our border is configured: "aligned-pass" proves the From domain.
    border = inbound.extra.get("authentication_border")
    answered = _answered_referral(session, desk, thread, sender, case_by_reference)
    if answered is not None and border not in (None, "aligned-pass"):
        # Anyone can write an authority's address into From: kept on the case, not obeyed.
        add_follow_up(session, answered, inbound)
        record(answered, "authority_mail_unverified", actor=ACTOR_ROUTER, at=now,
               details={"sender": sender, "authentication": inbound.extra.get("authentication")})
        return StaffMailResult(answered, "authority_unverified")
    if answered is not None:
        add_follow_up(session, answered, inbound)
        authority_replied(session, desk, answered, inbound.text, now)
        return StaffMailResult(answered, "authority_reply")
    case = session.get(Case, thread.case_id) if thread is not None else case_by_reference
    if case is None or (staff is None and thread is None):
        return None
    # Intake's summary of our own server's Authentication-Results ("dkim=pass spf=fail …").
    auth = inbound.extra.get("authentication")
    reason = _refusal(session, desk, case, staff, thread, sender, auth, border)
    if reason is not None:
        refuse(session, desk, case, sender, reason, inbound, auth, now)
        return StaffMailResult(case, "command_refused")
    assert staff is not None  # _refusal returns a reason when the sender is not staff
    return _obey(session, desk, case, Actor(staff[0], role_of(session, desk, case, staff[0])),
                 inbound, auth, now)


def _answered_referral(session: Session, desk: Desk, thread: StaffThread | None, sender: str,
                       case_by_reference: Case | None) -> Case | None:
    """The case an authority answers: a reply to our letter, or a new mail naming the case
    from the address of an authority the case was referred to."""
    if thread is not None and thread.kind in AUTHORITY_LETTERS \
            and thread.recipient.lower() == sender:
        return session.get_one(Case, thread.case_id)
    if thread is None and case_by_reference is not None and any(
            (r.authority_email or "").lower() == sender for r in case_by_reference.referrals):
        return case_by_reference
    return None


def _refusal(session: Session, desk: Desk, case: Case, staff: tuple[str, object] | None,
             thread: StaffThread | None, sender: str, auth: str | None,
             border: str | None = None) -> str | None:
    if staff is None:
        return "发件人不是本机构工作人员 / the sender is not a member of staff"
    if thread is None or thread.case_id != case.id or thread.recipient.lower() != sender:
        return ("这封邮件不是对我们就本案发给您的邮件的回复 / "
                "the mail does not answer a mail we sent you about this case")
    if border is not None and border != "aligned-pass":
        return ("我方邮件服务器未能证实发件地址（无对齐的 DMARC 或 DKIM 通过）/ our servers "
                "could not prove the sender's address (no aligned DMARC or DKIM pass)")
    if border is None and auth and any(f"{m}={bad}" in auth.lower()
                                       for m in ("spf", "dkim", "dmarc")
                                       for bad in ("fail", "softfail")):
        return ("发件地址未通过认证 / the sender's address failed authentication "
                "(Authentication-Results)")
    if staff[0] in excluded(session, case.id):
        return ("您在本投诉中被提及，不能处理本案 / "
                "you are named in this complaint and may not act on it")
    if role_of(session, desk, case, staff[0]) == "":
        return ("只有本案承办人、代理人或主管可以操作 / "
                "only the assigned handler, the deputy or the supervisor may act on this case")
    return None


def role_of(session: Session, desk: Desk, case: Case, staff: str) -> str:
    # The supervisor keeps the supervisor's commands when the case is theirs to handle too
    # (a low satisfaction mark sends it back to them for review).
    if staff == supervisor_for(desk.config, case.department, excluded(session, case.id)):
        return "supervisor"
    current = next((a for a in reversed(case.assignments) if a.ended_at is None), None)
    handler = current.handler if current else None
    if staff == handler or (current is not None and staff == current.delegate_for):
        return "handler"
    if handler in desk.config.staff and desk.config.staff[handler].delegate == staff:
        return "delegate"
    return ""


def _obey(session: Session, desk: Desk, case: Case, actor: Actor, inbound: Inbound,
          auth: str | None, now: datetime) -> StaffMailResult:
    add_follow_up(session, case, inbound)
    try:
        reply = parse_reply(inbound.text)
        with session.begin_nested():
            used_body = run_commands(session, desk, case, actor, reply.commands, reply.body, now)
    except (CommandError, ActionRefused) as exc:
        refuse(session, desk, case, inbound.sender_email or "", str(exc), inbound, auth, now)
        return StaffMailResult(case, "command_refused")
    record(case, "staff_mail", actor=actor.label, at=now,
           details={"commands": [c.line for c in reply.commands], "authentication": auth})
    if not used_body:
        actions.note(Acting(session, desk, case, actor, now), reply.body)
    if reply.commands:
        desk.tell_staff(session, case, actor.staff, NoticeKind.COMMAND_DONE, now,
                        {"commands": [c.line for c in reply.commands],
                         "result": f"{case.reference}: {case.status}"
                                   + (f", 办结期限 / due {case.resolve_due}"
                                      if case.resolve_due else "")},
                        key=f":{now.isoformat()}", in_reply_to=inbound.message_id)
    return StaffMailResult(case, "staff_command" if reply.commands else "staff_note")


def run_commands(session: Session, desk: Desk, case: Case, actor: Actor,
                 commands: list[Command], body: str, now: datetime) -> bool:
    """Carry out the commands in order; True when the body was used (e.g. as the outcome)."""
    acting = Acting(session, desk, case, actor, now)
    used = False
    for command in commands:
        action = action_named(command.name)
        if not action.may(actor.role):
            raise ActionRefused(f"#{action.word_zh}：您在本案中的角色不能使用此指令 / your role "
                                f"on this case ({actor.role}) may not use #{action.name}")
        run(action, acting, action.values_from_mail(command.args, body))
        used = used or action.uses_body
    session.flush()
    return used


def refuse(session: Session, desk: Desk, case: Case, sender: str, reason: str,
           inbound: Inbound, auth: str | None, now: datetime) -> None:
    """Record the refusal and tell the sender why (never the case details)."""
    record(case, "command_refused", actor=ACTOR_ROUTER, at=now,
           details={"sender": sender, "why": reason, "authentication": auth})
    if sender:
        notice = Notice(NoticeKind.COMMAND_REFUSAL, "staff", case.id, case.reference, sender,
                        None, "zh",
                        f"command_refused:{case.reference}:{inbound.message_id or now}",
                        {"reference": case.reference, "why": reason,
                         "command": _first_command_line(inbound.text)},
                        inbound.message_id, (inbound.message_id,) if inbound.message_id else ())
        desk.mailer(session, notice, now)


def _first_command_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines()
                 if line.strip().startswith(("#", "＃"))), "")
