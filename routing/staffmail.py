"""Mail from staff and authorities that answers our own mail about a case.

Every mail of ours that invites an answer carries a reply token (``routing.threads``). A
command is obeyed only when (1) the mail carries the token of an open thread of ours, (2)
the From address is the address that thread was sent to, and a configured staff address,
(3) the token is of the case the mail names, (4) the person is the case's handler, the
handler's deputy or the case's supervisor and is not excluded from it, and (5) our border's
``Authentication-Results`` (``intake.authresults``) proves the From domain when a border is
configured, or, without one, the topmost header reports no spf/dkim/dmarc failure.
Anything else is refused with a reply saying why (a forged From gets its reply at the real
address, so the real person learns of it) and a ``command_refused`` event.

An authority's answer is taken only with the token of our letter to that authority, from
that address, proven: it is kept on the case and the handler is told; it reaches the
complainant only when the handler confirms it (``#转告``, ``routing.case_life.relay``). A
mail that only names the case from an authority's address, or one our border could not
prove, is an unverified message on the case: kept, the handler told, never passed on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
from routing.feedback import authority_mail
from routing.ports import AUTHORITY_LETTERS, COMPLAINANT_ANSWERS, Notice, NoticeKind
from routing.threads import NO_TOKEN, WRONG_TOKEN, ThreadCheck, candidates, read_thread

FOREIGN = ("回复码属于另一案件 / the reply code belongs to another case")
NOT_YOURS = ("这封邮件不是对我们就本案发给您的邮件的回复 / "
             "the mail does not answer a mail we sent you about this case")
UNPROVEN = ("我方邮件服务器未能证实发件地址（无对齐的 DMARC 或 DKIM 通过）/ our servers "
            "could not prove the sender's address (no aligned DMARC or DKIM pass)")


@dataclass(frozen=True)
class StaffMailResult:
    case: Case
    # "staff_command", "command_refused", "staff_note", "authority_reply",
    # "authority_unverified"
    outcome: str


def has_token(inbound: Inbound) -> bool:
    """The mail carries something shaped like one of our reply tokens."""
    return bool(candidates(inbound))


def handle(session: Session, desk: Desk, inbound: Inbound, case_by_reference: Case | None,
           now: datetime) -> StaffMailResult | None:
    """Process ``inbound`` if it is staff or authority mail about a case; else None."""
    sender = (inbound.sender_email or "").lower()
    staff_ids = {p.email.lower(): k for k, p in desk.config.staff.items()}
    check = read_thread(session, desk.verify_keys, inbound, staff_ids, now)
    if check.thread is not None and check.thread.kind in COMPLAINANT_ANSWERS:
        # A complainant answering our request: their mail on their case, taken by address
        # like any follow-up (casework.services), never a command; a stranger holding the
        # mail gets no further than a stranger quoting the reference.
        return None
    if check.thread is None:
        return _without_thread(session, desk, inbound, case_by_reference, check, sender, now)
    thread = check.thread
    case = session.get_one(Case, thread.case_id)
    if case_by_reference is not None and case_by_reference.id != case.id:
        # A real token copied onto a mail about another case: refused on the case named.
        return _refused(session, desk, case_by_reference, inbound, FOREIGN, now)
    if check.problem is not None:
        return _refused(session, desk, case, inbound, check.problem, now)
    if thread.kind in AUTHORITY_LETTERS:
        return _authority_answer(session, desk, case, thread, inbound, sender, now)
    staff = desk.config.staff_by_email(sender)
    reason = _refusal(session, desk, case, staff, thread, sender,
                      inbound.extra.get("authentication"),
                      inbound.extra.get("authentication_border"))
    if reason is not None:
        return _refused(session, desk, case, inbound, reason, now)
    assert staff is not None  # _refusal returns a reason when the sender is not staff
    return _obey(session, desk, case, Actor(staff[0], role_of(session, desk, case, staff[0])),
                 inbound, inbound.extra.get("authentication"), now)


def _without_thread(session: Session, desk: Desk, inbound: Inbound, named: Case | None,
                    check: ThreadCheck, sender: str, now: datetime) -> StaffMailResult | None:
    """No valid token: an authority naming its case is an unverified message; staff (or a
    token that is no good) are refused on the case; anything else is not staff mail."""
    if named is not None and any((r.authority_email or "").lower() == sender
                                 for r in named.referrals):
        authority_mail(session, desk, named, add_follow_up(session, named, inbound), sender,
                       verified=False, why="no reply code of our letter", now=now)
        return StaffMailResult(named, "authority_unverified")
    case = named or (session.get(Case, check.case_id) if check.case_id is not None else None)
    if case is None:
        return None
    if desk.config.staff_by_email(sender) is None and check.problem != WRONG_TOKEN:
        return None
    return _refused(session, desk, case, inbound, check.problem or NO_TOKEN, now)


def _authority_answer(session: Session, desk: Desk, case: Case, thread: StaffThread,
                      inbound: Inbound, sender: str, now: datetime) -> StaffMailResult:
    if thread.recipient.lower() != sender:
        # Somebody else holds the letter (forwarded, leaked): they answer nothing.
        return _refused(session, desk, case, inbound, NOT_YOURS, now)
    message = add_follow_up(session, case, inbound)
    if _unproven(inbound.extra.get("authentication"),
                 inbound.extra.get("authentication_border")) is not None:
        # Anyone can write an authority's address into From: kept on the case, not obeyed.
        authority_mail(session, desk, case, message, sender, verified=False,
                       why=inbound.extra.get("authentication") or "unproven", now=now)
        return StaffMailResult(case, "authority_unverified")
    authority_mail(session, desk, case, message, sender, verified=True, why="", now=now)
    return StaffMailResult(case, "authority_reply")


def _refused(session: Session, desk: Desk, case: Case, inbound: Inbound, reason: str,
             now: datetime) -> StaffMailResult:
    refuse(session, desk, case, inbound.sender_email or "", reason, inbound,
           inbound.extra.get("authentication"), now)
    return StaffMailResult(case, "command_refused")


def _refusal(session: Session, desk: Desk, case: Case, staff: tuple[str, object] | None,
             thread: StaffThread, sender: str, auth: str | None,
             border: str | None = None) -> str | None:
    if staff is None:
        return "发件人不是本机构工作人员 / the sender is not a member of staff"
    if thread.case_id != case.id or thread.recipient.lower() != sender:
        return NOT_YOURS
    unproven = _unproven(auth, border)
    if unproven is not None:
        return unproven
    # A person the complaint names is refused in the same words as any outsider: the
    # refusal must not tell them that a complaint about them exists.
    if staff[0] in excluded(session, case.id) or role_of(session, desk, case, staff[0]) == "":
        return NOT_HANDLER
    return None


NOT_HANDLER = ("只有本案承办人、代理人或主管可以操作 / "
               "only the assigned handler, the deputy or the supervisor may act on this case")


def _unproven(auth: str | None, border: str | None) -> str | None:
    """Why the sender's address is not proven, or None. ``border``: our border's verdict
    ("aligned-pass" or "unproven") when a border is configured; else ``auth``, intake's
    summary of the topmost header ("dkim=pass spf=fail …"), must show no failure."""
    if border is not None:
        return None if border == "aligned-pass" else UNPROVEN
    if auth and any(f"{m}={bad}" in auth.lower() for m in ("spf", "dkim", "dmarc")
                    for bad in ("fail", "softfail")):
        return ("发件地址未通过认证 / the sender's address failed authentication "
                "(Authentication-Results)")
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
           details={"sender": sender, "why": reason, "authentication": auth,
                    "message_id": inbound.message_id})
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
