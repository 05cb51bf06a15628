"""What the console is given by the composition root (``complaintd.app``): the database,
the routing desk (read afresh each request: the routing file may change), the calendar,
the clock, the raw store and the pipeline (for a case opened by hand), and how it mails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from casework.clock import Clock
from casework.rawstore import RawStore
from notifications.outbox import MailIdentity
from routing.case_life import Intake
from routing.context import Calendar, Desk


@dataclass(frozen=True)
class WebConfig:
    secret: str
    base_url: str = "http://127.0.0.1:8080"
    secure_cookies: bool = True
    session_idle: timedelta = timedelta(minutes=120)
    session_max: timedelta = timedelta(hours=12)
    sign_in_link_age: timedelta = timedelta(hours=72)
    organisation: str = "投诉受理中心"
    # "Due soon" on My work: due within this many working days (as the digest).
    due_soon_working_days: int = 3
    # The public edition of the reports ([reports] small_count_threshold, min_denominator).
    report_threshold: int = 10
    report_min_denominator: int = 20


@dataclass(frozen=True)
class Console:
    config: WebConfig
    session_factory: sessionmaker[Session]
    desk: Callable[[], Desk | None]
    calendar: Calendar
    clock: Clock
    raw_store: RawStore
    intake: Intake
    identity: MailIdentity
