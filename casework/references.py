"""Reference numbers like ``LO-2026-000123``: unique, gap-free per year, never reused.

The counter row is bumped with ``UPDATE … RETURNING`` inside the transaction that creates
the case, so the database serialises concurrent writers (a row lock on PostgreSQL, the
write lock on SQLite) and a rolled-back case gives its number back unseen.

A batch (``casework.db.start_batch``) bumps the row once, which locks it to the batch's
transaction, counts on in memory and stores the last number given just before it commits:
the same numbers, one statement instead of one per case. A savepoint rolled back gives its
numbers back as the database would (the count is restored as it was when it began).
"""

from __future__ import annotations

import re
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from casework.db import in_batch
from casework.models import ReferenceCounter

REFERENCE_PATTERN = re.compile(r"\b([A-Z]{1,8})-(\d{4})-(\d{6,})\b")


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


# Built once: constructing the statement costs more than running it.
_BUMP = (
    update(ReferenceCounter)
    .where(ReferenceCounter.prefix == bindparam("counter_prefix"),
           ReferenceCounter.year == bindparam("counter_year"))
    .values(last=ReferenceCounter.last + 1)
    .returning(ReferenceCounter.last)
)


_SET = (
    update(ReferenceCounter)
    .where(ReferenceCounter.prefix == bindparam("counter_prefix"),
           ReferenceCounter.year == bindparam("counter_year"))
    .values(last=bindparam("counter_last"))
)
# A batch session's numbers given so far: (prefix, year) → the last one.
_GIVEN_KEY = "complaintd.references_given"
# What that was when each savepoint began, to give numbers back when it rolls back.
_AT_SAVEPOINT: WeakKeyDictionary[SessionTransaction, dict[tuple[str, int], int]] = \
    WeakKeyDictionary()


def next_reference(session: Session, prefix: str, year: int) -> str:
    """Take the next number for ``prefix`` and ``year`` in the caller's transaction."""
    if in_batch(session):
        given: dict[tuple[str, int], int] = session.info.setdefault(_GIVEN_KEY, {})
        last = given.get((prefix, year))
        # The first bump locks the row for the batch; the rest are counted here.
        given[(prefix, year)] = number = _bump(session, prefix, year) if last is None \
            else last + 1
    else:
        number = _bump(session, prefix, year)
    return format_reference(prefix, year, number)


def _bump(session: Session, prefix: str, year: int) -> int:
    # On the connection: the counter row owes nothing to the session's pending objects,
    # and an autoflush here would cost a batch one flush per case.
    where = {"counter_prefix": prefix, "counter_year": year}
    number = session.connection().execute(_BUMP, where).scalar_one_or_none()
    if number is None:
        _create_counter(session, prefix, year)
        number = session.connection().execute(_BUMP, where).scalar_one()
    return int(number)


@event.listens_for(Session, "before_commit")
def _store_given(session: Session) -> None:
    """The batch's last numbers go into the counter rows before its commit (not at a
    savepoint's release: the numbers stay counted in memory until the real commit)."""
    given: dict[tuple[str, int], int] | None = session.info.get(_GIVEN_KEY)
    if not given or session.in_nested_transaction():
        return
    session.connection().execute(_SET, [
        {"counter_prefix": prefix, "counter_year": year, "counter_last": last}
        for (prefix, year), last in given.items()])


@event.listens_for(Session, "after_transaction_create")
def _remember_given(session: Session, transaction: SessionTransaction) -> None:
    given: dict[tuple[str, int], int] | None = session.info.get(_GIVEN_KEY)
    if transaction.nested and given is not None:
        _AT_SAVEPOINT[transaction] = dict(given)


@event.listens_for(Session, "after_soft_rollback")
def _give_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        if _GIVEN_KEY in session.info:
            # Numbers taken inside it are free again; a first bump inside it was undone.
            session.info[_GIVEN_KEY] = _AT_SAVEPOINT.pop(transaction, {})
    else:
        session.info.pop(_GIVEN_KEY, None)


@event.listens_for(Session, "after_commit")
def _forget_given(session: Session, *_: Any) -> None:
    if not session.in_nested_transaction():  # (a savepoint's release keeps counting)
        session.info.pop(_GIVEN_KEY, None)


def _create_counter(session: Session, prefix: str, year: int) -> None:
    # Another writer may create the row at the same moment: a savepoint keeps our
    # transaction alive when its insert wins.
    try:
        with session.begin_nested():
            session.execute(insert(ReferenceCounter).values(prefix=prefix, year=year, last=0))
    except IntegrityError:
        pass


def find_references(text: str, prefix: str) -> list[str]:
    """Reference numbers of ``prefix`` that appear in ``text`` (e.g. a reply's subject)."""
    found = []
    for match in REFERENCE_PATTERN.finditer(text.upper()):
        if match.group(1) == prefix:
            found.append(format_reference(prefix, int(match.group(2)), int(match.group(3))))
    return found


def counter_value(session: Session, prefix: str, year: int) -> int:
    value = session.scalar(
        select(ReferenceCounter.last).where(
            ReferenceCounter.prefix == prefix, ReferenceCounter.year == year
        )
    )
    return int(value or 0)
