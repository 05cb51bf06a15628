"""``complaintd db copy-to``: a SQLite installation moved into PostgreSQL, every row of
every table the same, and the PostgreSQL installation going on from there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from casework.db import make_engine
from casework.models import Case
from complaintd.app import App
from complaintd.cli import main
from complaintd.schema import metadata
from complaintd.settings import load_settings
from tests.fixtures.web import Site, complaint
from tests.test_ops_backup import fresh_pg_database

TEXTS = ["12月1日在门诊挂号处排队两小时，工作人员态度恶劣。", "药房发错了药，请核实。",
         "住院部收费不透明，多收了费用。", "李娜医生收红包。"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def sqlite_site(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
                ) -> Iterator[Site]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", "s" * 40)
    site = Site(tmp_path, sqlite_url)
    try:
        yield site
    finally:
        site.app.close()


def every_row(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as connection:
        return {table.name: [dict(r) for r in connection.execute(
                    select(table).order_by(*table.primary_key.columns)).mappings()]
                for table in metadata.sorted_tables}


def test_a_sqlite_installation_moves_into_postgresql(sqlite_site: Site, pg_url: str) -> None:
    for text in TEXTS:
        sqlite_site.mail(text)
    before = every_row(sqlite_site.app.engine)
    assert len(before["cases"]) == 4 and before["timeline_event"] and before["outbox_mail"]

    result = CliRunner().invoke(main, ["--lang", "en", "--config", str(sqlite_site.config),
                                       "db", "copy-to", pg_url])
    assert result.exit_code == 0, result.output
    assert "every table's count checked" in result.output

    target = make_engine(pg_url)
    try:
        assert every_row(target) == before
    finally:
        target.dispose()

    # A second copy finds the target full and leaves it alone.
    again = CliRunner().invoke(main, ["--lang", "en", "--config", str(sqlite_site.config),
                                      "db", "copy-to", pg_url])
    assert again.exit_code == 1 and "not empty" in again.output

    # The installation goes on in PostgreSQL: new rows get new ids, the next reference.
    config = sqlite_site.config
    config.write_text(config.read_text("utf-8").replace(
        str(sqlite_site.app.engine.url), pg_url), encoding="utf-8")
    moved = App.build(load_settings(config), sqlite_site.clock)
    try:
        (sqlite_site.tmp / "mail" / "new" / "900.M1.host").write_bytes(
            complaint("急诊科拒绝接诊。", sender="new@example.cn", number=900))
        report = moved.run_once()
        assert [o.kind for o in report.outcomes] == ["case"] and not report.errors
        with moved.session_factory() as session:
            references = sorted(session.scalars(select(Case.reference)))
        assert references[-1] == "LO-2025-000005"
    finally:
        moved.close()
