"""The reports of the installation: the annual report and the supervising body's figures
(CLI and console share ``web.report``), and the director's monthly summary (a job)."""

from __future__ import annotations

from datetime import date, timedelta

from casework.clock import SHANGHAI
from casework.figures import FIRST_YEAR, Period, Scope, figures
from casework.queries import count_cases
from complaintd.app import App
from notifications.models import OutboxMail
from notifications.notices import MonthSummary, queue_monthly_summary
from web.report import labels
from web.report.annual import Report, prepare
from web.report.disclosure import Rule
from web.report.tables import Edition


def rule(app: App) -> Rule:
    settings = app.settings.reports
    return Rule(settings.small_count_threshold, settings.min_denominator)


def annual(app: App, year: int, *, edition: Edition, lang: str,
           scope: Scope = Scope()) -> Report:  # noqa: B008 (a frozen value)
    """The report of ``year`` as of today (a year not over counts what is due by today)."""
    today = app.clock.now().astimezone(SHANGHAI).date()
    if not FIRST_YEAR <= year <= today.year:
        raise ValueError(f"year {year}: give one from {FIRST_YEAR} to {today.year}")
    with app.session_factory() as session:
        found = figures(session, app.calendar, Period.year(year, today), scope,
                        with_previous=True)
    config = app.desk.config if app.desk is not None else None
    return prepare(found, labels.names(config, lang), edition, rule(app))


def organisation(app: App, lang: str) -> str:
    org = app.settings.organisation
    return org.name_en if lang == "en" and org.name_en else org.name


def month_summary(app: App, today: date) -> MonthSummary:
    """Last month against the month before, and the cases overdue today."""
    last = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    before = (last - timedelta(days=1)).replace(day=1)
    with app.session_factory() as session:
        months = [figures(session, app.calendar, Period.month(first, today))
                  for first in (last, before)]
        overdue = count_cases(session, overdue_on=today)
    return MonthSummary.of(months[0], months[1], overdue_today=overdue, today=today)


def mail_monthly_summary(app: App) -> list[OutboxMail]:
    """The summary to ``[reports] director_to``, once per month and address (outbox key)."""
    now = app.clock.now()
    today = now.astimezone(SHANGHAI).date()
    summary = month_summary(app, today)
    queued = []
    with app.session_factory.begin() as session:
        for address in app.settings.reports.director_to:
            row = queue_monthly_summary(
                session, recipient_email=address, summary=summary, identity=app.identity,
                renderer=app.renderer, org=app.organisation, now=now,
                language=app.settings.reports.language)
            if row is not None:
                queued.append(row)
    return queued
