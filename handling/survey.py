"""The satisfaction survey answered on the web (clause 五(三), issue 15).

"Was the problem solved?" (yes / partly / no) is asked apart from satisfaction (five
levels), as the 12345 hotlines' 回访 does, with a comment. One answer per case, whether
by mail (``routing.feedback.record_survey``) or here: the database's unique index on
``survey_response.case_id`` settles a double submit. "No", "partly" and the two lowest
levels send the case to review with a follow-up call (``routing.feedback.review``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.models import Case, SurveyResponse
from casework.transitions import record
from routing.context import Desk
from routing.feedback import LABELS, review

SOLVED: dict[str, tuple[str, str]] = {
    "yes": ("已解决", "solved"), "partly": ("部分解决", "partly solved"),
    "no": ("未解决", "not solved"),
}
ACTOR_WEB_SURVEY = "web:survey"


def answered(session: Session, case: Case) -> bool:
    return session.scalar(select(SurveyResponse.id).where(
        SurveyResponse.case_id == case.id)) is not None


def answer_survey(session: Session, desk: Desk, case: Case, *, level: int, solved: str,
                  comment: str, now: datetime) -> SurveyResponse | None:
    """Store the web answer; None when the case already has one (nothing is changed)."""
    if level not in LABELS or solved not in SOLVED:
        raise ValueError(f"survey answer out of range: level {level!r}, solved {solved!r}")
    if answered(session, case):
        return None
    row = SurveyResponse(case_id=case.id, level=level, label=LABELS[level],
                         answer_text="", solved=solved, comment=comment[:2000] or None,
                         channel="web", received_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the other submit of a double click won
        return None
    record(case, "survey_answered", actor=ACTOR_WEB_SURVEY, at=now,
           details={"level": level, "label": LABELS[level], "solved": solved,
                    "channel": "web"})
    if level <= 2 or solved != "yes":
        worst = LABELS[level] if level <= 2 else SOLVED[solved][0]
        review(session, desk, case, worst, now)
    return row
