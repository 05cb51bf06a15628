"""Hotline batches: a call log's rows taken in batches (one transaction, one write per
batch, through the mail's ledger) must give exactly what one row at a time gives, with
routing rules in force: cases, references, timelines, acknowledgements, routing (handler,
triage, material request, referral, conflict of interest), call tasks, duplicates, a
reused call id, a follow-up to a case opened earlier in the same file. SQLite and
PostgreSQL."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from casework.batchwrite import write_batch
from casework.clock import SHANGHAI
from casework.models import Case, IngestedItem, UTCDateTime
from complaintd.schema import metadata
from intake import ledger as ledger_module
from intake.hotline import HotlineFolders, HotlineImporter, ImportReport
from notifications.models import OutboxMail
from tests.test_hotline import call, write_log
from tests.test_intake_support import count, make_app

ROUTING = Path(__file__).resolve().parents[1] / "config" / "routing.toml"


def calls() -> list[list[str]]:
    """One of every way a call can go, in an order that makes a batch work hard."""
    return [
        # staff conduct, complete: to a service handler, the caller told by mail
        call(通话编号="A1", 电子邮箱="li@example.cn", 来电号码="13800001201",
             诉求内容="志愿者态度不好，11月20日在医院门口"),
        # a medical institution: referred to the health commission, told by phone
        call(通话编号="A2", 来电号码="13800001202", 诉求内容="医院乱收费", 是否回访="否"),
        # assistance project, material missing: one notice listing every item
        call(通话编号="A3", 电子邮箱="wang@example.cn", 来电号码="13800001203",
             诉求内容="我申请药品援助被拖延"),
        # no rule matches: triage
        call(来电号码="13800001204", 诉求内容="挂号难，排队三小时"),
        call(来电号码="13800001204", 诉求内容="挂号难，排队三小时"),  # the same call again
        call(通话编号="A2", 来电号码="13800001209", 诉求内容="另一件事"),  # call id reused
        # the caller of A3 again: a follow-up to the case opened above, in the same file
        call(来电号码="13800001203", 诉求内容="补充：11月18日的收据已寄出",
             关联编号="LO-2026-000003", 来电时间="2026-11-24 15:00"),
        # anonymous, fundraising: referred, nobody to tell
        call(来电人="匿名", 来电号码="", 诉求内容="捐款账目不清楚", 是否回访="否"),
        # names a handler: excluded from the case (conflict of interest)
        call(电子邮箱="zhao@example.cn", 来电号码="13800001205", 诉求内容="张伟态度粗暴"),
        call(来电时间="?"),  # not a call: reported
        *[call(来电号码=f"1380000130{n}", 电子邮箱=f"p{n}@example.cn" if n % 2 else "",
               诉求内容=f"接线员态度不耐烦，11月{10 + n}日第{n}次来电")
          for n in range(6)],  # handlers' open cases counted across the batch
    ]


# Columns whose values differ between two runs: clocks, our own Message-IDs and mail
# bytes, the details that quote them.
_VOLATILE = {"raw", "details", "message_id", "detail", "nonce", "verify_hash"}  # random: a reply
# token's nonce, a verification code's hash


def table_rows(app: Any, here: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows; the run's own folder left out of the text (quarantine: where
    the file went)."""
    rows = {}
    with app.engine.connect() as connection:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in _VOLATILE
                       and not isinstance(c.type, UTCDateTime)]
            found = connection.execute(select(*columns).order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(v.replace(str(here), "") if isinstance(v, str) else v
                                      for v in r) for r in found]
    return rows


def summary(report: ImportReport) -> tuple[Any, ...]:
    return (report.imported, report.follow_ups, report.duplicates, report.rejected_rows,
            [(e.row, e.problem_en) for e in report.errors])


def import_calls(tmp_path: Path, db_url: str, batch_size: int,
                 rows: list[list[str]] | None = None,
                 ) -> tuple[tuple[Any, ...], dict[str, list[tuple[Any, ...]]], list[str]]:
    app = make_app(tmp_path, db_url, [], routing={"rules_file": str(ROUTING)})
    inserts: list[str] = []

    @event.listens_for(app.engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.startswith("INSERT INTO"):
            inserts.append(statement.split()[2])

    try:
        folders = HotlineFolders.inside(tmp_path / "hotline")
        folders.ensure()
        importer = HotlineImporter(app.session_factory, app.raw_store, app.clock,
                                   app.pipeline, folders, batch_size=batch_size,
                                   report_languages=("en",))
        path = write_log(folders.drop / "calls.csv", calls() if rows is None else rows)
        report = importer.import_file(path)
        assert report is not None
        return summary(report), table_rows(app, tmp_path), inserts
    finally:
        metadata.drop_all(app.engine)  # the next run starts from an empty database
        app.close()


def test_a_call_log_in_batches_gives_what_one_row_at_a_time_gives(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="complaintd.intake"):
        batched, batched_rows, _ = import_calls(tmp_path / "batched", db_url, 50)
    # The batch went through in one piece: no fallback to one row at a time.
    assert not [r for r in caplog.records if "failed as a whole" in r.getMessage()]

    def one_at_a_time(*_args: Any) -> Any:
        raise RuntimeError("take this batch row by row")

    monkeypatch.setattr(ledger_module._Batch, "take", one_at_a_time)
    single, single_rows, _ = import_calls(tmp_path / "single", db_url, 50)

    assert single[:4] == (13, 1, 1, 2)
    assert [row for row, _problem in single[4]] == [7, 11]
    assert "call id was imported before" in single[4][0][1]
    assert batched == single
    assert batched_rows == single_rows
    cases = single_rows["cases"]
    assert len(cases) == 12 and len(single_rows["ingested_item"]) == 13
    statuses = {row[2] for row in cases}
    assert {"routed", "referred", "awaiting_material"} <= statuses


def test_new_calls_are_written_with_one_insert_per_table(
        tmp_path: Path, db_url: str) -> None:
    rows = [r for r in calls() if "A2" not in r and "?" not in r and r[-1] == ""]
    rows = [r for n, r in enumerate(rows) if r not in rows[:n]]  # no duplicates
    imported, _, inserts = import_calls(tmp_path, db_url, 50, rows)
    assert imported[:4] == (len(rows), 0, 0, 0)
    # Routing, acknowledgements and call tasks included: no flush before the batch's end.
    for table in ("cases", "timeline_event", "assignment", "outbox_mail", "staff_thread",
                  "call_task", "ingested_item"):
        assert inserts.count(table) == 1, table


def test_a_failing_row_in_a_batch_leaves_the_others_in(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(tmp_path, sqlite_url, [], routing={"rules_file": str(ROUTING)})
    real = app.pipeline

    def pipeline(session: Any, inbound: Any) -> Any:
        if "BOOM" in inbound.text:
            raise RuntimeError("the handler fails on this row")
        return real(session, inbound)

    folders = HotlineFolders.inside(tmp_path / "hotline")
    folders.ensure()
    importer = HotlineImporter(app.session_factory, app.raw_store, app.clock, pipeline,
                               folders, batch_size=50, report_languages=("en",),
                               prepare_batch=real.prepare_batch)
    rows = [call(来电号码=f"1380000140{n}", 诉求内容=f"第{n}通 挂号难") for n in range(4)]
    rows[2] = call(来电号码="13800001499", 诉求内容="BOOM")
    report = importer.import_file(write_log(folders.drop / "calls.csv", rows))
    assert report is not None
    assert (report.imported, report.rejected_rows) == (3, 1)
    assert report.errors[0].row == 4 and "RuntimeError" in report.errors[0].problem_en
    assert count(app.session_factory, Case) == 3
    assert count(app.session_factory, IngestedItem) == 3
    assert count(app.session_factory, OutboxMail) == 3  # each case's assignment mail
    app.close()


def _case(reference: str, **fields: Any) -> Case:
    at = datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)
    return Case(reference=reference, status="received", channel="hotline", subject="s",
                summary="t", language="zh", received_at=at, created_at=at, updated_at=at,
                **fields)


def test_a_row_pointing_at_its_own_table_is_left_to_the_orm(
        session_factory: sessionmaker[Session]) -> None:
    """A new case merged into another: executemany cannot order rows that point at their
    own table, so such a batch goes through the ORM's flush; cases that point nowhere are
    written directly."""
    with session_factory() as session, session.begin():
        session.add_all([_case("LO-2026-000001"), _case("LO-2026-000002")])
        direct = write_batch(session)
    with session_factory() as session, session.begin():
        kept = _case("LO-2026-000003")
        session.add(kept)
        session.flush()
        session.add_all([_case("LO-2026-000004", merged_into_id=kept.id),
                         _case("LO-2026-000005")])
        through_orm = not write_batch(session)
    with session_factory() as session:
        merged = session.scalar(select(Case).where(Case.reference == "LO-2026-000004"))
        assert merged is not None and merged.merged_into_id is not None
    assert session_factory.kw["bind"].dialect.name != "sqlite" or (direct and through_orm)
