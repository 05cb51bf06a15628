"""Health and metrics of one installation, from its App: the CLI's ``complaintd health``,
the daemon's metrics port and the console's /health and /metrics.

Who may read /health and /metrics of the console: with ``[ops] status_token_env`` set in
the environment, whoever sends ``Authorization: Bearer <token>``; without it, loopback
clients only. The answers hold no personal data, but depths and mailbox names are still
nobody else's business.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from typing import Protocol
from wsgiref.simple_server import WSGIServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.exposition import start_http_server
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from casework.calendar import WorkCalendar
from casework.clock import Clock
from complaintd.ops.health import Health, Limits, Mailbox, check_health
from complaintd.ops.metrics import DatabaseGauges, Metrics
from complaintd.settings import ImapMailbox, Settings


class App(Protocol):
    """What these need of ``complaintd.app.App`` (a protocol: the App imports this module)."""

    settings: Settings
    session_factory: sessionmaker[Session]
    clock: Clock
    calendar: WorkCalendar
    metrics: Metrics

log = logging.getLogger("complaintd.ops")


def mailboxes(settings: Settings) -> list[Mailbox]:
    """The configured mailboxes as their state rows name them (``kind:name``, folder)."""
    return [Mailbox(f"{box.kind}:{box.name}",
                    box.folder if isinstance(box, ImapMailbox) else "INBOX")
            for box in settings.mailbox]


def limits(settings: Settings) -> Limits:
    ops = settings.ops
    # A mailbox polled rarely is not stale before two of its rounds have passed.
    stale = max(ops.mailbox_stale_minutes * 60, 2 * settings.schedule.poll_seconds)
    return Limits(mailbox_stale_seconds=stale,
                  outbox_oldest_seconds=ops.outbox_oldest_minutes * 60,
                  disk_min_free_bytes=ops.disk_min_free_mb * 1024 * 1024)


def health(app: App) -> Health:
    return check_health(app.session_factory, now=app.clock.now(),
                        mailboxes=mailboxes(app.settings), calendar=app.calendar,
                        data_dir=app.settings.data_dir, limits=limits(app.settings))


def registry(app: App) -> CollectorRegistry:
    """The App's metrics with the database's gauges added."""
    app.metrics.watch_database(
        DatabaseGauges(app.session_factory, app.clock.now, mailboxes(app.settings)))
    return app.metrics.registry


def start_metrics_server(app: App) -> WSGIServer | None:
    """The daemon's own /metrics on ``[ops] metrics_bind:metrics_port`` (0: none)."""
    ops = app.settings.ops
    if not ops.metrics_port:
        return None
    server, _thread = start_http_server(ops.metrics_port, ops.metrics_bind, registry(app))
    log.info("metrics on http://%s:%d/metrics", ops.metrics_bind, ops.metrics_port)
    return server


def status_routes(app: App) -> list[BaseRoute]:
    """/health (the JSON report; 503 when unwell) and /metrics for the console."""
    token = app.settings.ops.status_token()

    # Plain functions: Starlette runs them in its thread pool, so the database queries
    # never hold up the console's event loop.
    def health_page(request: Request) -> Response:
        if not may_read(request, token):
            return PlainTextResponse("forbidden", status_code=403)
        report = health(app)
        return Response(json.dumps(report.as_dict(), ensure_ascii=False),
                        status_code=200 if report.ok else 503,
                        media_type="application/json")

    def metrics_page(request: Request) -> Response:
        if not may_read(request, token):
            return PlainTextResponse("forbidden", status_code=403)
        return Response(generate_latest(registry(app)), media_type=CONTENT_TYPE_LATEST)

    return [Route("/health", health_page, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"])]


def may_read(request: Request, token: str) -> bool:
    """The token when one is set (from anywhere, loopback too: a reverse proxy on this host
    makes every visitor look local); otherwise loopback clients alone."""
    if token:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a unix socket or no address at all
        return False
