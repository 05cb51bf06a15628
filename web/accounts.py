"""Staff accounts: passwords (argon2), one-time sign-in links, sign-in with a rate limit
and a lock, and sessions that expire and can all be ended at once.

Plain functions of an open ``Session`` and the time (``now``), so the CLI (``complaintd
users …``) and the console share them and a test can move the clock.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from web.models import ROLES, SignInAttempt, StaffUser, WebSession

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
# A hash to verify against when the account does not exist, so a wrong name costs the
# same time as a wrong password (no probing which accounts exist).
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

MIN_PASSWORD = 10
# Failed sign-ins counted over this window: per account, then per address.
WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 30
# Failed sign-ins in a row that lock the account until an administrator sets a password.
LOCK_AFTER = 10


class AccountError(ValueError):
    """A request about accounts that cannot be met; ``key`` names the message."""

    def __init__(self, key: str, **facts: object) -> None:
        super().__init__(key)
        self.key = key
        self.facts = facts


# -- accounts ---------------------------------------------------------------------------


def check_roles(roles: list[str]) -> str:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise AccountError("unknown_role", roles=", ".join(unknown) or "-", known=", ".join(ROLES))
    return ",".join(dict.fromkeys(roles))


def add_user(session: Session, *, staff_id: str, email: str, name: str, roles: list[str],
             now: datetime) -> StaffUser:
    if user_by_staff_id(session, staff_id) is not None:
        raise AccountError("user_exists", staff=staff_id)
    user = StaffUser(staff_id=staff_id, email=email, display_name=name,
                     roles=check_roles(roles), created_at=now, failed_sign_ins=0)
    session.add(user)
    session.flush()
    return user


def user_by_staff_id(session: Session, staff_id: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.staff_id == staff_id))


def list_users(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.staff_id)))


def set_password(session: Session, user: StaffUser, password: str, now: datetime) -> None:
    """A new password: unlocks the account, ends every session, spends any one-time link."""
    if len(password) < MIN_PASSWORD:
        raise AccountError("password_short", n=MIN_PASSWORD)
    user.password_hash = _hasher.hash(password)
    user.password_set_at = now
    user.failed_sign_ins = 0
    user.locked_at = None
    end_sessions(session, user, now)


def lock(session: Session, user: StaffUser, now: datetime) -> None:
    user.locked_at = now
    end_sessions(session, user, now)


# -- one-time sign-in links -------------------------------------------------------------


def _links(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="complaintd.web.sign-in-link")


def _stamp(user: StaffUser) -> str:
    # The link names the password's state when it was made: once a password is set with
    # it (or any other way), the stamp changes and the link is spent.
    return user.password_set_at.isoformat() if user.password_set_at else "never"


def sign_in_link_token(user: StaffUser, secret: str) -> str:
    return str(_links(secret).dumps({"u": user.id, "s": _stamp(user)}))


def user_for_link(session: Session, token: str, secret: str, max_age: timedelta) -> StaffUser:
    """The account a one-time link is for, or AccountError (expired, spent, forged)."""
    try:
        data = _links(secret).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise AccountError("link_expired") from None
    except BadSignature:
        raise AccountError("link_invalid") from None
    user = session.get(StaffUser, data.get("u")) if isinstance(data, dict) else None
    if user is None or data.get("s") != _stamp(user):
        raise AccountError("link_invalid")
    return user


# -- signing in -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    user: StaffUser
    token: str  # for the cookie; only its hash is stored


def sign_in(session: Session, *, login: str, password: str, address: str, now: datetime,
            lifetime: timedelta) -> SignedIn:
    """Check a password; AccountError("sign_in_failed" | "rate_limited" | "locked")."""
    login = login.strip().lower()[:320]
    if _recent_failures(session, SignInAttempt.login == login, now) >= PER_ACCOUNT or \
            _recent_failures(session, SignInAttempt.address == address, now) >= PER_ADDRESS:
        session.add(SignInAttempt(login=login, address=address, at=now, succeeded=False))
        raise AccountError("rate_limited", minutes=int(WINDOW.total_seconds() // 60))
    user = session.scalar(select(StaffUser).where(
        (func.lower(StaffUser.staff_id) == login) | (func.lower(StaffUser.email) == login)))
    good = _verify(user.password_hash if user is not None else None, password)
    session.add(SignInAttempt(login=login, address=address, at=now,
                              succeeded=good and user is not None and user.locked_at is None))
    if user is None or not good:
        if user is not None:
            user.failed_sign_ins += 1
            if user.failed_sign_ins >= LOCK_AFTER and user.locked_at is None:
                lock(session, user, now)
        raise AccountError("sign_in_failed")
    if user.locked_at is not None:
        raise AccountError("locked")
    user.failed_sign_ins = 0
    if user.password_hash and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return SignedIn(user, start_session(session, user, now, lifetime))


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _recent_failures(session: Session, where: object, now: datetime) -> int:
    query = select(func.count(SignInAttempt.id)).where(
        where, SignInAttempt.succeeded.is_(False), SignInAttempt.at > now - WINDOW)  # type: ignore[arg-type]
    return int(session.scalar(query) or 0)


# -- sessions ---------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: StaffUser, now: datetime,
                  lifetime: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_sha256=_digest(token), user_id=user.id, created_at=now,
                           last_seen_at=now, expires_at=now + lifetime))
    return token


def session_user(session: Session, token: str, now: datetime,
                 idle: timedelta) -> StaffUser | None:
    """The account behind a cookie's token, if the session is current (not ended, not past
    its end, used within ``idle``, the account not locked); its last use is moved on."""
    row = session.scalar(select(WebSession).where(WebSession.token_sha256 == _digest(token)))
    if row is None or row.ended_at is not None or row.expires_at <= now \
            or row.last_seen_at + idle <= now or row.user.locked_at is not None:
        return None
    # Written at most once a minute: every page view need not be a write.
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
    return row.user


def end_session(session: Session, token: str, now: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.token_sha256 == _digest(token),
                                             WebSession.ended_at.is_(None))
                    .values(ended_at=now))


def end_sessions(session: Session, user: StaffUser, now: datetime) -> int:
    """Sign out everywhere: every open session of ``user`` ends now."""
    result = session.execute(update(WebSession).where(WebSession.user_id == user.id,
                                                      WebSession.ended_at.is_(None))
                             .values(ended_at=now))
    return int(getattr(result, "rowcount", 0) or 0)
