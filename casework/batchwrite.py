"""The one write at the end of a batch: each table's new rows in one executemany.

A batch session (``casework.db.start_batch``) creates about ten rows per complaint and
only inserts. The ORM's unit of work spends more on bookkeeping for those rows (history,
dependency sorting, syncing foreign keys row by row, making each row persistent) than
SQLite spends storing them, and the session is committed and closed right after. So on
SQLite, where the rows already have their ids (``number_new_rows``), they are written
straight through the table definitions, parents before children, and leave the session.
Anything the ORM must do itself (an update, a delete, a many-to-many link, a server-side
default) sends the batch through the ordinary flush instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, inspect
from sqlalchemy.orm import InstanceState, Mapper, RelationshipDirection, Session

from casework.db import fill_defaults, number_new_rows


def write_batch(session: Session) -> bool:
    """Write what ``session`` holds, as one flush would, before it commits; True when
    the rows went in directly, False when the ORM flushed them."""
    if session.get_bind().dialect.name != "sqlite" or session.dirty or session.deleted:
        session.flush()
        return False
    fill_defaults(session)
    number_new_rows(session)
    states = [inspect(obj) for obj in session.new]
    rows = _rows_by_table(states)
    tables = _tables_in_order(states, rows or {})
    if rows is None or len(tables) != len(rows):  # (a table of another metadata)
        session.flush()
        return False
    connection = session.connection()
    for table in tables:
        connection.execute(table.insert(), rows[table])
    # Written: the session must not write them again when it commits.
    session.expunge_all()
    return True


def _rows_by_table(states: list[InstanceState[Any]]) -> dict[Table, list[dict[str, Any]]] | None:
    if not all(_plain_mapper(state.mapper) for state in states):
        return None
    if not all(_link_parents(state) for state in states):
        return None
    rows: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    for state in states:
        row = _row(state)
        if row is None:
            return None
        rows[_table(state.mapper)].append(row)
    return rows


def _table(mapper: Mapper[Any]) -> Table:
    table = mapper.local_table
    assert isinstance(table, Table)
    return table


def _plain_mapper(mapper: Mapper[Any]) -> bool:
    """One table, no inheritance, no many-to-many, no row pointing at its own table
    (executemany cannot order such rows): rows map one to one to objects."""
    table = mapper.local_table
    return (isinstance(table, Table) and mapper.inherits is None and not mapper.polymorphic_map
            and all(r.secondary is None for r in mapper.relationships)
            and all(fk.column.table is not table for fk in table.foreign_keys))


def _link_parents(state: InstanceState[Any]) -> bool:
    """Copy keys into foreign keys along each loaded relationship (the ORM's sync step):
    from this row's parent, and from this row to its loaded children. False when a key
    is not at hand (an expired parent): the ORM must then do it."""
    for relationship in state.mapper.relationships:
        related = state.dict.get(relationship.key)
        if related is None:
            continue
        pairs = relationship.local_remote_pairs or []
        if relationship.direction is RelationshipDirection.MANYTOONE:
            copied = _copy_keys(inspect(related), state, [(r, lo) for lo, r in pairs])
        elif relationship.direction is RelationshipDirection.ONETOMANY:
            copied = all(_copy_keys(state, inspect(child), pairs) for child in related)
        else:
            copied = False
        if not copied:
            return False
    return True


def _copy_keys(parent: InstanceState[Any], child: InstanceState[Any],
               pairs: Sequence[tuple[ColumnElement[Any], ColumnElement[Any]]]) -> bool:
    """Each (parent column, child column) pair: the parent's value into the child."""
    for parent_column, child_column in pairs:
        value = parent.dict.get(parent.mapper.get_property_by_column(parent_column).key)
        if value is None:
            return False
        child.dict[child.mapper.get_property_by_column(child_column).key] = value
    return True


def _row(state: InstanceState[Any]) -> dict[str, Any] | None:
    row: dict[str, Any] = {}
    for prop in state.mapper.column_attrs:
        column = prop.columns[0]
        if prop.key in state.dict:
            row[column.key] = state.dict[prop.key]
        elif column.server_default is not None or column.default is not None:
            return None  # the database or a callable fills it in: the ORM's job
        else:
            row[column.key] = None
    return row


def _tables_in_order(states: list[InstanceState[Any]],
                     rows: dict[Table, list[dict[str, Any]]]) -> list[Table]:
    if not states:
        return []
    metadata = _table(states[0].mapper).metadata
    return [table for table in metadata.sorted_tables if table in rows]
