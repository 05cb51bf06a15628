"""The steps of an investigation that the router and the handlers' commands share.

Assignment notice, the single notice of missing material and its completion (clause 四(四)),
and the referral to an administrative authority (clause 三(五)).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from casework.db import flush_for_ids
from casework.models import Case, MaterialRequest, Referral
from casework.status import CaseStatus
from casework.transitions import record, transition
from routing.context import ACTOR_ROUTER, Desk, today_of
from routing.directory import TimeLimit
from routing.material import labels, missing_items
from routing.ports import NoticeKind
from routing.violations import record_violation


def notify_assignment(session: Session, desk: Desk, case: Case, handler: str,
                      now: datetime) -> str | None:
    """The assignment mail: the case, its deadline and the commands a reply may carry."""
    current = next((a for a in reversed(case.assignments) if a.ended_at is None), None)
    covers = current.delegate_for if current is not None else None
    person = desk.config.staff.get(covers or "")
    facts: dict[str, Any] = {
        "resolve_due": case.resolve_due, "limit": case_limit(desk, case),
        "covers_for": person.name if person else None,
        # A second assignment of the same person (hand-back, reassignment) is a new mail.
        "occasion": str(len(case.assignments)) if len(case.assignments) > 1 else ""}
    return desk.tell_staff(session, case, handler, NoticeKind.ASSIGNMENT, now, facts,
                           key=f":{len(case.assignments)}")


def request_material(session: Session, desk: Desk, case: Case, items: list[str], *,
                     actor: str, now: datetime, staff: str | None = None) -> MaterialRequest:
    """One notice listing every item; a second notice for a knowable item is a violation."""
    # A case not written yet (a batch's new case) has had no request yet.
    earlier = [] if inspect(case).pending else list(session.scalars(
        select(MaterialRequest).where(MaterialRequest.case_id == case.id)))
    if earlier:
        _knowable_violation(session, desk, case, items, staff, now)
    request = MaterialRequest(case_id=case.id, case=case, items=items, requested_by=actor,
                              requested_at=now)
    session.add(request)
    if case.status != CaseStatus.AWAITING_MATERIAL:
        transition(case, CaseStatus.AWAITING_MATERIAL, actor=actor, at=now,
                   reason="material missing: " + ", ".join(items))
    # Clause 四(四): the time limit runs once the material is complete.
    case.resolve_due = None
    desk.tell_complainant(session, case, NoticeKind.MISSING_MATERIAL, now,
                          {"items": labels(desk.config, items), "number": len(earlier) + 1,
                           "limit": case_limit(desk, case)},
                          key=f":{len(earlier) + 1}")
    flush_for_ids(session)
    return request


def _knowable_violation(session: Session, desk: Desk, case: Case, items: list[str],
                        staff: str | None, now: datetime) -> None:
    required = set(desk.config.categories[case.category].material) if case.category in \
        desk.config.categories else set()
    knowable = [i for i in items if i in required]
    if knowable:
        record_violation(session, desk.config, case,
                         category=desk.config.clock.repeated_material_violation,
                         staff=staff, source="automatic", now=now,
                         details={"items": knowable,
                                  "why": "knowable at the first notice (clause 四(四))"})


def _open_requests(session: Session, case: Case) -> list[MaterialRequest]:
    return list(session.scalars(select(MaterialRequest).where(
        MaterialRequest.case_id == case.id, MaterialRequest.completed_at.is_(None))))


def waiting_for_material(session: Session, case: Case) -> bool:
    """Whether a notice of missing material is still open (keyed on it, not the status)."""
    return bool(_open_requests(session, case))


def material_arrived(session: Session, desk: Desk, case: Case, now: datetime) -> bool:
    """The complainant replied to a case with an open material request: check again, and
    start the clock when nothing is missing. The one owner of that reply: one timeline
    event while items are still missing, one status change when the material is complete.
    """
    open_requests = _open_requests(session, case)
    if not open_requests:
        return False
    # Free-text items a handler asked for cannot be checked: the complainant's reply
    # completes them, and the configured items are checked again.
    still = missing_items(desk.config, case.category, case)
    record(case, "material_checked", actor=ACTOR_ROUTER, at=now, details={"missing": still})
    if still:
        if case.status != CaseStatus.AWAITING_MATERIAL:
            transition(case, CaseStatus.AWAITING_MATERIAL, actor=ACTOR_ROUTER, at=now,
                       reason="material still missing: " + ", ".join(still))
        return False
    for request in open_requests:
        request.completed_at = now
    _start_clock(session, desk, case, now)
    return True


def case_limit(desk: Desk, case: Case) -> TimeLimit:
    """The resolution limit a case's deadline is counted in (days and their kind): its
    category's, else the configured default (``clock.default_limits``)."""
    return desk.limit_of(case)


def _start_clock(session: Session, desk: Desk, case: Case, now: datetime) -> None:
    limit = case_limit(desk, case)
    day = today_of(now)
    case.resolve_due = desk.due(day, limit)
    accepted = any(e.kind == "accepted" for e in case.events)
    target = CaseStatus.INVESTIGATING if accepted else CaseStatus.ROUTED
    if case.status != target:
        transition(case, target, actor=ACTOR_ROUTER, at=now, reason="material complete",
                   details={"resolve_due": case.resolve_due.isoformat()})
    record(case, "clock_started", actor=ACTOR_ROUTER, at=now,
           details={"resolve_due": case.resolve_due.isoformat(), "days": limit.days,
                    "kind": limit.kind})
    # Clause 四(四): the date the first notice could not promise, told now that it runs.
    desk.tell_complainant(session, case, NoticeKind.CLOCK_STARTED, now,
                          {"resolve_due": case.resolve_due, "limit": limit, "complete_on": day},
                          key=f":{day.isoformat()}")
    category = desk.config.categories.get(case.category or "")
    handler = _handler(case)
    if handler:
        # The handler's assignment mail again: the clock now runs, with its deadline.
        desk.tell_staff(session, case, handler, NoticeKind.ASSIGNMENT, now,
                        {"resolve_due": case.resolve_due, "limit": limit,
                         "occasion": f"material-{now:%Y%m%d%H%M}"}, key=f":{now.isoformat()}")
    if category is not None and category.authority and not case.referrals:
        refer(session, desk, case, category.authority, actor=ACTOR_ROUTER, now=now)


def _handler(case: Case) -> str | None:
    current = next((a for a in reversed(case.assignments) if a.ended_at is None), None)
    return current.handler if current else None


def refer(session: Session, desk: Desk, case: Case, authority: str, *, actor: str,
          now: datetime) -> Referral:
    """Report the case to the authority with only the personal data its rule allows."""
    auth = desk.config.authorities[authority]
    answer_limit = TimeLimit(days=auth.expected_response_days, kind="working")
    due = desk.due(today_of(now), answer_limit)
    referral = Referral(authority=authority, authority_email=auth.email, sent_at=now,
                        answer_due=due)
    case.referrals.append(referral)
    flush_for_ids(session)
    desk.tell_authority(session, case, authority, NoticeKind.AUTHORITY_REFERRAL, now,
                        {**referral_facts(desk, case, authority, due),
                         "answer_limit": answer_limit})
    if case.status != CaseStatus.REFERRED:
        transition(case, CaseStatus.REFERRED, actor=actor, at=now,
                   reason=f"within the powers of {auth.name}: {auth.jurisdiction}",
                   details={"authority": authority, "answer_due": due.isoformat()})
    desk.tell_complainant(session, case, NoticeKind.REFERRED_TO_AUTHORITY, now, {
        "authority_name": auth.name, "jurisdiction": auth.jurisdiction,
        "answer_due": due, "answer_limit": answer_limit}, key=f":{authority}")
    return referral


NO_CONSENT_NOTE = ("\n（投诉人未单独同意提供健康信息，相关内容未随函提供；"
                   "如需了解，请与本中心联系。 / The complainant has not given separate "
                   "consent to sharing health data, so none is enclosed.）")


def referral_facts(desk: Desk, case: Case, authority: str, due: object) -> dict[str, Any]:
    """The letter's content: the matter always; personal data only as the rule allows."""
    category = desk.config.categories.get(case.category or "")
    auth = desk.config.authorities[authority]
    fields, jurisdiction = set(auth.referral_fields), auth.jurisdiction
    party = case.complainant
    consent = party is not None and party.consent_health_data
    label = category.label_zh if category else (case.category or "")
    # The matter is our own wording (category and subject); the complaint's text is health
    # information and leaves only with the rule's leave and the complainant's consent
    # (PIPL art. 28-29). The notice masks personal values the rule does not let out.
    matter = f"{label}：{case.subject}"
    if "health" in fields and not consent:
        # The rule would let health details out, but the complainant has not consented:
        # the letter says so, so the authority asks us rather than assumes there are none.
        matter += NO_CONSENT_NOTE
    return {"matter": matter, "jurisdiction": jurisdiction,
            "answer_due": due, "fields": sorted(fields),
            "health_details": case.summary if ("health" in fields and consent) else None}
