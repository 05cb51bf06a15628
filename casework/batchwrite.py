"""The one write at the end of a batch: each table's new rows in one executemany.

A batch session (``casework.db.start_batch``) creates about ten rows per complaint and
only inserts. The ORM's unit of work spends more on bookkeeping for those rows (history,
dependency sorting, syncing foreign keys row by row, making each row persistent) than
the database spends storing them, and the session is committed and closed right after.
So, once the rows have their ids (``number_new_rows``: SQLite's next ones under the write
lock, PostgreSQL's from each table's sequence in one block), they are written straight
through the table definitions, parents before children, and leave the session.
Anything the ORM must do itself (an update, a delete, a many-to-many link, a server-side
default) sends the batch through the ordinary flush instead.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Table, inspect
from sqlalchemy.orm import InstanceState, Mapper, RelationshipDirection, Session

from casework.db import NUMBERED_AHEAD, fill_defaults, number_new_rows


def write_batch(session: Session) -> bool:
    """Write what ``session`` holds, as one flush would, before it commits; True when
    the rows went in directly, False when the ORM flushed them."""
    if session.get_bind().dialect.name not in NUMBERED_AHEAD or session.dirty or session.deleted:
        session.flush()
        return False
    states = [inspect(obj) for obj in session.new]
    fill_defaults(session, states)
    number_new_rows(session, states)
    rows = _rows_by_table(states)
    tables = _tables_in_order(states, rows or {})
    if rows is None or len(tables) != len(rows):  # (a table of another metadata)
        session.flush()
        return False
    connection = session.connection()
    for table in tables:
        _insert(connection, table, rows[table])
    # Written: the session must not write them again when it commits.
    session.expunge_all()
    return True


def _insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany of ``rows`` through the driver, each value converted by its
    column's own bind processor, as ``connection.execute(table.insert(), rows)`` would:
    that path built and checked a parameter dict per row, a third of the final write."""
    statement, converters, positional = _insert_for(table, connection.dialect)
    # (inline, not a helper: this runs for every value of every row of a batch)
    if positional:  # SQLite: ?, ?, …
        connection.exec_driver_sql(statement, [
            tuple(row[name] if convert is None else convert(row[name])
                  for name, convert in converters) for row in rows])
    else:  # psycopg: %(name)s, …
        connection.exec_driver_sql(statement, [
            {name: row[name] if convert is None else convert(row[name])
             for name, convert in converters} for row in rows])


@functools.cache
def _insert_for(table: Table, dialect: Dialect) -> tuple[str, tuple[tuple[str, Any], ...], bool]:
    """The table's INSERT of every column as the driver takes it (with the casts the
    dialect writes), each column's name and bind processor (None: the value goes as it
    is), and whether the driver's parameters are positional."""
    compiled = table.insert().compile(dialect=dialect)
    columns = {c.key: c for c in table.columns}
    names = compiled.positiontup if compiled.positiontup is not None else list(columns)
    return compiled.string, tuple(
        (name, columns[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in names), compiled.positiontup is not None


def _rows_by_table(states: list[InstanceState[Any]]) -> dict[Table, list[dict[str, Any]]] | None:
    shapes = [_shape(state.mapper) for state in states]
    if not all(shape.table is not None for shape in shapes):
        return None
    if not all(_link(state, shape) for state, shape in zip(states, shapes, strict=True)):
        return None
    rows: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    for state, shape in zip(states, shapes, strict=True):
        row = _row(state, shape)
        if row is None or any(row[column] is not None for column in shape.own_keys):
            return None
        rows[shape.table].append(row)  # type: ignore[index]
    return rows


Pairs = tuple[tuple[str, str], ...]  # (attribute of the row holding the key, attribute to set)


@dataclass(frozen=True)
class _Shape:
    """What the direct write needs to know of a mapped class, worked out once."""

    table: Table | None  # None: rows of this class are for the ORM to write
    columns: tuple[tuple[str, str, bool], ...]  # attribute, column, has a default
    # Columns pointing at the row's own table (a case merged into another): a new row
    # that sets one goes to the ORM, which orders such rows (executemany cannot).
    own_keys: tuple[str, ...]
    parents: tuple[tuple[str, Pairs], ...]  # many-to-one relationships
    children: tuple[tuple[str, Pairs], ...]  # one-to-many relationships


@functools.cache
def _shape(mapper: Mapper[Any]) -> _Shape:
    table = mapper.local_table
    # One table, no inheritance, no many-to-many: rows map one to one to objects.
    plain = (isinstance(table, Table) and mapper.inherits is None
             and not mapper.polymorphic_map
             and all(r.secondary is None for r in mapper.relationships))
    own_keys = tuple(fk.parent.key for fk in getattr(table, "foreign_keys", ())
                     if fk.column.table is table)
    columns = tuple((prop.key, prop.columns[0].key, prop.columns[0].server_default is not None
                     or prop.columns[0].default is not None) for prop in mapper.column_attrs)
    parents, children = [], []
    for rel in mapper.relationships:
        pairs = rel.local_remote_pairs or []
        if rel.direction is RelationshipDirection.MANYTOONE:
            parents.append((rel.key, tuple(
                (rel.mapper.get_property_by_column(remote).key,
                 mapper.get_property_by_column(local).key) for local, remote in pairs)))
        elif rel.direction is RelationshipDirection.ONETOMANY:
            children.append((rel.key, tuple(
                (mapper.get_property_by_column(local).key,
                 rel.mapper.get_property_by_column(remote).key) for local, remote in pairs)))
        else:
            plain = False
    return _Shape(table if plain and isinstance(table, Table) else None, columns,
                  own_keys, tuple(parents), tuple(children))


def _link(state: InstanceState[Any], shape: _Shape) -> bool:
    """Copy keys into foreign keys along each loaded relationship (the ORM's sync step):
    from this row's parent, and from this row to its loaded children. False when a key
    is not at hand (an expired parent): the ORM must then do it."""
    for key, pairs in shape.parents:
        parent = state.dict.get(key)
        if parent is not None and not _copy(inspect(parent).dict, state.dict, pairs):
            return False
    for key, pairs in shape.children:
        for child in state.dict.get(key) or ():
            if not _copy(state.dict, inspect(child).dict, pairs):
                return False
    return True


def _copy(source: dict[str, Any], target: dict[str, Any], pairs: Pairs) -> bool:
    for source_key, target_key in pairs:
        value = source.get(source_key)
        if value is None:
            return False
        target[target_key] = value
    return True


def _row(state: InstanceState[Any], shape: _Shape) -> dict[str, Any] | None:
    row: dict[str, Any] = {}
    values = state.dict
    for key, column, has_default in shape.columns:
        if key in values:
            row[column] = values[key]
        elif has_default:
            return None  # the database or a callable fills it in: the ORM's job
        else:
            row[column] = None
    return row


def _tables_in_order(states: list[InstanceState[Any]],
                     rows: dict[Table, list[dict[str, Any]]]) -> list[Table]:
    if not states:
        return []
    table = _shape(states[0].mapper).table
    if table is None:
        return []
    metadata = table.metadata
    return [table for table in metadata.sorted_tables if table in rows]
