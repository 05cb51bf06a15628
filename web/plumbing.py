"""How a request becomes a page: the form read and its CSRF token checked (POST), one
database session, the signed-in person, the words in their language, a template rendered.

A page function is plain, synchronous code of a ``Ctx`` (run in a worker thread, so the
database never blocks the server's event loop); it returns a response or raises
``Missing`` (the one "not found", for a case that does not exist and for a case the
person may not see alike).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from casework.clock import SHANGHAI
from routing.context import Desk
from web import accounts
from web.context import Console
from web.i18n import Words
from web.models import StaffUser
from web.security import CSRF_COOKIE, CSRF_FIELD, LANG_COOKIE, SESSION_COOKIE, csrf_ok, csrf_token

log = logging.getLogger("complaintd.web")

TEMPLATES = Path(__file__).parent / "templates"
# Upload limits for a form (a case opened by hand with its files).
MAX_FILES = 10
MAX_FIELDS = 100
MAX_PART_BYTES = 1024 * 1024
# A request body declared larger than this is refused before it is read (the largest
# wanted: a call log of 20 MB uploaded on the hotline page, or a case with its files).
MAX_BODY_BYTES = 32 * 1024 * 1024


class Missing(Exception):
    """Not found: no such case, or one the person may not see (the same answer)."""


class Refused(Exception):
    """Not allowed for this person (403)."""


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(
        ["html"], default_for_string=True, default=True), trim_blocks=True, lstrip_blocks=True)
    env.filters["local"] = local_time
    return env


def local_time(moment: datetime | None) -> str:
    """A stored (UTC) time as staff read it: Shanghai time."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else "—"


@dataclass(frozen=True)
class Names:
    """The words for the keys of the routing file (a category, a department, a person)."""

    desk: Desk | None
    t: Words

    def category(self, key: str | None) -> str:
        found = self.desk.config.categories.get(key or "") if self.desk else None
        return self.t.pick(found.label_zh, found.label_en) if found else key or "—"

    def department(self, key: str | None) -> str:
        found = self.desk.config.departments.get(key or "") if self.desk else None
        return self.t.pick(found.label_zh, found.label_en) if found else key or "—"

    def staff(self, key: str | None) -> str:
        found = self.desk.config.staff.get(key or "") if self.desk else None
        return found.name if found else key or "—"


@dataclass
class Ctx:
    request: Request
    db: Session
    console: Console
    env: Environment
    user: StaffUser | None
    t: Words
    now: datetime
    form: FormData | None = None

    @property
    def staff(self) -> str:
        assert self.user is not None
        return self.user.staff_id

    def text(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else ""

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        cookie = self.request.state.csrf_cookie
        page = self.env.get_template(template).render(
            t=self.t, user=self.user, lang=self.t.lang, path=self.request.url.path,
            here=_here(self.request), csrf=csrf_token(self.console.config.secret, cookie),
            csrf_field=CSRF_FIELD, org=self.console.config.organisation,
            names=Names(self.console.desk(), self.t), **values)
        return HTMLResponse(page, status_code=status)


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


PageFn = Callable[[Ctx], Response]


def page(console: Console, env: Environment, fn: PageFn, *,
         public: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of page function ``fn``; signed-in people only unless ``public``."""

    async def endpoint(request: Request) -> Response:
        form = None
        if request.method == "POST":
            if _declared_length(request) > MAX_BODY_BYTES:
                return _plain(env, request, console, 413, "too_large", "too_large_text")
            form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS,
                                      max_part_size=MAX_PART_BYTES)
            if not csrf_ok(console.config.secret, request.cookies.get(CSRF_COOKIE),
                           form.get(CSRF_FIELD)):
                await form.close()
                return _plain(env, request, console, 403, "forbidden", "csrf_refused")
        try:
            return await run_in_threadpool(_run, console, env, fn, request, form, public)
        finally:
            if form is not None:
                await form.close()

    return endpoint


def _declared_length(request: Request) -> int:
    try:
        return int(request.headers.get("content-length") or 0)
    except ValueError:
        return 0


def _run(console: Console, env: Environment, fn: PageFn, request: Request,
         form: FormData | None, public: bool) -> Response:
    words = Words(request.cookies.get(LANG_COOKIE, "zh"))
    with console.session_factory() as db:
        now = console.clock.now()
        user = None
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            user = accounts.session_user(db, token, now, console.config.session_idle)
        if user is None and not public:
            db.commit()
            return RedirectResponse(f"/sign-in?next={quote(_here(request), safe='')}", 303)
        ctx = Ctx(request, db, console, env, user, words, now, form)
        try:
            response = fn(ctx)
        except Missing:
            db.rollback()
            return _plain(env, request, console, 404, "not_found", "not_found_text", words, user)
        except Refused:
            db.rollback()
            return _plain(env, request, console, 403, "forbidden", "forbidden", words, user)
        db.commit()
        return response


def _plain(env: Environment, request: Request, console: Console, status: int, title: str,
           text: str, words: Words | None = None, user: StaffUser | None = None) -> Response:
    words = words or Words(request.cookies.get(LANG_COOKIE, "zh"))
    cookie = request.state.csrf_cookie
    body = env.get_template("message.html").render(
        t=words, user=user, lang=words.lang, path=request.url.path, here=_here(request),
        csrf=csrf_token(console.config.secret, cookie), csrf_field=CSRF_FIELD,
        org=console.config.organisation, title=words(title), text=words(text))
    return HTMLResponse(body, status_code=status)


def local_path(target: str | None, default: str = "/") -> str:
    """A redirect target only within this site (``/cases?…``), never ``//evil`` or a URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
