"""Move an installation from SQLite to PostgreSQL: ``complaintd db copy-to URL``.

The target is migrated to the newest schema and must hold no rows; the source must be at
the same revision. Tables are copied parents first, in batches, inside one transaction on
the target, so a failure leaves it empty again. Ids are kept (references, outbox keys and
links in mail sent already name them) and each sequence is set past the highest id. The
raw store does not move: it stays in the data folder, which both databases share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, func, inspect, select, text, update

from complaintd.migrate import current_and_head, upgrade
from complaintd.schema import metadata

BATCH = 2000


class CopyError(Exception):
    """The copy cannot start or did not match; nothing was kept on the target."""


@dataclass
class CopyReport:
    rows: dict[str, int]


def copy_database(source: Engine, target: Engine,
                  progress: Callable[[str, int], None] = lambda _t, _n: None) -> CopyReport:
    """Copy every row of ``source`` into the empty ``target``; counts checked after."""
    if target.dialect.name != "postgresql":
        raise CopyError("the target must be a PostgreSQL database")
    current, head = current_and_head(source)
    if current != head:
        raise CopyError(f"the source schema is at {current or '-'}, not {head}: "
                        f"run `complaintd db upgrade` first")
    upgrade(target)
    copied: dict[str, int] = {}
    with source.connect() as reading, target.begin() as writing:
        _check_empty(writing)
        for table in metadata.sorted_tables:
            copied[table.name] = _copy_table(reading, writing, table)
            progress(table.name, copied[table.name])
        restart_sequences(writing)
        _check_counts(reading, writing)
    return CopyReport(copied)


def _check_empty(writing: Connection) -> None:
    for table in metadata.sorted_tables:
        if writing.scalar(select(func.count()).select_from(table)):
            raise CopyError(f"the target database is not empty (table {table.name} has rows)")


def _copy_table(reading: Connection, writing: Connection, table: Table) -> int:
    """Rows in id order, batched. A column pointing into its own table (a case merged into
    a later one) is written empty and set once every row is there."""
    own = [c for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)]
    order = list(table.primary_key.columns)
    result = reading.execution_options(yield_per=BATCH).execute(
        select(table).order_by(*order))
    count = 0
    later: list[dict[str, object]] = []
    for batch in result.mappings().partitions(BATCH):
        rows = [dict(row) for row in batch]
        for row in rows:
            if any(row[c.name] is not None for c in own):
                later.append({**{k.name: row[k.name] for k in order},
                              **{c.name: row[c.name] for c in own}})
                row.update({c.name: None for c in own})
        writing.execute(table.insert(), rows)
        count += len(rows)
    for row in later:
        where = [k == row[k.name] for k in order]
        writing.execute(update(table).where(*where).values({c.name: row[c.name] for c in own}))
    return count


def restart_sequences(writing: Connection) -> None:
    """Each identity sequence past the highest id copied, so new rows do not collide."""
    present = set(inspect(writing).get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in present:
            continue
        for column in table.primary_key.columns:
            if not column.autoincrement or column.type.python_type is not int:
                continue
            writing.execute(text(
                "SELECT setval(pg_get_serial_sequence(:t, :c), "
                f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
            ), {"t": table.name, "c": column.name})


def _check_counts(reading: Connection, writing: Connection) -> None:
    for table in metadata.sorted_tables:
        counted = select(func.count()).select_from(table)
        if reading.scalar(counted) != writing.scalar(counted):
            raise CopyError(f"table {table.name}: row counts differ after the copy")
