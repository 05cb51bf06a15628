"""The satisfaction survey form (``/public/survey/{token}``), linked from the outcome
mail: the link names the case and the last day it works, signed (``casework.progress.
make_link_token``), so it cannot be guessed, moved to another case or used after it
expires. One answer per case (``handling.survey``); answers by mail keep working."""

from __future__ import annotations

from starlette.responses import Response

from casework.models import Case
from casework.progress import read_link_token
from handling.survey import SOLVED, answer_survey, answered
from routing.feedback import LABELS
from web.public.visitor import Visit

WHAT = "survey"
PURPOSE = "survey"


def survey_page(v: Visit) -> Response:
    case = _case(v)
    desk = v.console.desk()
    if case is None or desk is None:
        return _notice(v, v.w("link_gone"), 404)
    if answered(v.db, case):
        return _notice(v, v.w("survey_done"))
    if v.request.method != "POST":
        return _form(v, case)
    if v.attempts(WHAT, failed_only=False) >= v.public.forms_per_address:
        return _notice(v, v.w("forms_limited"), 429)
    level, solved = _level(v.text("level", 2)), v.text("solved", 8)
    if level is None or solved not in SOLVED:
        return _form(v, case, error=v.w("choose_both"), status=400)
    v.note(WHAT, succeeded=True, reference=case.reference)
    row = answer_survey(v.db, desk, case, level=level, solved=solved,
                        comment=v.text("comment", 2000), now=v.now)
    if row is None:
        return _notice(v, v.w("survey_done"))
    low = level <= 2 or solved != "yes"
    lines = [v.w("survey_thanks"), *([v.w("survey_review")] if low else [])]
    return v.render("public/notice.html", title=v.w("survey"), text=lines, kind="ok")


def _case(v: Visit) -> Case | None:
    key = v.public.link_key
    token = str(v.request.path_params.get("token", ""))
    if key is None:
        return None
    found = (read_link_token(k, token, PURPOSE, v.now.date())
             for k in (key, *v.public.previous_link_keys))
    case_id = next((c for c in found if c is not None), None)
    return v.db.get(Case, case_id) if case_id is not None else None


def _level(text: str) -> int | None:
    return int(text) if text.isdigit() and int(text) in LABELS else None


def _form(v: Visit, case: Case, *, error: str | None = None, status: int = 200) -> Response:
    return v.render("public/survey.html", status, reference=case.reference, error=error,
                    solved_keys=list(SOLVED), levels=[5, 4, 3, 2, 1],
                    chosen_level=v.text("level", 2), chosen_solved=v.text("solved", 8),
                    comment=v.text("comment", 2000))


def _notice(v: Visit, text: str, status: int = 200) -> Response:
    return v.render("public/notice.html", status, title=v.w("survey"), text=text, kind="")
