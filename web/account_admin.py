"""The administrator's changes to console accounts, each one audited (``account_event``).

The same functions as ``complaintd users …`` (``web.accounts``, ``web.mail``) with the
record of who did it; a person is given an account only from the staff directory, and an
administrator cannot lock themselves out or take away their own administrator role.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.outbox import MailIdentity
from routing.directory import RoutingConfig
from web import accounts
from web.mail import queue_sign_in_link
from web.models import AccountEvent, StaffUser


def record(session: Session, *, actor: str, staff_id: str, action: str, now: datetime,
           detail: str = "") -> None:
    session.add(AccountEvent(at=now, actor=actor, staff_id=staff_id, action=action,
                             detail=detail[:2000]))


def recent_events(session: Session, limit: int = 50) -> list[AccountEvent]:
    return list(session.scalars(select(AccountEvent)
                                .order_by(AccountEvent.at.desc(), AccountEvent.id.desc())
                                .limit(limit)))


def create(session: Session, directory: RoutingConfig | None, *, actor: str, staff_id: str,
           roles: list[str], now: datetime) -> StaffUser:
    """An account for a person of the staff directory (name and address from it)."""
    person = directory.staff.get(staff_id) if directory is not None else None
    if person is None:
        raise accounts.AccountError("staff_not_in_directory", staff=staff_id)
    user = accounts.add_user(session, staff_id=staff_id, email=person.email, name=person.name,
                             roles=roles, now=now)
    record(session, actor=actor, staff_id=staff_id, action="created", now=now,
           detail=user.roles)
    return user


def change_roles(session: Session, user: StaffUser, *, actor: str, roles: list[str],
                 now: datetime) -> None:
    wanted = accounts.check_roles(roles)
    if _is_self(user, actor) and "administrator" not in wanted.split(","):
        raise accounts.AccountError("own_admin_role")
    if wanted == user.roles:
        return
    before, user.roles = user.roles, wanted
    record(session, actor=actor, staff_id=user.staff_id, action="roles", now=now,
           detail=f"{before} → {wanted}")


def lock(session: Session, user: StaffUser, *, actor: str, now: datetime) -> None:
    if _is_self(user, actor):
        raise accounts.AccountError("own_lock")
    accounts.lock(session, user, now)
    record(session, actor=actor, staff_id=user.staff_id, action="locked", now=now)


def unlock(session: Session, user: StaffUser, *, actor: str, now: datetime) -> None:
    """Unlocked with the password it had; the count of failures starts again."""
    user.locked_at = None
    user.failed_sign_ins = 0
    record(session, actor=actor, staff_id=user.staff_id, action="unlocked", now=now)


def send_link(session: Session, user: StaffUser, *, actor: str, secret: str, base_url: str,
              identity: MailIdentity, organisation: str, age: timedelta,
              now: datetime) -> None:
    """The one-time link to set a password, by mail through the outbox."""
    queue_sign_in_link(session, user, secret=secret, base_url=base_url, identity=identity,
                       organisation=organisation, age=age, now=now)
    record(session, actor=actor, staff_id=user.staff_id, action="link_sent", now=now,
           detail=user.email)


def sign_out_everywhere(session: Session, user: StaffUser, *, actor: str,
                        now: datetime) -> int:
    ended = accounts.end_sessions(session, user, now)
    record(session, actor=actor, staff_id=user.staff_id, action="signed_out", now=now,
           detail=str(ended))
    return ended


def _is_self(user: StaffUser, actor: str) -> bool:
    return actor == f"web:{user.staff_id}"
