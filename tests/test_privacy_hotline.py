"""The hotline's call-log files under the retention purge and a person's erasure (issue
17): a call log imported from the real drop folder into the real raw store, its cases past
retention, purged; the file leaves the raw store with the last case that needs it, the
statistics stay. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casework.clock import FixedClock
from casework.models import CallLogFile, Case, Party
from casework.status import CaseStatus
from casework.transitions import transition
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from privacy.person import Who, erase_person, export_person
from tests.test_hotline import call
from tests.test_hotline_service import CALLED, write_calls, write_config

PHONES = ("13800000011", "13800000022", "13800000033")
CALLS = [call(来电人=f"来电人{n}", 来电号码=phone, 是否回访="否", 诉求内容=f"药费问题{n}")
         for n, phone in enumerate(PHONES)]


class Hotline:
    """One installation whose hotline drop folder has taken in one call log."""

    def __init__(self, tmp_path: Path, db_url: str) -> None:
        self.clock = FixedClock(CALLED + timedelta(hours=6))
        self.app = App.build(load_settings(write_config(tmp_path, db_url)), self.clock)
        upgrade(self.app.engine)
        assert self.app.settings.hotline.drop_dir is not None
        self.drop = self.app.settings.hotline.drop_dir

    def take(self, name: str, rows: list[list[str]]) -> str:
        """Import ``rows`` as the file ``name``; the file's digest in the raw store."""
        write_calls(self.drop / name, rows)
        (report,) = self.app.import_hotline()
        assert report.rejected_rows == 0
        with self.app.session_factory() as session:
            return session.scalars(select(CallLogFile.sha256)
                                   .where(CallLogFile.name == name)).one()

    def end(self, phone: str, *, years_ago: float = 4) -> str:
        """Close the case of ``phone`` and date its last change ``years_ago``."""
        with self.app.session_factory.begin() as session:
            case = session.scalars(select(Case).join(Party, Case.complainant_id == Party.id)
                                   .where(Party.phone.like(f"%{phone}"))).one()
            at = self.clock.now() - timedelta(days=365.25 * years_ago)
            transition(case, CaseStatus.CLOSED, actor="test", at=at, reason="done")
            case.updated_at = at
            assert case.complainant is not None
            case.complainant.retention_until = None
            return case.reference

    def file_row(self, digest: str) -> CallLogFile:
        with self.app.session_factory() as session:
            return session.scalars(select(CallLogFile).where(CallLogFile.sha256 == digest)).one()

    def file_row_digest(self) -> str:
        with self.app.session_factory() as session:
            return session.scalars(select(CallLogFile.sha256)).one()

    def hotline_cases(self) -> int:
        with self.app.session_factory() as session:
            return int(session.scalar(select(func.count(Case.id))
                                      .where(Case.channel == "hotline")) or 0)


@pytest.fixture
def hotline(tmp_path: Path, db_url: str) -> Iterator[Hotline]:
    h = Hotline(tmp_path, db_url)
    yield h
    h.app.close()


def test_a_call_log_goes_with_the_last_case_made_from_it(hotline: Hotline) -> None:
    digest = hotline.take("calls-2026-11-24.csv", CALLS)
    assert digest in hotline.app.raw_store and hotline.hotline_cases() == 3
    hotline.clock.advance(timedelta(days=2))
    for phone in PHONES[:2]:
        hotline.end(phone)
    # Two of its three cases past retention: their data goes, the file stays for the third.
    first = hotline.app.purge_personal_data()
    assert len(first.purged) == 2 and first.call_logs == []
    assert digest in hotline.app.raw_store and hotline.file_row(digest).removed_at is None
    hotline.end(PHONES[2])
    dry = hotline.app.purge_personal_data(dry_run=True)
    assert dry.call_logs == ["calls-2026-11-24.csv"] and len(dry.purged) == 1
    assert digest in hotline.app.raw_store
    done = hotline.app.purge_personal_data()
    assert done.call_logs == ["calls-2026-11-24.csv"]
    assert digest not in hotline.app.raw_store
    assert not hotline.app.raw_store.path_for(digest).exists()
    assert hotline.file_row(digest).removed_at is not None
    # The statistics still count every call; no caller's number is left.
    assert hotline.hotline_cases() == 3
    with hotline.app.session_factory() as session:
        assert session.scalar(select(func.count(Party.id))) == 0
    # The register has it, by count.
    from privacy.models import PrivacyAction
    with hotline.app.session_factory() as session:
        purges = session.scalars(select(PrivacyAction).where(PrivacyAction.action == "purge")
                                 .order_by(PrivacyAction.id)).all()
    assert [(p.dry_run, p.details["call_logs"]) for p in purges] == \
        [(False, 0), (True, 1), (False, 1)]


def test_a_file_of_duplicate_rows_alone_is_removed_once_settled(hotline: Hotline) -> None:
    first = hotline.take("calls.csv", CALLS)
    # The same calls exported again, with the rows in another order: other bytes, and
    # every row a duplicate, so no case names the second file.
    again = hotline.take("calls-again.csv", list(reversed(CALLS)))
    assert again != first and again in hotline.app.raw_store
    assert hotline.app.purge_personal_data().call_logs == []  # a day has not passed
    hotline.clock.advance(timedelta(days=2))
    report = hotline.app.purge_personal_data()
    assert report.call_logs == ["calls-again.csv"] and report.purged == []
    assert again not in hotline.app.raw_store and first in hotline.app.raw_store


def test_erasing_one_caller_keeps_the_shared_file_until_its_last_case(
        hotline: Hotline) -> None:
    digest = hotline.take("calls.csv", CALLS)
    hotline.end(PHONES[0], years_ago=0.1)
    with hotline.app.session_factory.begin() as session:
        report = erase_person(session, hotline.app.raw_store, Who(phone=PHONES[0]),
                              now=hotline.clock.now(), actor="dpo")
    assert len(report.erased) == 1
    assert (report.call_logs_removed, report.call_logs_kept) == (0, 1)
    assert digest in hotline.app.raw_store
    # Another caller's copy never hands out the shared file, only their own row.
    with hotline.app.session_factory() as session:
        data = export_person(session, hotline.app.raw_store, Who(phone=PHONES[1]))
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert [n for n in archive.namelist() if n.startswith("files/")] == []
    person = json.loads(archive.read("person.json"))
    (message,) = person["cases"][0]["messages"]
    assert message["text"] == "药费问题1" and message["original"] is None
    assert PHONES[0] not in archive.read("person.json").decode()
    # The last two callers erased as well: the file goes with the last of them.
    for phone in PHONES[1:]:
        hotline.end(phone, years_ago=0.1)
    with hotline.app.session_factory.begin() as session:
        second = erase_person(session, hotline.app.raw_store, Who(phone=PHONES[1]),
                              now=hotline.clock.now(), actor="dpo")
        last = erase_person(session, hotline.app.raw_store, Who(phone=PHONES[2]),
                            now=hotline.clock.now(), actor="dpo")
    assert (second.call_logs_removed, second.call_logs_kept) == (0, 1)
    assert (last.call_logs_removed, last.call_logs_kept) == (1, 0)
    assert digest not in hotline.app.raw_store
    assert hotline.file_row(digest).removed_at is not None
    assert hotline.hotline_cases() == 3


def test_the_migration_registers_call_logs_taken_in_before_it(db_url: str) -> None:
    """Revision 0023 fills ``call_log_file`` from the ledger's hotline rows and the
    quarantined rows of files that had no good row."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from casework.db import make_engine
    from casework.models import IngestedItem, QuarantineItem
    from complaintd.migrate import upgrade as migrate

    engine = make_engine(db_url)
    migrate(engine, "0018")
    good, bad = "a" * 64, "b" * 64
    first, later = datetime(2025, 3, 1, 9, tzinfo=UTC), datetime(2025, 3, 2, 9, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(insert(IngestedItem), [
            {"source": "hotline", "folder": "calls", "uidvalidity": 0, "uid": f"c{n}",
             "raw_sha256": f"{n}" * 64, "outcome": "new", "ingested_at": at,
             "detail": f"calls-0301.csv row {n}; file sha256 {good}"}
            for n, at in ((2, later), (3, first))])
        connection.execute(insert(IngestedItem), [
            {"source": "mail", "folder": "INBOX", "uidvalidity": 1, "uid": "9",
             "raw_sha256": "9" * 64, "outcome": "new", "ingested_at": first,
             "detail": f"file sha256 {'c' * 64}"}])
        connection.execute(insert(QuarantineItem), [
            {"source": "hotline", "location": "全错.csv row 2", "raw_sha256": bad,
             "reason": "来电时间: 无法识别", "created_at": later}])
    migrate(engine)
    with engine.connect() as connection:
        rows = connection.execute(select(CallLogFile.sha256, CallLogFile.name,
                                         CallLogFile.imported_at, CallLogFile.removed_at)
                                  .order_by(CallLogFile.sha256)).all()
    engine.dispose()
    assert [(r.sha256, r.name, r.removed_at) for r in rows] == \
        [(good, "calls-0301.csv", None), (bad, "全错.csv", None)]
    assert rows[0].imported_at == first


def test_the_purge_command_names_the_call_logs(hotline: Hotline, tmp_path: Path) -> None:
    from tests.test_privacy import cli

    hotline.take("calls-2026-11-24.csv", CALLS)
    for phone in PHONES:
        hotline.end(phone)
    config = tmp_path / "complaintd.toml"
    dry = cli(config, "privacy", "purge", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "calls-2026-11-24.csv" in dry.output and "1 hotline call-log files" in dry.output
    done = cli(config, "privacy", "purge")
    assert "Purged 3 cases" in done.output and "1 hotline call-log files" in done.output
    assert hotline.file_row_digest() not in hotline.app.raw_store
