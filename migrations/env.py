"""Alembic environment: the URL comes from complaintd's settings (or alembic.ini)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from casework.db import make_engine
from casework.models import UTCDateTime, compared
from complaintd.schema import metadata

config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations must not import application types: they outlive them.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
        render_item=render_item,
        include_name=compared,  # the search's FTS5 table and GIN index are not models
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        run_with(given)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        run_with(connection)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_online()
