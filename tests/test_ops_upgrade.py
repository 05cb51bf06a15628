"""``complaintd db upgrade`` from every released schema (0001 … 0012) on a database that
holds a year of data, on SQLite and PostgreSQL: the schema ends exactly as the models say,
no row is lost, and today's code reads every row back.

The year is made from what each old schema has (reflected): every table filled, every
column given a value of its type (the values the models allow where a column has a
closed set), foreign keys pointing at real rows, a day's worth of rows spread over 2025.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Enum,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    inspect,
    select,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from casework.db import make_engine, make_sessionmaker
from casework.models import Base, Case, compared
from casework.queries import list_cases
from complaintd.migrate import current_and_head, upgrade
from complaintd.ops.backup import row_counts
from complaintd.ops.copy import restart_sequences
from complaintd.ops.health import overdue_count
from complaintd.schema import metadata

RELEASED = [f"{n:04d}" for n in range(1, 13)]
START = datetime(2025, 1, 1, 8, tzinfo=UTC)
# Rows in a year: three complaints a working day or so, their mail, their timeline.
PER_YEAR = {"cases": 900, "party": 900, "message": 1800, "timeline_event": 3600,
            "outbox_mail": 1800, "ingested_item": 1800}
OTHERS = 365


def migrate_to(engine: Engine, revision: str) -> None:
    upgrade(engine, revision)


def value_for(column: Column[Any], kind: TypeEngine[Any], i: int, rng: random.Random) -> Any:
    """A value of the column's type; ``i`` makes strings unique (unique keys hold)."""
    if isinstance(kind, TypeDecorator):  # UTCDateTime: an aware datetime, as the models
        kind = kind.impl_instance
    if isinstance(kind, Enum):
        return rng.choice(kind.enums)
    if isinstance(kind, Boolean):
        return i % 3 == 0
    if isinstance(kind, DateTime):
        return START + timedelta(minutes=i * 523 % (365 * 24 * 60))
    if isinstance(kind, Date):
        return date(2025, 1, 1) + timedelta(days=i % 380)
    if isinstance(kind, JSON):
        return {"n": i, "note": "一年的数据"}
    if isinstance(kind, LargeBinary):
        return f"Subject: {i}\r\n\r\n正文 {i}".encode()
    if isinstance(kind, Integer | Numeric):
        return i
    length = getattr(kind, "length", None) or 200
    text = f"{column.name}-{i}-投诉内容" if length >= 40 else f"{i}"
    if column.name.endswith("sha256"):
        text = f"{i:064x}"
    return text[:length]


def fill_a_year(engine: Engine, seed: int, years: int = 1) -> dict[str, int]:
    """Every table of the schema as it stands filled with rows; the counts made
    (``years``: that many years' worth, for bench/ops_bench.py)."""
    rng = random.Random(seed)
    old = MetaData()
    old.reflect(engine)
    made: dict[str, int] = {}
    with engine.begin() as connection:
        for table in old.sorted_tables:
            if table.name == "alembic_version":
                continue
            count = (1 if table.name == "reference_counter"
                     else PER_YEAR.get(table.name, OTHERS) * years)
            target = _typed(table)
            rows = [_row(table, target, i, made, rng) for i in range(1, count + 1)]
            connection.execute(target.insert(), rows)
            made[table.name] = count
        if engine.dialect.name == "postgresql":
            restart_sequences(connection)
    return made


def _typed(table: Table) -> Table:
    """The reflected table with today's column types where the models have the column, so
    values are stored as today's code stores them (aware times, enum values, JSON)."""
    today = metadata.tables.get(table.name)
    columns = [Column(c.name, today.c[c.name].type if today is not None and c.name in today.c
                      else c.type, primary_key=c.primary_key) for c in table.columns]
    return Table(table.name, MetaData(), *columns)


def _row(table: Table, target: Table, i: int, made: dict[str, int],
         rng: random.Random) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in table.columns:
        parents = [fk.column.table.name for fk in column.foreign_keys]
        if parents:
            if parents[0] == table.name:  # a case merged into another: now and then
                row[column.name] = i - 1 if i % 10 == 0 else None
            else:  # in turn, so a one-to-one key (an extension per case) stays unique
                most = made.get(parents[0], 0)
                row[column.name] = (i - 1) % most + 1 if most else None
            continue
        row[column.name] = value_for(column, target.c[column.name].type, i, rng)
    return row


@pytest.mark.parametrize("revision", RELEASED)
def test_upgrade_from_a_released_schema_keeps_a_year_of_data(db_url: str,
                                                             revision: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate_to(engine, revision)
        made = fill_a_year(engine, seed=int(revision))
        assert made["cases"] == PER_YEAR["cases"]

        upgrade(engine)  # what `complaintd db upgrade` runs

        current, head = current_and_head(engine)
        assert current == head
        with engine.connect() as connection:
            # The search's FTS5 tables and GIN index are not models (casework.models.compared).
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "include_name": compared})
            assert compare_metadata(context, metadata) == []
        counts = row_counts(engine)
        assert {t: counts[t] for t in made} == made
        assert set(inspect(engine).get_table_names()) >= set(metadata.tables)
        _read_back_everything(engine)
    finally:
        engine.dispose()


def _read_back_everything(engine: Engine) -> None:
    """Today's models load every row (enums, JSON, times), and the daily queries run."""
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        for mapper in Base.registry.mappers:
            rows = session.scalars(select(mapper.class_)).all()
            assert len(rows) == session.query(mapper.class_).count()
        cases = list_cases(session, limit=None)
        assert len(cases) == PER_YEAR["cases"]
        assert all(c.received_at.tzinfo is not None for c in cases)
        assert 0 <= overdue_count(session, date(2026, 1, 5)) <= len(cases)
        assert session.scalar(select(Case).order_by(Case.id.desc()).limit(1)) is not None
