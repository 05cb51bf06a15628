"""Schema migrations through Alembic, driven from complaintd's own settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

import migrations


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to the newest revision (safe to run again)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite's batch migrations rebuild a table (copy, drop the old, rename): with
            # foreign keys enforced, dropping a table that rows point at fails, so a
            # database holding cases could not be upgraded. Off for the migration (the
            # setting cannot change inside a transaction); checked before the commit.
            _sqlite_foreign_keys(connection, on=False)
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                # "heads": while several branches are being written at once, each is applied.
                command.upgrade(config, revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise MigrationError("the migrated database has rows whose foreign keys "
                                         "point nowhere; nothing was changed")
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)


class MigrationError(Exception):
    """The migration was rolled back; the message says why."""


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    # On the driver's own connection: SQLAlchemy's would open a transaction first.
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def current_and_head(engine: Engine) -> tuple[str | None, str | None]:
    """The schema revision(s) the database is at, and the newest the code knows."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    head = ",".join(sorted(script.get_heads())) or None
    with engine.connect() as connection:
        current = ",".join(sorted(MigrationContext.configure(connection).get_current_heads()))
    return current or None, head
