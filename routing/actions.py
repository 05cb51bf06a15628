"""What a handler, deputy or supervisor does to a case, by mail command, CLI or console.

Each action takes an ``Acting`` (who acts on which case, when) and its own values, checks
its precondition and raises ``ActionRefused`` with a reason a person can read; the command
processor turns that into a reply, the CLI into an error message. ``routing.commands``
declares each action once (words, help, who may use it, its values) for every door.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Case, Extension
from casework.status import CaseStatus
from casework.transitions import InvalidTransition, can_transition, record, transition
from routing.assignment import active, assign
from routing.conflicts import excluded
from routing.context import Desk, call_task, today_of
from routing.errors import ActionRefused
from routing.investigation import notify_assignment, refer, request_material
from routing.ports import NoticeKind
from routing.router import reroute
from routing.violations import record_violation

FINDINGS = {"属实": "substantiated", "部分属实": "partly", "不属实": "not",
            "substantiated": "substantiated", "partly": "partly", "not": "not"}


@dataclass(frozen=True)
class Actor:
    staff: str  # staff id from the directory
    role: str  # "handler", "delegate" or "supervisor"
    via: str = "mail"  # "mail" (a command in a reply) or "cli" (at the server)

    @property
    def label(self) -> str:
        return f"staff:{self.staff}" if self.via == "mail" else f"{self.via}:{self.staff}"


@dataclass(frozen=True)
class Acting:
    """Who acts on which case, and when: what every staff action is given."""

    session: Session
    desk: Desk
    case: Case
    actor: Actor
    now: datetime


def _move(case: Case, target: CaseStatus, actor: Actor, now: datetime, reason: str) -> None:
    try:
        transition(case, target, actor=actor.label, at=now, reason=reason)
    except InvalidTransition as exc:
        raise ActionRefused(str(exc)) from None


def accept(act: Acting) -> None:
    _move(act.case, CaseStatus.INVESTIGATING, act.actor, act.now, "accepted by the handler")
    record(act.case, "accepted", actor=act.actor.label, at=act.now)


def note(act: Acting, text: str = "") -> None:
    if text.strip():
        record(act.case, "note", actor=act.actor.label, at=act.now,
               details={"text": text.strip()})


def ask_material(act: Acting, items: list[str]) -> None:
    session, desk, case, actor, now = act.session, act.desk, act.case, act.actor, act.now
    if not items:
        raise ActionRefused("请列出所缺材料，用；分隔 / name the missing items, separated by ; ")
    if not can_transition(case.status, CaseStatus.AWAITING_MATERIAL) and \
            case.status != CaseStatus.AWAITING_MATERIAL:
        raise ActionRefused(f"案件当前状态不能补充材料 / case {case.reference} is "
                            f"{case.status}: cannot ask for material")
    from routing.material import resolve_item
    keys = [resolve_item(desk.config, i) for i in items]
    request_material(session, desk, case, keys, actor=actor.label, now=now, staff=actor.staff)


def extend(act: Acting, days: int, reason: str) -> Extension:
    """Ask for the one extension (延期) a case may have; a supervisor's own request is approved."""
    session, desk, case, actor, now = act.session, act.desk, act.case, act.actor, act.now
    allowed = desk.config.clock.extensions  # clause 八: the board's numbers, in routing.toml
    had = len(session.scalars(select(Extension.id).where(Extension.case_id == case.id)).all())
    if had >= allowed.count:
        raise ActionRefused(f"每件案件最多延期{allowed.count}次 / case {case.reference} has had "
                            f"its {allowed.count} extension(s) (clause 四(六))")
    if case.resolve_due is None:
        raise ActionRefused("等待补充材料期间期限尚未起算，无需延期 / the clock does not run while "
                            "the case waits for material: nothing to extend")
    if days < 1 or days > allowed.max_days or not reason.strip():
        raise ActionRefused(f"延期需写明 1–{allowed.max_days} 个工作日和原因 / "
                            f"an extension needs 1–{allowed.max_days} working days and a reason")
    ext = Extension(case_id=case.id, days=days, reason=reason.strip(),
                    requested_by=actor.label, requested_at=now, old_due=case.resolve_due)
    session.add(ext)
    record(case, "extension_requested", actor=actor.label, at=now,
           details={"days": days, "reason": reason.strip()})
    if actor.role == "supervisor":
        approve(act)
    else:
        boss = desk_supervisor(session, desk, case)
        desk.tell_staff(session, case, boss, NoticeKind.SUPERVISOR_ESCALATION, now, {
            "reason": f"延期申请 {days} 个工作日：{reason.strip()}。回复 #批准延期 批准 / "
                      f"extension request, {days} working days; reply #approve-extension",
            "handler": desk.config.staff[actor.staff].name
            if actor.staff in desk.config.staff else None}, key=":extension")
    session.flush()
    return ext


def approve(act: Acting) -> None:
    session, desk, case, actor, now = act.session, act.desk, act.case, act.actor, act.now
    # The request waiting for approval (a case may have had earlier, approved ones).
    ext = session.scalar(select(Extension).where(Extension.case_id == case.id,
                                                 Extension.approved_at.is_(None))
                         .order_by(Extension.id.desc()).limit(1))
    if ext is None:
        raise ActionRefused(f"没有待批准的延期申请 / case {case.reference} has no extension "
                            "waiting for approval")
    if actor.role != "supervisor":
        raise ActionRefused("只有主管可以批准延期 / only the supervisor approves an extension")
    if case.status in {CaseStatus.ROUTED}:
        _move(case, CaseStatus.INVESTIGATING, actor, now, "accepted with the extension")
    base = case.resolve_due or today_of(now)
    ext.new_due = desk.calendar.add_working_days(base, ext.days)
    ext.approved_by, ext.approved_at = actor.label, now
    if case.status != CaseStatus.EXTENDED:  # a second extension keeps the status
        _move(case, CaseStatus.EXTENDED, actor, now, ext.reason)
    case.resolve_due = ext.new_due
    record(case, "extension_approved", actor=actor.label, at=now,
           details={"old_due": base.isoformat(), "new_due": ext.new_due.isoformat()})
    desk.tell_complainant(session, case, NoticeKind.EXTENSION, now,
                          {"old_due": base, "new_due": ext.new_due, "reason": ext.reason})


def desk_supervisor(session: Session, desk: Desk, case: Case) -> str:
    from routing.conflicts import supervisor_for
    return supervisor_for(desk.config, case.department, excluded(session, case.id))


def reassign(act: Acting, target: str) -> str:
    session, desk, case, actor, now = act.session, act.desk, act.case, act.actor, act.now
    staff = desk.config.staff_by_name(target)
    if staff is None:
        raise ActionRefused(f"没有这位工作人员 / no staff member called {target!r}")
    if staff in excluded(session, case.id):
        raise ActionRefused(f"{target} 在本投诉中被提及，不能承办 / {target} is named in this "
                            "complaint and may not handle it")
    department = desk.config.staff[staff].department or (case.department or "")
    assign(session, case, staff, department=department, now=now,
           why=f"reassigned by {actor.staff}", actor=actor.label)
    notify_assignment(session, desk, case, staff, now)
    return staff


def refer_to(act: Acting, target: str) -> None:
    session, desk, case, actor, now = act.session, act.desk, act.case, act.actor, act.now
    authority = desk.config.authority_by_name(target)
    if authority is None:
        raise ActionRefused(f"没有这个机关 / no authority called {target!r}; known: "
                            f"{', '.join(a.name for a in desk.config.authorities.values())}")
    if not can_transition(case.status, CaseStatus.REFERRED):
        raise ActionRefused(f"案件当前状态不能移送 / case {case.reference} is {case.status}: "
                            "cannot refer it")
    refer(session, desk, case, authority, actor=actor.label, now=now)


def resolve(act: Acting, *, finding: str, outcome: str, violation: str | None = None,
            staff: str | None = None, compensation: Decimal | None = None) -> None:
    """Close the investigation: outcome to the complainant, then the satisfaction survey.

    ``violation`` (a category of the sanction table) and ``staff`` (who is at fault)
    record a violation found by the investigation (clause 七).
    """
    session, desk, case, actor, now = act.session, act.desk, act.case, act.actor, act.now
    result = FINDINGS.get(finding.strip().lower())
    if result is None:
        raise ActionRefused("结论须为 属实、部分属实 或 不属实 / "
                            "the finding must be substantiated, partly or not")
    if not outcome.strip():
        raise ActionRefused("请在指令下方写明告知投诉人的办理结果 / write the outcome for the "
                            "complainant below the command")
    if violation:
        _finding_violation(session, desk, case, (violation, staff or ""), now, compensation,
                           actor)
    if case.status in {CaseStatus.ROUTED, CaseStatus.REOPENED}:
        accept(act)  # resolving at once implies accepting
    _move(case, CaseStatus.RESOLVED, actor, now, f"finding: {result}")
    record(case, "resolved", actor=actor.label, at=now,
           details={"finding": result, "outcome": outcome.strip()})
    send_outcome(session, desk, case, now, finding=result, outcome=outcome.strip())


def recategorise(act: Acting, category: str) -> None:
    """A supervisor changes the category: routing runs again with it."""
    reroute(act.session, act.desk, act.case, category.strip(), actor=act.actor.label,
            now=act.now)


def _finding_violation(session: Session, desk: Desk, case: Case, violation: tuple[str, str],
                       now: datetime, compensation: Decimal | None, actor: Actor) -> None:
    category, who = violation
    if category not in desk.config.sanctions:
        raise ActionRefused(f"没有这个违诺类别 / unknown violation category {category!r}; known: "
                            f"{', '.join(desk.config.sanctions)}")
    staff = desk.config.staff_by_name(who) if who else None
    if who and staff is None:
        raise ActionRefused(f"没有这位工作人员 / no staff member called {who!r}")
    record_violation(session, desk.config, case, category=category, staff=staff,
                     source="finding", now=now, compensation=compensation,
                     actor=actor.label)


def send_outcome(session: Session, desk: Desk, case: Case, now: datetime, *, finding: str,
                 outcome: str) -> None:
    """The outcome, then the survey; a complainant without email gets a call instead."""
    desk.tell_complainant(session, case, NoticeKind.OUTCOME, now,
                          {"finding": finding, "outcome": outcome,
                           "authority": _authority_name(desk, case, finding)})
    party = case.complainant
    if party is None or not party.email:
        call_task(session, case, "outcome and satisfaction by phone (no email)",
                  desk.calendar.add_working_days(today_of(now), 2), now)
        return
    desk.tell_complainant(session, case, NoticeKind.SATISFACTION_SURVEY, now, {})
    record(case, "survey_sent", actor="system:router", at=now)


def _authority_name(desk: Desk, case: Case, finding: str) -> str | None:
    if finding != "authority" or not case.referrals:
        return None
    auth = desk.config.authorities.get(case.referrals[-1].authority)
    return auth.name if auth else None


def handler_of(case: Case) -> str | None:
    current = active(case)
    return current.handler if current else None
