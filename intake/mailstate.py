"""Where each mailbox folder stands (UIDVALIDITY, last UID) and whether its last poll worked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import Clock
from intake.tables import MailboxState


@dataclass(frozen=True)
class Position:
    uidvalidity: int
    last_uid: int


class MailboxStates:
    """Reads and writes ``mailbox_state`` rows, each change in its own short transaction."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self.session_factory = session_factory
        self.clock = clock

    def position(self, source: str, folder: str) -> Position | None:
        with self.session_factory() as session:
            row = _find(session, source, folder)
            if row is None or row.uidvalidity == 0:
                return None
            return Position(row.uidvalidity, row.last_uid)

    def advance(self, source: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        """Remember that every UID up to ``last_uid`` is taken in and marked done."""
        with self.session_factory.begin() as session:
            row = _row(session, source, folder)
            if row.uidvalidity != uidvalidity:
                row.uidvalidity, row.last_uid = uidvalidity, 0
            row.last_uid = max(row.last_uid, last_uid)

    def succeeded(self, source: str, folder: str) -> None:
        with self.session_factory.begin() as session:
            row = _row(session, source, folder)
            row.last_success_at = self.clock.now()
            row.failures = 0

    def failed(self, source: str, folder: str, error: str) -> int:
        """Record a failed poll; returns how many polls in a row have failed."""
        with self.session_factory.begin() as session:
            row = _row(session, source, folder)
            row.last_error = error[:2000]
            row.last_error_at = self.clock.now()
            row.failures += 1
            return row.failures

    def reconciled(self, source: str, folder: str, missing: int, detail: str) -> None:
        with self.session_factory.begin() as session:
            row = _row(session, source, folder)
            row.last_reconciled_at = self.clock.now()
            row.reconcile_missing = missing
            row.reconcile_detail = detail[:20000]

    def all(self) -> list[MailboxState]:
        with self.session_factory() as session:
            return list(session.scalars(select(MailboxState).order_by(MailboxState.source)))


def _find(session: Session, source: str, folder: str) -> MailboxState | None:
    return session.scalar(select(MailboxState).where(
        MailboxState.source == source, MailboxState.folder == folder))


def _row(session: Session, source: str, folder: str) -> MailboxState:
    row = _find(session, source, folder)
    if row is not None:
        return row
    try:
        with session.begin_nested():  # another process may create it at the same moment
            row = MailboxState(source=source, folder=folder, uidvalidity=0, last_uid=0,
                               failures=0, reconcile_missing=0)
            session.add(row)
    except IntegrityError:
        row = _find(session, source, folder)
        assert row is not None
    return row

