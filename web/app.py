"""The console as one ASGI application: the routes, the static files, the guard (security
headers, CSRF cookie) and, behind a reverse proxy, forwarded headers from it alone."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from web import admin, bulk, hotline_page, pages, preview, privacy_page, reports
from web.context import Console
from web.plumbing import PageFn, environment, page
from web.public.visitor import PublicConfig as VisitorConfig
from web.public.visits import visitor_routes
from web.security import Guard

STATIC = Path(__file__).parent / "static"

# (path, page, methods, public)
ROUTES: tuple[tuple[str, PageFn, tuple[str, ...], bool], ...] = (
    ("/sign-in", pages.sign_in_page, ("GET", "POST"), True),
    ("/set-password/{token}", pages.set_password_page, ("GET", "POST"), True),
    ("/lang/{lang}", pages.language, ("GET",), True),
    ("/sign-out", pages.sign_out, ("POST",), True),
    ("/sign-out-everywhere", pages.sign_out_everywhere, ("POST",), False),
    ("/", pages.my_work, ("GET",), False),
    ("/cases", pages.case_list, ("GET",), False),
    ("/cases.csv", pages.export_csv, ("GET",), False),
    ("/cases.xlsx", pages.export_xlsx, ("GET",), False),
    ("/views", pages.save_view, ("POST",), False),
    ("/views/{view_id}/delete", pages.delete_view, ("POST",), False),
    ("/new", pages.new_case, ("GET", "POST"), False),
    # issue 14, the case page and list: bulk actions, previews, shortcuts
    ("/cases/bulk", bulk.bulk_form, ("GET",), False),
    ("/cases/bulk", bulk.bulk_run, ("POST",), False),
    ("/cases/{reference}/preview/{action}", preview.preview_page, ("POST",), False),
    ("/shortcuts", pages.shortcuts_page, ("GET",), False),
    ("/cases/{reference}", pages.case_page, ("GET",), False),
    ("/cases/{reference}/act/{action}", pages.case_action, ("POST",), False),
    ("/cases/{reference}/files/{file_id}", pages.attachment, ("GET",), False),
    ("/calls/{task_id}/done", pages.call_done, ("POST",), False),
    ("/violations", pages.violations, ("GET",), False),
    ("/calendar", pages.calendar_page, ("GET",), False),
    ("/outbox", pages.outbox, ("GET",), False),
    ("/outbox/{mail_id}/retry", pages.outbox_retry, ("POST",), False),
    ("/quarantine", pages.quarantine, ("GET",), False),
    ("/reports", reports.report_page, ("GET",), False),
    ("/reports/annual.html", reports.annual_page, ("GET",), False),
    ("/reports/figures.xlsx", reports.figures_xlsx, ("GET",), False),
    ("/reports/figures.csv", reports.figures_csv, ("GET",), False),
    # hotline upload, mailboxes, settings, accounts (web.hotline_page, web.admin)
    ("/hotline", hotline_page.hotline, ("GET", "POST"), False),
    ("/hotline/jobs/{job_id}", hotline_page.upload_job, ("GET",), False),
    ("/hotline/jobs/{job_id}/errors.csv", hotline_page.upload_report, ("GET",), False),
    ("/mailboxes", admin.mailboxes, ("GET",), False),
    ("/settings", admin.settings, ("GET",), False),
    ("/admin/accounts", admin.accounts_page, ("GET",), False),
    ("/admin/accounts/new", admin.account_create, ("POST",), False),
    ("/admin/accounts/{staff_id}/{what}", admin.account_change, ("POST",), False),
    # a person's privacy requests and the privacy register (web.privacy_page)
    ("/privacy", privacy_page.register_page, ("GET",), False),
    ("/privacy/{action}", privacy_page.request_page, ("POST",), False),
)


async def healthz(_request: Request) -> Response:
    # Liveness only (the process answers): cheap enough for a load balancer every second.
    # The real check, database and all, is /health.
    return PlainTextResponse("ok")


def build_console(console: Console, *, trusted_proxies: list[str] | None = None,
                  public: Sequence[BaseRoute] = (),
                  visitor: VisitorConfig | None = None,
                  extra_routes: list[BaseRoute] | None = None) -> ASGIApp:
    """The ASGI application of the console. ``trusted_proxies``: the addresses whose
    X-Forwarded-For/-Proto are believed (none: the connection's own address counts);
    ``public``: the public form, commitments page and partner API (``web.public.routes``);
    ``visitor``: the settings of the progress, survey and feedback pages
    (``web.public.visits``); ``extra_routes``: the operator's /health and /metrics
    (complaintd.ops.status)."""
    env = environment()
    routes: list[BaseRoute] = [*public] + [
        Route(path, page(console, env, fn, public=open_), methods=list(methods))
        for path, fn, methods, open_ in ROUTES]
    routes += visitor_routes(console, env, visitor or VisitorConfig())
    routes += [*(extra_routes or []), Route("/healthz", healthz, methods=["GET"]),
               Mount("/static", StaticFiles(directory=STATIC), name="static")]
    app: ASGIApp = Starlette(routes=routes, middleware=[
        Middleware(Guard, secure_cookies=console.config.secure_cookies)])
    if trusted_proxies:
        # uvicorn types its middleware with its own ASGI types; the protocol is the same.
        app = cast(ASGIApp, ProxyHeadersMiddleware(cast(Any, app),
                                                   trusted_hosts=list(trusted_proxies)))
    return app
