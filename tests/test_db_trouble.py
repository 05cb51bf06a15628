"""Database trouble is not the mail's fault (issue 12): a locked SQLite file, a full disk,
a PostgreSQL lock timeout or a killed backend rolls the batch back and leaves the mail where
it is — in the Dovecot mailbox, in the Maildir, in the hotline drop folder — never in
quarantine, never marked done; the next poll takes each item exactly once.

All real: Dovecot, SQLite files (the lock held by another connection; a full disk made by
``PRAGMA max_page_count``), PostgreSQL (``LOCK TABLE`` with a ``lock_timeout``,
``pg_terminate_backend``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, select, text

from casework.models import Case, IngestedItem, QuarantineItem
from complaintd.app import App
from intake.hotline import HotlineFolders
from tests.test_hotline import call, write_log
from tests.test_intake_support import complaint, count, imap_box, make_app

# A message body that needs new pages in the database (a full disk shows at once).
LONG = "病人家属反映：医院收费与告知不一致，救助款迟迟未发放。" * 600
APP_NAME = "complaintd-under-test"


def with_short_waits(app: App, full: dict[str, bool] | None = None) -> App:
    """The app's connections wait a fraction of a second for a lock (not 30 s), are named
    (so a test can end them), and see a full disk while ``full["on"]`` (SQLite)."""

    @event.listens_for(app.engine, "connect")
    def _short(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if app.engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA busy_timeout=300")
            if full is not None and full["on"]:
                cursor.execute("PRAGMA max_page_count=1")  # no page more than it has now
        else:
            cursor.execute("SET lock_timeout = '300ms'")
            cursor.execute(f"SET application_name = '{APP_NAME}'")
            dbapi_connection.commit()  # a SET rolled back with its transaction is undone
        cursor.close()

    app.engine.dispose()  # connections made before the listener: gone
    return app


def left_alone(app: App) -> None:
    """Nothing recorded: no case, no ledger row, no quarantine."""
    assert count(app.session_factory, Case) == 0
    assert count(app.session_factory, IngestedItem) == 0
    assert count(app.session_factory, QuarantineItem) == 0


def taken_once(app: App, subjects: list[str]) -> None:
    with app.session_factory() as session:
        assert sorted(session.scalars(select(Case.subject))) == subjects
        places = session.scalars(select(IngestedItem.uid)).all()
    assert len(places) == len(set(places)) == len(subjects)
    assert count(app.session_factory, QuarantineItem) == 0


# -- SQLite ------------------------------------------------------------------------------


@pytest.mark.parametrize("mails", [1, 3], ids=["one-mail", "batch"])
def test_a_full_disk_leaves_the_mail_in_the_imap_mailbox(tmp_path: Path, sqlite_url: str,
                                                          imap_account: Any, mails: int) -> None:
    for n in range(mails):
        imap_account.append("INBOX", complaint(n, body=LONG))
    full = {"on": True}
    app = with_short_waits(make_app(tmp_path, sqlite_url, [imap_box(imap_account)]), full)
    outcomes, errors = app.poll_mail()
    assert outcomes == [] and len(errors) == 1 and "OperationalError" in errors[0], errors
    full["on"] = False
    app.engine.dispose()
    left_alone(app)
    assert len(imap_account.uids("INBOX")) == mails and imap_account.uids("Processed") == []

    outcomes, errors = app.poll_mail()  # the disk has room again
    assert errors == [] and [o.kind for o in outcomes] == ["case"] * mails
    taken_once(app, [f"投诉 {n}" for n in range(mails)])
    assert imap_account.uids("INBOX") == []
    app.close()


def test_the_write_lock_held_elsewhere_leaves_the_mail_in_the_mailbox(
        tmp_path: Path, sqlite_url: str, imap_account: Any) -> None:
    for n in range(3):
        imap_account.append("INBOX", complaint(n))
    app = with_short_waits(make_app(tmp_path, sqlite_url, [imap_box(imap_account)]))
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)

    def lock_when_stored(step: str) -> None:  # another writer, just as intake would write
        if step == "raw_stored" and not holder.in_transaction:
            holder.execute("BEGIN IMMEDIATE")

    app.ledger.checkpoint = lock_when_stored
    outcomes, errors = app.poll_mail()
    assert outcomes == [] and len(errors) == 1 and "OperationalError" in errors[0], errors
    assert "stays in the mailbox" in errors[0]
    holder.rollback()
    holder.close()
    left_alone(app)
    assert len(imap_account.uids("INBOX")) == 3 and imap_account.uids("Processed") == []

    app.ledger.checkpoint = lambda _step: None
    outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == ["case"] * 3
    taken_once(app, ["投诉 0", "投诉 1", "投诉 2"])
    assert imap_account.uids("INBOX") == [] and len(imap_account.uids("Processed")) == 3
    app.close()


def test_a_full_disk_leaves_the_maildir_file_in_place(tmp_path: Path, sqlite_url: str) -> None:
    box = tmp_path / "Maildir"
    (box / "new").mkdir(parents=True)
    (box / "new" / "1700000000.1.host").write_bytes(complaint(0, body=LONG))
    full = {"on": True}
    app = with_short_waits(make_app(tmp_path, sqlite_url,
                                    [{"kind": "maildir", "name": "local", "path": str(box)}]), full)
    outcomes, errors = app.poll_mail()
    assert outcomes == [] and len(errors) == 1 and "OperationalError" in errors[0], errors
    full["on"] = False
    app.engine.dispose()
    left_alone(app)
    assert [p.name for p in (box / "new").iterdir()] == ["1700000000.1.host"]

    outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == ["case"]
    assert list((box / "new").iterdir()) == []
    assert len(list((box / ".Processed" / "cur").iterdir())) == 1
    taken_once(app, ["投诉 0"])
    app.close()


def test_a_full_disk_leaves_the_call_log_in_the_drop_folder(tmp_path: Path,
                                                            sqlite_url: str) -> None:
    drop = tmp_path / "hotline"
    full = {"on": False}
    app = with_short_waits(make_app(tmp_path, sqlite_url, [], hotline={
        "drop_dir": str(drop), "min_age_seconds": 0, "watch": False}), full)
    folders = HotlineFolders.inside(drop)
    folders.ensure()
    rows = [call(通话编号=f"H-{n}", 来电时间=f"2026-11-24 14:0{n}", 诉求内容=LONG)
            for n in range(3)]
    full["on"] = True
    app.engine.dispose()
    write_log(drop / "calls.csv", rows)
    assert app.import_hotline() == []  # nothing imported, nothing reported as the file's fault
    full["on"] = False
    app.engine.dispose()
    left_alone(app)
    assert list(folders.archive.iterdir()) == []
    assert list(folders.rejected.iterdir()) == []

    (report,) = app.import_hotline()
    assert (report.imported, report.rejected_rows) == (3, 0)
    assert count(app.session_factory, Case) == 3
    assert count(app.session_factory, QuarantineItem) == 0
    app.close()


# -- PostgreSQL ----------------------------------------------------------------------------


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_lock_timeout_leaves_the_mail_in_the_mailbox(tmp_path: Path, db_url: str,
                                                       imap_account: Any) -> None:
    imap_account.append("INBOX", complaint(0))
    app = with_short_waits(make_app(tmp_path, db_url, [imap_box(imap_account)]))
    holder = create_engine(db_url)
    with holder.connect() as connection:  # another transaction holds the party table
        connection.execute(text("LOCK TABLE party IN ACCESS EXCLUSIVE MODE"))
        outcomes, errors = app.poll_mail()
        connection.rollback()
    holder.dispose()
    assert outcomes == [] and len(errors) == 1 and "OperationalError" in errors[0], errors
    left_alone(app)
    assert len(imap_account.uids("INBOX")) == 1 and imap_account.uids("Processed") == []

    outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == ["case"]
    taken_once(app, ["投诉 0"])
    assert imap_account.uids("INBOX") == []
    app.close()


def _terminate(engine: Engine) -> int:
    with engine.connect() as connection:
        ended = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = :name"),
            {"name": APP_NAME}).scalar_one()
        connection.commit()
    return int(ended)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_lost_connection_before_the_commit_leaves_the_batch_in_the_mailbox(
        tmp_path: Path, db_url: str, imap_account: Any) -> None:
    for n in range(3):
        imap_account.append("INBOX", complaint(n))
    app = with_short_waits(make_app(tmp_path, db_url, [imap_box(imap_account)]))
    admin = create_engine(db_url)
    ended: list[int] = []

    def end_backend(step: str) -> None:  # the server ends our connection mid-transaction
        if step == "before_commit" and not ended:
            ended.append(_terminate(admin))

    app.ledger.checkpoint = end_backend
    outcomes, errors = app.poll_mail()
    assert ended and ended[0] >= 1
    assert outcomes == [] and len(errors) == 1 and "OperationalError" in errors[0], errors
    left_alone(app)
    assert len(imap_account.uids("INBOX")) == 3 and imap_account.uids("Processed") == []

    outcomes, errors = app.poll_mail()  # the pool replaces the dead connection
    assert errors == [] and [o.kind for o in outcomes] == ["case"] * 3
    taken_once(app, ["投诉 0", "投诉 1", "投诉 2"])
    assert imap_account.uids("INBOX") == []
    admin.dispose()
    app.close()
