"""Routing's context (the ``Desk``): its configuration, calendar and mailer in one value, and
how it writes mail.

Every mail to staff or to an authority is recorded as a ``StaffThread`` so that a reply can be
checked against it (a command must answer our own mail); every mail to the complainant is
recorded as an outbound ``Message`` so that the complainant's reply threads to the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import queries
from casework.clock import SHANGHAI
from casework.models import Case, StaffThread
from casework.tasks import CALLBACK, CallTask
from casework.transitions import record
from routing.directory import RoutingConfig, TimeLimit
from routing.ports import COMPLAINANT_ANSWERS, Mailer, Notice, NoticeKind
from routing.threads import new_token

# Staff mail that invites no answer carries no reply token (a digest is about no one case;
# a refusal goes to whoever wrote, who may be a forger). A command's result does: the
# handler may answer it with the next command.
NO_ANSWER = frozenset({NoticeKind.COMMAND_REFUSAL, NoticeKind.SUPERVISOR_DIGEST})

ACTOR_ROUTER = "system:router"


class Calendar(Protocol):
    def add_working_days(self, start: date, n: int) -> date: ...
    def add_calendar_days(self, start: date, n: int) -> date: ...
    def working_days_between(self, a: date, b: date) -> int: ...


@dataclass(frozen=True)
class Desk:
    config: RoutingConfig
    calendar: Calendar
    mailer: Mailer
    # Signs the reply token of every mail that invites an answer (``routing.threads``).
    thread_key: bytes
    # Keys of before a rotation: tokens they signed are still accepted; new mail is always
    # signed with ``thread_key`` (``[security] previous_thread_keys``).
    previous_thread_keys: tuple[bytes, ...] = ()

    @property
    def verify_keys(self) -> tuple[bytes, ...]:
        """The keys a token may be signed with, the current one first."""
        return (self.thread_key, *self.previous_thread_keys)

    def due(self, start: date, limit: TimeLimit) -> date:
        """The last day of a time limit counted the civil-code way from ``start``."""
        if limit.kind == "calendar":
            return self.calendar.add_calendar_days(start, limit.days)
        return self.calendar.add_working_days(start, limit.days)

    def limit_of(self, case: Case) -> TimeLimit:
        """The resolution limit a case's deadline is counted in (days and their kind): its
        category's, else the configured default (``clock.default_limits``)."""
        category = self.config.categories.get(case.category or "")
        return (category.limits if category else self.config.clock.default_limits).resolve

    def tell_complainant(self, session: Session, case: Case, kind: NoticeKind, now: datetime,
                         facts: dict[str, Any], *, key: str = "") -> str | None:
        """Mail the complainant (the mailer keeps it in the case's thread, and records why
        when there is no address to write to)."""
        party = case.complainant
        email = party.email if party is not None and party.email else ""
        name = None if party is None or party.anonymous else party.name
        nonce, token = (self._token(case, email, kind) if email and kind in COMPLAINANT_ANSWERS
                        else (None, None))
        notice = Notice(kind, "complainant", case.id, case.reference, email, name,
                        case.language, f"{kind}:{case.reference}{key}",
                        # A date a notice states goes with its unit (issue 13).
                        {"reference": case.reference, "limit": self.limit_of(case), **facts},
                        reply_token=token)
        message_id = self.mailer(session, notice, now)
        if message_id is not None:
            self._thread(session, case, message_id, email, kind, nonce, now)
        return message_id

    def tell_staff(self, session: Session, case: Case | None, staff_id: str, kind: NoticeKind,
                   now: datetime, facts: dict[str, Any], *, key: str = "",
                   in_reply_to: str | None = None) -> str | None:
        """Mail a member of staff about ``case`` (None: a digest, whose rows the caller
        chose). Every staff mail about a case comes through here, and so through the one
        conflict check: a person the case names is never told anything more about it."""
        if case is not None and not may_hear(session, case, staff_id, kind, now):
            return None
        person = self.config.staff[staff_id]
        reference = case.reference if case is not None else ""
        nonce, token = self._token(case, person.email, kind)
        notice = Notice(kind, "staff", case.id if case else None, reference, person.email,
                        person.name, "zh", f"{kind}:{reference}:{staff_id}{key}",
                        {"reference": reference, "staff_name": person.name,
                         **({"limit": self.limit_of(case)} if case is not None else {}),
                         **facts},
                        in_reply_to, (in_reply_to,) if in_reply_to else (), token)
        message_id = self.mailer(session, notice, now)
        if message_id is not None and case is not None:
            self._thread(session, case, message_id, person.email, kind, nonce, now)
        return message_id

    def _token(self, case: Case | None, recipient: str,
               kind: NoticeKind) -> tuple[str | None, str | None]:
        """A new thread's nonce and token; none for a mail about no case (a digest) or one
        that invites no answer (a command's result or refusal)."""
        if case is None or kind in NO_ANSWER:
            return None, None
        return new_token(self.thread_key, case.id, recipient, kind)

    @staticmethod
    def _thread(session: Session, case: Case, message_id: str, recipient: str,
                kind: NoticeKind, nonce: str | None, now: datetime) -> None:
        # The same notice queued again (its dedup key) is the first mail, with the first
        # thread's token in its Message-ID: no second thread.
        if nonce is not None and nonce in message_id:
            session.add(StaffThread(case_id=case.id, case=case, message_id=message_id,
                                    recipient=recipient, kind=kind, sent_at=now, nonce=nonce))

    def tell_authority(self, session: Session, case: Case, authority: str, kind: NoticeKind,
                       now: datetime, facts: dict[str, Any], *, key: str = "",
                       in_reply_to: str | None = None) -> str | None:
        auth = self.config.authorities[authority]
        nonce, token = self._token(case, auth.email, kind)
        notice = Notice(kind, "authority", case.id, case.reference, auth.email, auth.name,
                        "zh", f"{kind}:{case.reference}:{authority}{key}",
                        {"reference": case.reference, "authority_name": auth.name, **facts},
                        in_reply_to, (in_reply_to,) if in_reply_to else (), token)
        message_id = self.mailer(session, notice, now)
        if message_id is not None:
            self._thread(session, case, message_id, auth.email, kind, nonce, now)
        return message_id


def may_hear(session: Session, case: Case, staff_id: str, kind: NoticeKind,
             now: datetime) -> bool:
    """False when ``staff_id`` is excluded from ``case`` (conflict of interest): the mail is
    withheld, the timeline says so (who and which notice, never the case's text) and the
    case is flagged, since whoever should have been told was not."""
    if staff_id not in queries.excluded_staff(session, case):
        return True
    record(case, "staff_notice_withheld", actor=ACTOR_ROUTER, at=now,
           details={"staff": staff_id, "notice": str(kind),
                    "why": "excluded from the case (conflict of interest)"})
    case.needs_attention = True
    return False


def call_task(session: Session, case: Case, why: str, due: date, now: datetime) -> None:
    """A follow-up call (the hotline's call-task list); one open callback per case."""
    party = case.complainant
    phone = party.phone if party is not None else None
    record(case, "call_task_opened", actor=ACTOR_ROUTER, at=now,
           details={"why": why, "phone_on_file": bool(phone)})
    if not phone:
        case.needs_attention = True  # no phone and no mail: staff must find a way
        return
    waiting = session.scalar(select(CallTask.id).where(
        CallTask.case_id == case.id, CallTask.kind == CALLBACK, CallTask.done_at.is_(None)))
    if waiting is None:
        session.add(CallTask(case_id=case.id, kind=CALLBACK, phone=phone, due=due,
                             created_at=now))


def today_of(now: datetime) -> date:
    return now.astimezone(SHANGHAI).date()


def start_of(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), SHANGHAI) + timedelta(hours=0)


