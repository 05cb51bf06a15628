"""The console's own tables, on the same ``Base`` as casework's (one metadata, one set of
migrations): staff accounts, their sessions, sign-in attempts, the access log of cases
(who opened which case when: personal information, PIPL art. 51/55) and saved views."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models import Base, CaseView

__all__ = ["CaseView", "SavedView", "SignInAttempt", "StaffUser", "WebSession"]

ROLES = ("handler", "supervisor", "hotline", "director", "auditor", "administrator")
# Accounts that may open a case by hand (an auditor only reads, an administrator keeps
# accounts), and those that see the counts of every status and the extension requests.
OPENERS = frozenset({"handler", "supervisor", "hotline", "director"})
OVERSEERS = frozenset({"supervisor", "director"})
# Who reads the register of commitment violations (clause 七).
REGISTER_READERS = frozenset({"supervisor", "director", "auditor", "administrator"})
# Who sees the outbox (recipients' addresses) and the quarantine, and may retry a mail.
OPERATORS = frozenset({"director", "administrator"})


class StaffUser(Base):
    """A console account of a person in the staff directory (``routing.toml``)."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(255))
    # Comma-separated: a supervisor usually handles cases too.
    roles: Mapped[str] = mapped_column(String(255))
    # An argon2 hash; None until the person sets a password (one-time link or CLI).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # When the password last changed: a one-time link names it, so it works once.
    password_set_at: Mapped[datetime | None]
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)

    @property
    def may_open_cases(self) -> bool:
        return bool(self.role_set & OPENERS)

    @property
    def oversees(self) -> bool:
        return bool(self.role_set & OVERSEERS)

    @property
    def reads_register(self) -> bool:
        return bool(self.role_set & REGISTER_READERS)

    @property
    def operates(self) -> bool:
        return bool(self.role_set & OPERATORS)

    @property
    def read_only(self) -> bool:
        """Only an auditor's role (or none that acts): reads, never acts."""
        return not self.role_set - {"auditor"}


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    user: Mapped[StaffUser] = relationship()


class SignInAttempt(Base):
    """Every sign-in attempt, for the rate limit (per account and per address) and audit."""

    __tablename__ = "sign_in_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class SavedView(Base):
    """A list of cases a person named and keeps: the query string of its filters."""

    __tablename__ = "saved_view"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_view_user_name"),)


class AccountEvent(Base):
    """The audit of console accounts: who changed whose account, when, and how (created,
    roles, locked, unlocked, sign-in link sent, signed out everywhere)."""

    __tablename__ = "account_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))  # "web:<staff id>" of the administrator
    staff_id: Mapped[str] = mapped_column(String(64), index=True)  # whose account
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
