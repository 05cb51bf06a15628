"""Engines and sessions. A ``Session`` from ``sessionmaker`` is the unit of work."""

from __future__ import annotations

import functools
import gc
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Engine, Table, create_engine, event, func, inspect, select, text
from sqlalchemy.orm import InstanceState, Mapper, Session, sessionmaker
from sqlalchemy.sql.schema import ScalarElementColumnDefault


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings complaintd relies on.

    SQLite gets WAL (readers do not block the writer), enforced foreign keys and a busy
    timeout, and takes its write lock at BEGIN so two writers queue instead of failing
    halfway through a transaction.
    """
    kwargs.setdefault("hide_parameters", True)  # error messages and logs: no complainant data
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    # No JIT: it compiles for 100+ ms whenever a plan looks costly (a search over 100,000
    # cases does), far more than such a query then runs.
    kwargs.setdefault("connect_args", {"options": "-c jit=off"})
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


class CaseworkSession(Session):
    """A session whose ``get`` also finds a new row given its id early in a batch
    (``give_id``): such a row is in no identity map until it is written, and looking
    it up in the database would cost the batch a flush for every case."""

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        early = self.info.get(_EARLY_KEY)
        if early and not kwargs:
            found = early.get((entity, ident))
            if found is not None and inspect(found).pending:
                return found
        return super().get(entity, ident, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    made = sessionmaker(engine, class_=CaseworkSession, expire_on_commit=False)
    return cast("sessionmaker[Session]", made)


# A session that takes in a whole fetched batch flushes once, at the end, so the ORM
# writes each table with one multi-row INSERT instead of a few statements per item.
# Code that flushes only to learn a new row's id skips that flush in such a session.
_BATCH_KEY = "complaintd.one_flush_batch"
# The last id a SQLite batch session has handed out, per table.
_IDS_KEY = "complaintd.batch_ids"
_EARLY_KEY = "complaintd.batch_early_rows"


def start_batch(session: Session) -> None:
    """Mark ``session`` as taking in a batch: new rows get their ids at the final flush."""
    session.info[_BATCH_KEY] = True


@contextmanager
def collector_spared() -> Iterator[None]:
    """The cyclic garbage collector never walks again what the process held before its
    first batch.

    Before, each full collection, made as a batch's objects piled up, walked the whole
    process (modules, SQLAlchemy's and Jinja's caches: a third of a second each on this
    machine, about a fifth of a call log's import). So the first batch of a process moves
    what is alive then (after one full collection) to the permanent generation
    (``gc.freeze``, as a server does after start-up): what the process keeps for good,
    never looked at again. Everything made later, every batch's objects included, is
    collected as usual. (Freezing at every batch kept each batch's leftovers, and raising
    the young threshold during a batch raised the peak memory by half: neither is done.)
    """
    global _frozen
    with _FREEZE_LOCK:
        if not _frozen:
            gc.collect()
            gc.freeze()
            _frozen = True
    yield


_FREEZE_LOCK = threading.Lock()
_frozen = False


@event.listens_for(Session, "before_flush")
def _number_batch_rows(session: Session, _context: Any, _instances: Any) -> None:
    # Every flush of a batch session, the final one and any autoflush before a query.
    if session.info.get(_BATCH_KEY):
        fill_defaults(session)
        number_new_rows(session)


def fill_defaults(session: Session, states: list[InstanceState[Any]] | None = None) -> None:
    """Give the session's new rows (or ``states``, which are they) their plain column
    defaults before a big flush.

    The ORM puts rows in one executemany only while they set the same columns: an
    outbound message (no ``raw_size``, left to its default) between two inbound ones
    would split a batch's messages into one INSERT each. A new row has no history to
    keep: the value goes straight into its dict, where the flush reads it.
    """
    for state in _new_states(session) if states is None else states:
        values = state.dict
        for key, value in _scalar_defaults(state.mapper):
            if key not in values:
                values[key] = value


def _new_states(session: Session) -> list[InstanceState[Any]]:
    return [inspect(obj) for obj in session.new]


@functools.cache
def _scalar_defaults(mapper: Mapper[Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((mapper.get_property_by_column(column).key, column.default.arg)
                 for column in mapper.columns
                 if isinstance(column.default, ScalarElementColumnDefault))


def flush_for_ids(session: Session) -> None:
    """Flush so new rows have ids, unless ``session`` defers that to the batch's flush."""
    if not session.info.get(_BATCH_KEY):
        session.flush()


def in_batch(session: Session) -> bool:
    return bool(session.info.get(_BATCH_KEY))


_LOOKUPS_KEY = "complaintd.batch_lookups"


def batch_lookups(session: Session) -> dict[str, Any] | None:
    """Lookups a batch session keeps instead of querying for each item (e.g. each
    handler's open cases), kept up to date by the code that changes what they count;
    None outside a batch. They hold while the batch only opens new cases: the ledger
    forgets them after any other item (``forget_batch_lookups``)."""
    if not session.info.get(_BATCH_KEY):
        return None
    found: dict[str, Any] = session.info.setdefault(_LOOKUPS_KEY, {})
    return found


def forget_batch_lookups(session: Session) -> None:
    session.info.pop(_LOOKUPS_KEY, None)


def give_id(session: Session, obj: Any) -> None:
    """In a batch session, give the new row ``obj`` its id now, without a flush.

    The rows that point at a new case (routing's assignments, staff threads, notices)
    can then be made at once, and the batch is still written by one flush at its end.
    SQLite: the next id after the highest, the write lock being ours (see
    ``number_new_rows``); PostgreSQL: the next value of the table's sequence. Outside a
    batch the session's flush gives ids (``flush_for_ids``): nothing to do here.
    """
    if not session.info.get(_BATCH_KEY):
        return
    state = inspect(obj)
    if not state.pending or not _needs_id(state):
        return
    mapper = state.mapper
    column = mapper.primary_key[0]
    value = _next_id(session, mapper)
    setattr(obj, mapper.get_property_by_column(column).key, value)
    session.info.setdefault(_EARLY_KEY, {})[(mapper.class_, value)] = obj


def _next_id(session: Session, mapper: Mapper[Any]) -> int:
    table = mapper.local_table
    assert isinstance(table, Table)
    column = mapper.primary_key[0]
    if session.get_bind().dialect.name == "postgresql":
        # One value at a time, when the row is made: the ids are those the flush would
        # have given (a block taken ahead would leave a gap before the next flushed row).
        return int(session.connection().execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, :column))"),
            {"table": table.name, "column": column.name}).scalar_one())
    # SQLite: after the highest id stored and the highest this batch gave (some of those
    # may be written already, others not yet).
    given: dict[Any, int] = session.info.setdefault(_IDS_KEY, {})
    top = given[table] if table in given else \
        session.connection().execute(select(func.max(column))).scalar() or 0
    given[table] = top + 1
    return top + 1


# The databases whose new rows a batch numbers itself before writing them.
NUMBERED_AHEAD = frozenset({"sqlite", "postgresql"})


def number_new_rows(session: Session, states: list[InstanceState[Any]] | None = None) -> None:
    """In a batch, give the session's new rows (or ``states``, which are they) their ids
    before the batch's write, in the order they were made.

    SQLite cannot say which generated id belongs to which row of a multi-row INSERT, so
    the ORM inserts such rows one statement at a time; rows that already have ids go in
    one executemany per table. The write lock is ours from BEGIN IMMEDIATE on, so the
    ids after the highest one are exactly those SQLite itself would pick. PostgreSQL:
    each table's sequence gives a block of values in one round trip (what the ORM's
    INSERT … RETURNING would have drawn from it, one by one).
    """
    dialect = session.get_bind().dialect.name
    if dialect not in NUMBERED_AHEAD:
        return
    waiting: dict[Mapper[Any], list[InstanceState[Any]]] = defaultdict(list)
    for state in _new_states(session) if states is None else states:
        if _needs_id(state):
            waiting[state.mapper].append(state)
    for mapper, pending in waiting.items():
        key = mapper.get_property_by_column(mapper.primary_key[0]).key
        ids = (_sequence_block(session, mapper, len(pending)) if dialect == "postgresql"
               else _after_highest(session, mapper, len(pending)))
        for value, state in zip(ids, sorted(pending, key=lambda s: s.insert_order or 0),
                                strict=True):
            state.dict[key] = value  # a new row: straight into its dict, as above


def _after_highest(session: Session, mapper: Mapper[Any], count: int) -> range:
    column = mapper.primary_key[0]
    top = session.connection().execute(select(func.max(column))).scalar() or 0
    # Ids handed out early (``give_id``) and not written yet count as taken.
    given: dict[Any, Any] = session.info.setdefault(_IDS_KEY, {})
    top = max(top, given.get(mapper.local_table, 0))
    given[mapper.local_table] = top + count
    return range(top + 1, top + count + 1)


def _sequence_block(session: Session, mapper: Mapper[Any], count: int) -> list[int]:
    table = mapper.local_table
    assert isinstance(table, Table)
    values = session.connection().execute(
        text("SELECT nextval(pg_get_serial_sequence(:table, :column)) "
             "FROM generate_series(1, :count)"),
        {"table": table.name, "column": mapper.primary_key[0].name, "count": count})
    return sorted(int(v) for v in values.scalars())


def _needs_id(state: InstanceState[Any]) -> bool:
    key = _id_key(state.mapper)
    return key is not None and state.dict.get(key) is None


@functools.cache
def _id_key(mapper: Mapper[Any]) -> str | None:
    """The attribute of a single integer primary key (None for any other kind of key),
    worked out once per class: it is asked for every new row of every batch."""
    pk = mapper.primary_key
    if len(pk) != 1 or pk[0].type.python_type is not int:
        return None
    return mapper.get_property_by_column(pk[0]).key
