"""Engines and sessions. A ``Session`` from ``sessionmaker`` is the unit of work."""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, inspect, select
from sqlalchemy.orm import InstanceState, Mapper, Session, sessionmaker
from sqlalchemy.sql.schema import ScalarElementColumnDefault


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings complaintd relies on.

    SQLite gets WAL (readers do not block the writer), enforced foreign keys and a busy
    timeout, and takes its write lock at BEGIN so two writers queue instead of failing
    halfway through a transaction.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN (see the "begin" hook below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# A session that takes in a whole fetched batch flushes once, at the end, so the ORM
# writes each table with one multi-row INSERT instead of a few statements per item.
# Code that flushes only to learn a new row's id skips that flush in such a session.
_BATCH_KEY = "complaintd.one_flush_batch"


def start_batch(session: Session) -> None:
    """Mark ``session`` as taking in a batch: new rows get their ids at the final flush."""
    session.info[_BATCH_KEY] = True


@event.listens_for(Session, "before_flush")
def _number_batch_rows(session: Session, _context: Any, _instances: Any) -> None:
    # Every flush of a batch session, the final one and any autoflush before a query.
    if session.info.get(_BATCH_KEY):
        fill_defaults(session)
        number_new_rows(session)


def fill_defaults(session: Session) -> None:
    """Give the session's new rows their plain column defaults before a big flush.

    The ORM puts rows in one executemany only while they set the same columns: an
    outbound message (no ``raw_size``, left to its default) between two inbound ones
    would split a batch's messages into one INSERT each.
    """
    for obj in session.new:
        state = inspect(obj)
        for key, value in _scalar_defaults(state.mapper):
            if key not in state.dict:
                setattr(obj, key, value)


@functools.cache
def _scalar_defaults(mapper: Mapper[Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((mapper.get_property_by_column(column).key, column.default.arg)
                 for column in mapper.columns
                 if isinstance(column.default, ScalarElementColumnDefault))


def flush_for_ids(session: Session) -> None:
    """Flush so new rows have ids, unless ``session`` defers that to the batch's flush."""
    if not session.info.get(_BATCH_KEY):
        session.flush()


def number_new_rows(session: Session) -> None:
    """On SQLite, give the session's new rows their ids before a big flush.

    SQLite cannot say which generated id belongs to which row of a multi-row INSERT, so
    the ORM inserts such rows one statement at a time; rows that already have ids go in
    one executemany per table. The write lock is ours from BEGIN IMMEDIATE on, so the
    ids after the highest one are exactly those SQLite itself would pick.
    PostgreSQL returns ids in order from its multi-row INSERTs: nothing to do there.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    waiting: dict[Mapper[Any], list[InstanceState[Any]]] = defaultdict(list)
    for obj in session.new:
        state = inspect(obj)
        if _needs_id(state):
            waiting[state.mapper].append(state)
    for mapper, states in waiting.items():
        column = mapper.primary_key[0]
        key = mapper.get_property_by_column(column).key
        top = session.connection().execute(select(func.max(column))).scalar() or 0
        for offset, state in enumerate(sorted(states, key=lambda s: s.insert_order or 0), 1):
            setattr(state.obj(), key, top + offset)


def _needs_id(state: InstanceState[Any]) -> bool:
    pk = state.mapper.primary_key
    if len(pk) != 1 or pk[0].type.python_type is not int:
        return False
    key = state.mapper.get_property_by_column(pk[0]).key
    return state.dict.get(key) is None
