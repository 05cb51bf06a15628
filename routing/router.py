"""Routing a new case: decide (a value), then apply it (assign, exclude, ask, refer).

``decide`` only looks; ``route`` writes the decision and its explanation on the timeline,
records conflict exclusions, sets the category's deadlines, assigns a handler and either
asks for all missing material in one notice or starts the work (clause 三(五)).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from casework import queries
from casework.models import Case, Extension, MaterialRequest
from casework.status import OPEN_STATUSES, CaseStatus
from casework.transitions import can_transition, record, transition
from routing.assignment import active, assign, choose
from routing.conflicts import excluded, named_staff, record_exclusions, supervisor_for
from routing.context import ACTOR_ROUTER, Desk, today_of
from routing.directory import TimeLimit
from routing.errors import ActionRefused
from routing.investigation import case_limit, notify_assignment, refer, request_material
from routing.material import from_complainant, missing_items
from routing.ports import NoticeKind
from routing.rules import Facts, RuleHit, match
from routing.triage import TRIAGE, route_to_triage

log = logging.getLogger("complaintd.routing")


@dataclass(frozen=True)
class Decision:
    hit: RuleHit | None
    candidates: list[RuleHit] = field(default_factory=list)
    named: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def category(self) -> str | None:
        return self.hit.category if self.hit else None

    def explain(self) -> str:
        return self.hit.explain() if self.hit else "no rule matched: to the triage queue"


def decide(desk: Desk, case: Case, *, category_hint: str | None,
           sender_email: str | None) -> Decision:
    text = "\n".join(m.body_text for m in from_complainant(desk.config, case))
    facts = Facts(case.subject, text, case.channel, sender_email, category_hint)
    hit, candidates = match(desk.config, facts)
    named = named_staff(desk.config, f"{facts.subject}\n{facts.text}")
    missing = missing_items(desk.config, hit.category if hit else None, case)
    return Decision(hit, candidates, named, missing)


def set_deadlines(desk: Desk, case: Case, decision: Decision) -> None:
    """The category's own acknowledge and resolve limits, counted from the day of receipt;
    a case no rule matched (the triage queue) gets ``clock.default_limits``, so the limit
    its notices state is the one its date was counted in."""
    if decision.category is None:
        limits = desk.config.clock.default_limits
    else:
        limits = desk.config.categories[decision.category].limits
        case.category = decision.category
    day = today_of(case.received_at)
    case.acknowledge_due = desk.due(day, limits.acknowledge)
    case.resolve_due = desk.due(day, limits.resolve)


def resolve_limit(desk: Desk, decision: Decision) -> TimeLimit:
    """The resolution limit (days and their kind) the acknowledgement states: the
    category's, or ``clock.default_limits`` when no rule matched (as ``set_deadlines``)."""
    if decision.category is None:
        return desk.config.clock.default_limits.resolve
    return desk.config.categories[decision.category].limits.resolve


def route(session: Session, desk: Desk, case: Case, decision: Decision, now: datetime) -> None:
    record(case, "routing_decision", actor=ACTOR_ROUTER, at=now, details={
        "category": decision.category, "explanation": decision.explain(),
        "candidates": [{"rule": h.category, "score": h.score} for h in decision.candidates],
        "missing": decision.missing})
    record_exclusions(session, case, decision.named, desk.config, now)
    if decision.category is None:
        route_to_triage(session, case, at=now, why=decision.explain())
        # The triage supervisor gets the case by mail, so a reply can route it (#转办, #分类).
        boss = supervisor_for(desk.config, TRIAGE, set(decision.named))
        notify_assignment(session, desk, case, boss, now)
        return
    category = desk.config.categories[decision.category]
    transition(case, CaseStatus.ROUTED, actor=ACTOR_ROUTER, at=now, reason=decision.explain(),
               details={"department": category.department, "authority": category.authority})
    _assign_and_start(session, desk, case, decision, set(decision.named), ACTOR_ROUTER, now)


def _assign_and_start(session: Session, desk: Desk, case: Case, decision: Decision,
                      banned: set[str], actor: str, now: datetime) -> None:
    """Assign within the category's department, then ask for material, refer, or tell."""
    assert decision.category is not None
    category = desk.config.categories[decision.category]
    handler, covers, why = choose(session, desk.config, category.department, banned,
                                  today_of(now))
    assign(session, case, handler, department=category.department, now=now, why=why,
           covers=covers, actor=actor)
    # A case not written yet (a batch's new case) cannot have been asked for anything.
    asked = None if inspect(case).pending else session.scalar(
        select(MaterialRequest.id).where(MaterialRequest.case_id == case.id))
    if decision.missing and asked is None:
        request_material(session, desk, case, decision.missing, actor=actor, now=now)
    elif category.authority and not decision.missing and not case.referrals:
        refer(session, desk, case, category.authority, actor=actor, now=now)
    elif not category.authority:
        desk.tell_complainant(session, case, NoticeKind.ROUTED_INTERNALLY, now,
                              _routed_facts(desk, case))
    # After the material request: while material is missing the handler is shown no date
    # (clause 四(四)), only the limit; the date comes with the clock.
    notify_assignment(session, desk, case, handler, now)


def reroute(session: Session, desk: Desk, case: Case, category: str, *, actor: str,
            now: datetime) -> Decision:
    """A supervisor recategorised the case: run routing again with the new category."""
    if category not in desk.config.categories:
        raise ActionRefused(f"没有这个类别 / unknown category {category!r}; known: "
                         f"{', '.join(desk.config.categories)}")
    old = case.category
    decision = decide(desk, case, category_hint=category, sender_email=None)
    banned = excluded(session, case.id)
    new_names = {k: v for k, v in decision.named.items() if k not in banned}
    record(case, "recategorised", actor=actor, at=now, details={"from": old, "to": category})
    record(case, "routing_decision", actor=actor, at=now, details={
        "category": category, "explanation": decision.explain(), "missing": decision.missing})
    record_exclusions(session, case, new_names, desk.config, now)
    case.category = category
    if case.resolve_due is not None and session.scalar(
            select(Extension.id).where(Extension.case_id == case.id)) is None:
        # The new category's limits, from the day of receipt: the date its notices state
        # must be counted in the limit they name (the routing notice below tells it).
        set_deadlines(desk, case, decision)
    if case.status != CaseStatus.ROUTED and can_transition(case.status, CaseStatus.ROUTED):
        transition(case, CaseStatus.ROUTED, actor=actor, at=now, reason="recategorised")
    _assign_and_start(session, desk, case, decision, banned | set(new_names), actor, now)
    return decision


def recheck_conflicts(session: Session, desk: Desk, case: Case, text: str,
                      now: datetime) -> dict[str, str]:
    """Every later message from the complainant is checked as the first one was: a person
    it names who was not excluded yet is excluded now, and an open case moves away from
    them at once (the handler by the first routing's rules: the next handler, the deputy,
    the level up; the supervision to the level up). Returns whom it newly names."""
    banned = queries.excluded_staff(session, case)
    found = {k: v for k, v in named_staff(desk.config, text).items() if k not in banned}
    if not found:
        return {}
    before = supervisor_for(desk.config, case.department, banned)
    record_exclusions(session, case, found, desk.config, now,
                      where="a later message from the complainant")
    banned |= set(found)
    log.info("routing: case %s: a later message names %d member(s) of staff; excluded",
             case.id, len(found))
    if case.status in OPEN_STATUSES:
        move_away(session, desk, case, banned, now)
        _tell_new_supervisor(session, desk, case, before, banned, now)
    return found


def move_away(session: Session, desk: Desk, case: Case, banned: set[str],
              now: datetime) -> str | None:
    """Give the case a new handler when its handler (or the absent handler a deputy covers
    for) is excluded; the new handler gets the assignment mail. Returns the new handler."""
    current = active(case)
    if current is None or current.handler is None:
        return None  # the triage queue: its supervisor is chosen afresh on every mail
    if current.handler not in banned and current.delegate_for not in banned:
        return None
    if current.handler not in banned:
        # The deputy keeps the case for good: it is never handed back to the named person.
        current.delegate_for = None
        record(case, "hand_back_cancelled", actor=ACTOR_ROUTER, at=now,
               details={"handler": current.handler, "why": "the absent handler is excluded"})
        return None
    department = current.department or case.department or ""
    if department in desk.config.departments:
        handler, covers, why = choose(session, desk.config, department, banned, today_of(now))
    else:
        handler, covers = supervisor_for(desk.config, department, banned), None
        why = "no department to choose from: the supervisor takes it"
    assign(session, case, handler, department=department, now=now, covers=covers,
           why=f"conflict of interest: {current.handler} is excluded; {why}")
    notify_assignment(session, desk, case, handler, now)
    return handler


def _tell_new_supervisor(session: Session, desk: Desk, case: Case, before: str,
                         banned: set[str], now: datetime) -> None:
    """Supervision moved up (the supervisor or the head is named): the new supervisor
    learns that the case is theirs to watch."""
    after = supervisor_for(desk.config, case.department, banned)
    if after == before:
        return
    record(case, "supervision_moved", actor=ACTOR_ROUTER, at=now,
           details={"from": before, "to": after, "why": "conflict of interest"})
    if case.department == TRIAGE:
        # The triage queue's supervisor routes the case by replying to this mail.
        notify_assignment(session, desk, case, after, now)
        return
    desk.tell_staff(session, case, after, NoticeKind.SUPERVISOR_ESCALATION, now, {
        "reason": "投诉人来信提及原督办人，本案改由您督办 / the complainant's message names "
                  "the case's supervisor: you supervise it now",
        "handler": _handler_name(desk, case)}, key=f":conflict:{after}")


def _handler_name(desk: Desk, case: Case) -> str | None:
    current = active(case)
    person = desk.config.staff.get(current.handler or "") if current else None
    return person.name if person else None


def _routed_facts(desk: Desk, case: Case) -> dict[str, object]:
    dep = desk.config.departments[case.department or ""]
    return {"department_zh": dep.label_zh, "department_en": dep.label_en,
            "resolve_due": case.resolve_due, "limit": case_limit(desk, case)}
