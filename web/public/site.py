"""What the public side is given by the composition root, and how it renders a page.

The public pages have no staff session and no staff CSRF token: the complaint form
carries its own one-time token (``web.public.formtoken``), the API its partner keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse

from casework.clock import Clock
from casework.submissions import FileComplaint
from routing.context import Desk
from web.public.words import Say
from web.security import LANG_COOKIE

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@dataclass(frozen=True)
class PublicConfig:
    secret: str
    organisation: str
    organisation_en: str
    hotline_phone: str
    mailbox: str
    # Attachments: the limits of mail intake.
    max_files: int = 100
    max_file_bytes: int = 30 * 1024 * 1024
    max_total_bytes: int = 100 * 1024 * 1024
    complaints_per_address_per_hour: int = 5
    api_calls_per_key_per_hour: int = 120
    form_hours: int = 24
    # Without routing rules: the organisation's resolution limit in working days.
    resolve_working_days: int = 15

    @property
    def max_body_bytes(self) -> int:
        """A form's whole request: the files and room for the fields and the multipart."""
        return self.max_total_bytes + 1024 * 1024


@dataclass(frozen=True)
class PublicSite:
    config: PublicConfig
    session_factory: sessionmaker[Session]
    # Read afresh each request: the commitments page follows a changed routing.toml.
    desk: Callable[[], Desk | None]
    clock: Clock
    file_complaint: FileComplaint


def environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(
        ["html"], default_for_string=True, default=True), trim_blocks=True, lstrip_blocks=True)


def say_for(request: Request) -> Say:
    return Say(request.cookies.get(LANG_COOKIE, "zh"))


def render(env: Environment, site: PublicSite, request: Request, template: str,
           status: int = 200, **values: Any) -> HTMLResponse:
    say = say_for(request)
    config = site.config
    html = env.get_template(template).render(
        say=say, lang=say.lang, path=request.url.path, here=request.url.path,
        org=say.pick(config.organisation, config.organisation_en or config.organisation),
        hotline=config.hotline_phone or say("not_set"), mailbox=config.mailbox or say("not_set"),
        **values)
    return HTMLResponse(html, status_code=status)


def human_size(size: int) -> str:
    """A byte limit as people read it (30 MB)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{max(1, size // 1024)} KB"
