"""Is the installation well? One report for ``complaintd health`` and the console's /health.

Every figure comes from the database or the disk, never from one process's memory, so the
answer is the same whichever daemon or console is asked (several may share a database).
The report carries counts, ages and configured mailbox names: no complainant's data and
no secret.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from casework.calendar import WorkCalendar
from casework.clock import SHANGHAI
from casework.models import Case
from casework.queries import overdue_filter
from intake.tables import MailboxState
from notifications.models import OutboxMail, OutboxStatus


@dataclass(frozen=True)
class Limits:
    """When a figure stops being healthy (``[ops]`` in the settings)."""

    mailbox_stale_seconds: float = 1800
    outbox_oldest_seconds: float = 3600
    disk_min_free_bytes: int = 1024 * 1024 * 1024


@dataclass(frozen=True)
class Mailbox:
    """A configured mailbox as its state row knows it: ``source`` is ``kind:name``."""

    source: str
    folder: str


@dataclass
class Health:
    """The checks by name; ``ok`` when none failed. ``problems`` says which, in words."""

    checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, **self.checks}


def check_health(sessions: sessionmaker[Session], *, now: datetime, mailboxes: Sequence[Mailbox],
                 calendar: WorkCalendar, data_dir: Path, limits: Limits) -> Health:
    """Every check; a database that does not answer fails the database ones, not the rest."""
    health = Health()
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
            health.checks["database"] = {"ok": True}
            _mailboxes(health, session, mailboxes, now, limits)
            _outbox(health, session, now, limits)
            _overdue(health, session, now)
    except SQLAlchemyError as exc:
        # The type alone: a driver's message may carry the URL's host and user.
        health.checks["database"] = {"ok": False, "error": type(exc).__name__}
        health.problems.append("database: not reachable")
    _calendar(health, calendar, now)
    _disk(health, data_dir, limits)
    return health


def _mailboxes(health: Health, session: Session, mailboxes: Sequence[Mailbox], now: datetime,
               limits: Limits) -> None:
    rows = {(r.source, r.folder): r for r in session.scalars(select(MailboxState))}
    report = []
    for box in mailboxes:
        row = rows.get((box.source, box.folder))
        last = row.last_success_at if row else None
        age = (now - last).total_seconds() if last else None
        failures = row.failures if row else 0
        report.append({"mailbox": box.source, "last_success": _iso(last),
                       "seconds_since_success": _round(age), "failures_in_a_row": failures})
        if age is None or age > limits.mailbox_stale_seconds:
            health.problems.append(f"mailbox {box.source}: no successful poll for "
                                   f"{'ever' if age is None else f'{int(age)} s'}")
    health.checks["mailboxes"] = report


def _outbox(health: Health, session: Session, now: datetime, limits: Limits) -> None:
    pending = OutboxMail.status == OutboxStatus.PENDING
    depth, oldest = session.execute(
        select(func.count(OutboxMail.id), func.min(OutboxMail.created_at)).where(pending)).one()
    failed = session.scalar(select(func.count(OutboxMail.id))
                            .where(OutboxMail.status == OutboxStatus.FAILED)) or 0
    age = (now - oldest).total_seconds() if oldest else None
    health.checks["outbox"] = {"depth": depth, "oldest_unsent": _iso(oldest),
                               "oldest_unsent_seconds": _round(age), "failed": failed}
    if age is not None and age > limits.outbox_oldest_seconds:
        health.problems.append(f"outbox: oldest unsent mail waits {int(age)} s")


def _overdue(health: Health, session: Session, now: datetime) -> None:
    # Overdue cases are the staff's work, not the installation's fault: a figure only.
    today = now.astimezone(SHANGHAI).date()
    health.checks["overdue_cases"] = overdue_count(session, today)


def overdue_count(session: Session, today: date) -> int:
    return session.scalar(select(func.count(Case.id)).where(overdue_filter(today))) or 0


def _calendar(health: Health, calendar: WorkCalendar, now: datetime) -> None:
    today = now.astimezone(SHANGHAI).date()
    warnings = calendar.check(today)
    health.checks["calendar"] = {"this_year": calendar.covers(today.year),
                                 "next_year": calendar.covers(today.year + 1),
                                 "warnings": [w.code for w in warnings]}
    # Next year's data only counts from 1 November (calendar.check): its notice comes late.
    health.problems.extend(f"calendar: {w.en}" for w in warnings)


def _disk(health: Health, data_dir: Path, limits: Limits) -> None:
    try:
        usage = shutil.disk_usage(data_dir)
    except OSError as exc:
        health.checks["disk"] = {"ok": False, "error": type(exc).__name__}
        health.problems.append("disk: data folder not readable")
        return
    health.checks["disk"] = {"free_bytes": usage.free, "total_bytes": usage.total}
    if usage.free < limits.disk_min_free_bytes:
        health.problems.append(f"disk: {usage.free // (1024 * 1024)} MB free in the data folder")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)
