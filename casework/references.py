"""Reference numbers like ``LO-2026-000123``: unique, gap-free per year, never reused.

The counter row is bumped with ``UPDATE … RETURNING`` inside the transaction that creates
the case, so the database serialises concurrent writers (a row lock on PostgreSQL, the
write lock on SQLite) and a rolled-back case gives its number back unseen.
"""

from __future__ import annotations

import re

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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


def next_reference(session: Session, prefix: str, year: int) -> str:
    """Take the next number for ``prefix`` and ``year`` in the caller's transaction."""
    # On the connection: the counter row owes nothing to the session's pending objects,
    # and an autoflush here would cost a batch one flush per case.
    where = {"counter_prefix": prefix, "counter_year": year}
    number = session.connection().execute(_BUMP, where).scalar_one_or_none()
    if number is None:
        _create_counter(session, prefix, year)
        number = session.connection().execute(_BUMP, where).scalar_one()
    return format_reference(prefix, year, number)


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
