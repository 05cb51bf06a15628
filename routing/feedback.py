"""Feedback: the satisfaction survey answer (clause 五(三)) and an authority's reply (三(五)).

Survey answers are the five levels of the public-service rating scheme, in words or 1–5;
the two lowest open a follow-up call and send the case back to the supervisor for review.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Case, Message, SurveyResponse
from casework.quotes import strip_quoted
from casework.status import CaseStatus
from casework.transitions import can_transition, record, transition
from routing.actions import desk_supervisor
from routing.assignment import active, assign
from routing.context import ACTOR_ROUTER, Desk, call_task, today_of
from routing.ports import AUTHORITY_LETTERS, NoticeKind
from routing.threads import close_answered

# Longest first: 「非常不满意」 contains 「不满意」 and 「满意」.
LEVELS: list[tuple[str, int]] = [
    ("非常不满意", 1), ("非常满意", 5), ("基本满意", 3), ("不满意", 2), ("满意", 4),
    ("very dissatisfied", 1), ("very satisfied", 5), ("fairly satisfied", 3),
    ("dissatisfied", 2), ("satisfied", 4),
]
LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
_DIGIT = re.compile(r"(?<![\d.])([1-5])(?![\d.])")


def parse_level(text: str) -> int | None:
    """The level in the first line that has one; the quoted survey below is not read."""
    for line in strip_quoted(text).splitlines():
        line = line.strip()
        if not line or line.startswith(">"):
            continue
        lowered = line.lower()
        for word, level in LEVELS:
            if word in lowered:
                return level
        digit = _DIGIT.search(line)
        if digit:
            return int(digit.group(1))
    return None


def survey_pending(session: Session, case: Case) -> bool:
    answered = session.scalar(select(SurveyResponse.id).where(SurveyResponse.case_id == case.id))
    return answered is None and any(e.kind == "survey_sent" for e in case.events)


def record_survey(session: Session, desk: Desk, case: Case, text: str,
                  now: datetime) -> int | None:
    level = parse_level(text)
    if level is None:
        record(case, "survey_unreadable", actor=ACTOR_ROUTER, at=now)
        return None
    session.add(SurveyResponse(case_id=case.id, level=level, label=LABELS[level],
                               answer_text=text[:2000], received_at=now))
    record(case, "survey_answered", actor=ACTOR_ROUTER, at=now,
           details={"level": level, "label": LABELS[level]})
    if level <= 2:
        _review(session, desk, case, level, now)
    return level


def _review(session: Session, desk: Desk, case: Case, level: int, now: datetime) -> None:
    review(session, desk, case, LABELS[level], now)


def review(session: Session, desk: Desk, case: Case, answer: str, now: datetime) -> None:
    """A low or unsolved survey answer (``answer``: its words, e.g. 「不满意」 or
    「未解决」): a follow-up call, and the case back to the supervisor for review."""
    call_task(session, case, f"satisfaction {answer}: follow-up call", today_of(now), now)
    boss = desk_supervisor(session, desk, case)
    if can_transition(case.status, CaseStatus.REOPENED):
        transition(case, CaseStatus.REOPENED, actor=ACTOR_ROUTER, at=now,
                   reason=f"complainant {answer}: back to the supervisor for review")
    assign(session, case, boss, department=case.department or "", now=now,
           why="low satisfaction: supervisor review")
    desk.tell_staff(session, case, boss, NoticeKind.SUPERVISOR_ESCALATION, now,
                    {"reason": f"满意度评价：{answer}，请复核 / low satisfaction: review"},
                    key=":survey")


def authority_mail(session: Session, desk: Desk, case: Case, message: Message, sender: str,
                   *, verified: bool, why: str, now: datetime) -> None:
    """An authority wrote about the case (clause 三(五)): the mail is kept on the case and
    the handler told. Nothing reaches the complainant from here: the handler confirms the
    answer with #转告 (``routing.case_life.relay``), edited or as it came.

    ``verified``: it answers our letter with its reply token, from the letter's address,
    proven by our border; then the referral counts as answered and the letter's thread
    closes (a second answer on it is refused). Otherwise it is an unverified message."""
    if verified:
        referral = next((r for r in reversed(case.referrals) if r.answered_at is None
                         and (r.authority_email or "").lower() == sender), None)
        if referral is not None:
            referral.answered_at = now
        close_answered(session, case, sender, AUTHORITY_LETTERS, now)
        record(case, "authority_replied", actor=ACTOR_ROUTER, at=now,
               details={"authority": referral.authority if referral else None,
                        "message": message.id})
    else:
        record(case, "authority_mail_unverified", actor=ACTOR_ROUTER, at=now,
               details={"sender": sender, "why": why, "message": message.id})
    current = active(case)
    handler = current.handler if current is not None and current.handler \
        else desk_supervisor(session, desk, case)
    desk.tell_staff(session, case, handler, NoticeKind.AUTHORITY_ANSWERED, now,
                    {"authority_name": _authority_name(desk, sender), "sender": sender,
                     "answer": message.body_text.strip()[:4000], "verified": verified,
                     "why": why},
                    key=f":{message.id}")


def _authority_name(desk: Desk, address: str) -> str:
    return next((a.name for a in desk.config.authorities.values()
                 if a.email.lower() == address), address)


def pending_answer(session: Session, case: Case) -> Message | None:
    """The latest verified authority answer not yet passed on to the complainant."""
    for event in sorted(case.events, key=lambda e: e.at, reverse=True):
        if event.kind == "authority_answer_relayed":
            return None
        if event.kind == "authority_replied" and event.details.get("message"):
            return session.get(Message, int(event.details["message"]))
    return None
