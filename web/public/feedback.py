"""The activity feedback form (意见函, ``/public/feedback``, clause 五(三)): about an event,
a visit or a service, not tied to a case, anonymous; the answers (``activity_feedback``)
are counted in the reports. A honeypot field and a cap per address an hour keep robots
out without a CAPTCHA service."""

from __future__ import annotations

from datetime import date

from starlette.responses import Response

from casework.models import ActivityFeedback
from routing.feedback import LABELS
from web.public.visitor import Visit

WHAT = "feedback"


def feedback_page(v: Visit) -> Response:
    if v.request.method != "POST":
        return _form(v)
    if v.attempts(WHAT, failed_only=False) >= v.public.forms_per_address:
        return _form(v, v.w("forms_limited"), 429)
    v.note(WHAT, succeeded=True)
    if v.text("website"):  # the honeypot: a person never sees it; thank the robot alike
        return _thanks(v)
    activity, level = v.text("activity", 200), v.text("level", 2)
    if not activity or not level.isdigit() or int(level) not in LABELS:
        return _form(v, v.w("feedback_missing"), 400)
    readable, attended = _day(v.text("attended_on", 10))
    if not readable:
        return _form(v, v.w("bad_date"), 400)
    v.db.add(ActivityFeedback(activity=activity, attended_on=attended, level=int(level),
                              comment=v.text("comment", 2000), language=v.w.lang,
                              received_at=v.now))
    return _thanks(v)


def _day(text: str) -> tuple[bool, date | None]:
    """Whether the date typed reads as one, and the date (None: left empty)."""
    if not text:
        return True, None
    try:
        return True, date.fromisoformat(text)
    except ValueError:
        return False, None


def _form(v: Visit, error: str | None = None, status: int = 200) -> Response:
    return v.render("public/feedback.html", status, error=error, levels=[5, 4, 3, 2, 1],
                    activity=v.text("activity", 200), chosen_level=v.text("level", 2),
                    attended_on=v.text("attended_on", 10), comment=v.text("comment", 2000))


def _thanks(v: Visit) -> Response:
    return v.render("public/notice.html", title=v.w("feedback"), text=v.w("feedback_thanks"),
                    kind="ok")
