"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from casework.db import make_engine
from casework.models import compared
from complaintd.migrate import current_and_head, upgrade
from complaintd.schema import metadata


def test_upgrade_from_nothing_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_and_head(engine)[0] is None
    upgrade(engine)
    upgrade(engine)  # running it again is harmless
    current, head = current_and_head(engine)
    assert current == head and head is not None
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "include_name": compared})
        assert compare_metadata(context, metadata) == []
    engine.dispose()
