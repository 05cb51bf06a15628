"""The routes of the pages a complainant visits with a reference or a link: progress,
survey, feedback (the complaint form, the commitments and the API are `web.public.routes`)."""

from __future__ import annotations

from jinja2 import Environment
from starlette.routing import BaseRoute, Route

from web.context import Console
from web.public.feedback import feedback_page
from web.public.progress import progress_page
from web.public.survey import survey_page
from web.public.visitor import PublicConfig, VisitFn, public_page

PUBLIC_ROUTES: tuple[tuple[str, VisitFn], ...] = (
    ("/public/progress", progress_page),
    ("/public/survey/{token}", survey_page),
    ("/public/feedback", feedback_page),
)


def visitor_routes(console: Console, env: Environment, public: PublicConfig) -> list[BaseRoute]:
    return [Route(path, public_page(console, env, fn, public), methods=["GET", "POST"])
            for path, fn in PUBLIC_ROUTES]
