"""What the console is given by the composition root (``complaintd.app``): the database,
the routing desk (read afresh each request: the routing file may change), the calendar,
the clock, the raw store and the pipeline (for a case opened by hand), and how it mails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from casework.clock import Clock
from casework.rawstore import RawStore
from notifications.outbox import MailIdentity
from privacy.person import Who
from routing.case_life import Intake
from routing.context import Calendar, Desk
from web.uploads import HotlineUploads, UploadJobs


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


# -- ports the composition root fills in (web may not import intake or complaintd) ------


@dataclass(frozen=True)
class MailboxStatus:
    """One configured mailbox as the console shows it (``mailbox_state`` and counts)."""

    name: str
    kind: str  # "imap" | "maildir"
    place: str  # host and folder, or the Maildir's path
    last_poll: datetime | None
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int
    waiting: int | None  # None: not known without asking the server
    retrying: int  # mails whose taking-in was cut short and will be tried again
    quarantined: int  # not yet resolved


@dataclass(frozen=True)
class SettingLine:
    """One effective setting; a secret's ``value`` is never given, only ``is_set``."""

    section: str
    key: str
    value: str
    secret: bool = False
    is_set: bool = False


def _no_mailboxes(_session: Session) -> list[MailboxStatus]:
    return []


def _no_settings() -> list[SettingLine]:
    return []


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
    # Read ports of the composition root (defaults: nothing configured).
    mailboxes: Callable[[Session], list[MailboxStatus]] = _no_mailboxes
    settings_view: Callable[[], list[SettingLine]] = _no_settings
    # The privacy register's keyed hash of a person's address (``App.privacy_subject``).
    privacy_subject: Callable[[Who], str] | None = None
    hotline: HotlineUploads | None = None
    # The call logs being imported from uploads in this process (progress, summary).
    uploads: UploadJobs = field(default_factory=lambda: UploadJobs())
