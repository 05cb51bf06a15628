"""Schema migrations through Alembic, driven from complaintd's own settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import migrations


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (safe to run again)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        # "heads": while several branches are being written at once, each is applied.
        command.upgrade(config, "heads")


def current_and_head(engine: Engine) -> tuple[str | None, str | None]:
    """The schema revision(s) the database is at, and the newest the code knows."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    head = ",".join(sorted(script.get_heads())) or None
    with engine.connect() as connection:
        current = ",".join(sorted(MigrationContext.configure(connection).get_current_heads()))
    return current or None, head
