"""The test servers are real, isolated, and can fail: checks of the fixtures themselves."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from casework.db import make_engine
from casework.models import Party, ReferenceCounter, compared
from complaintd.schema import metadata
from tests.fixtures.dovecot import FOLDERS, DovecotServer, ImapAccount

COMPLAINT = (
    "From: 王芳 <wang.fang@example.cn>\r\n"
    "To: complaints@example.org\r\n"
    "Subject: =?UTF-8?B?5oqV6K+J?=\r\n"
    "Message-ID: <servers-test@example.cn>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "快递丢失，三周无人回复。\r\n"
).encode()


def test_append_then_fetch_returns_the_same_bytes(imap_account: ImapAccount) -> None:
    uid = imap_account.append("INBOX", COMPLAINT)

    assert imap_account.uids("INBOX") == [uid]
    assert imap_account.fetch_raw("INBOX", uid) == COMPLAINT


def test_a_second_connection_sees_the_message(imap_account: ImapAccount) -> None:
    with imap_account.imap_client() as first, imap_account.imap_client() as second:
        first.append("INBOX", COMPLAINT)
        second.select_folder("INBOX", readonly=True)
        assert len(second.search("ALL")) == 1


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_with_empty_folders(imap_account: ImapAccount, run: int) -> None:
    # Run twice: the second run fails if the first one's messages leaked into it.
    with imap_account.imap_client() as client:
        names = {name for _flags, _sep, name in client.list_folders()}
    assert set(FOLDERS) <= names
    assert imap_account.uids("INBOX") == []
    assert imap_account.uids("Processed") == []
    imap_account.append("INBOX", COMPLAINT)
    imap_account.append("Processed", COMPLAINT)


def test_a_wrong_password_is_refused(imap_account: ImapAccount) -> None:
    client = IMAPClient(imap_account.host, port=imap_account.port, ssl=False, timeout=10)
    try:
        with pytest.raises(LoginError):
            client.login(imap_account.user, imap_account.password + "-wrong")
    finally:
        client.shutdown()


def test_idle_wakes_on_an_append_from_another_connection(imap_account: ImapAccount) -> None:
    with imap_account.imap_client() as idler:
        idler.select_folder("INBOX")
        idler.idle()
        started = time.monotonic()
        imap_account.append("INBOX", COMPLAINT)
        responses: list[tuple[int, bytes]] = []
        while not responses and time.monotonic() - started < 10:
            responses = idler.idle_check(timeout=1)
        idler.idle_done()

    assert (1, b"EXISTS") in responses, f"IDLE did not report the new message: {responses}"


def test_recreate_folder_changes_uidvalidity_and_empties_it(imap_account: ImapAccount) -> None:
    imap_account.append("Processed", COMPLAINT)
    before = imap_account.uidvalidity("Processed")

    after = imap_account.recreate_folder("Processed")

    assert after != before
    assert imap_account.uids("Processed") == []


def test_bump_uidvalidity_keeps_the_messages_of_inbox(imap_account: ImapAccount) -> None:
    uid = imap_account.append("INBOX", COMPLAINT)
    before = imap_account.uidvalidity("INBOX")

    after = imap_account.bump_uidvalidity("INBOX")

    assert after > before
    assert imap_account.uidvalidity("INBOX") == after
    assert imap_account.fetch_raw("INBOX", uid) == COMPLAINT


def test_deliver_stores_what_a_client_would_not_append(imap_account: ImapAccount) -> None:
    # Bare LF line ends and no Message-ID; the LDA stores it as a mail server would.
    imap_account.deliver(b"From: someone@example.com\nSubject: no id\n\nline one\nline two\n")

    [uid] = imap_account.uids("INBOX")
    raw = imap_account.fetch_raw("INBOX", uid)
    assert b"Subject: no id" in raw
    assert b"line two" in raw


def test_dovecot_never_runs_as_root(dovecot_server: DovecotServer) -> None:
    pids = dovecot_server.process_ids()
    assert pids, "no Dovecot processes found"
    checked = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue  # a short-lived worker (auth, login) ended after it was listed
        uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
        assert "0" not in uids, f"Dovecot process {pid} runs as root"
        checked += 1
    assert checked, "every Dovecot process ended before it could be checked"
    assert os.stat(dovecot_server.root).st_uid == dovecot_server.run_as.uid


def test_db_url_alone_is_an_empty_database(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_empty_tables(
    engine: Engine, session_factory: sessionmaker[Session], run: int
) -> None:
    # Run twice: the second run fails if the first one's rows (or ids) leaked into it.
    # Beside the models: the search's FTS5 tables on SQLite (casework.models.compared).
    tables = {t for t in inspect(engine).get_table_names() if compared(t, "table", {})}
    assert tables == set(metadata.tables)
    with session_factory() as session:
        for table in metadata.sorted_tables:
            assert session.scalar(select(func.count()).select_from(table)) == 0, table.name
        party = Party(name="王芳", created_at=datetime.now(UTC))
        session.add_all([party, ReferenceCounter(prefix="TS", year=2025, last=run)])
        session.commit()
    assert party.id == 1  # identities start again for every test


def test_a_committed_row_is_visible_to_a_new_connection(
    db_url: str, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        session.add(ReferenceCounter(prefix="TS", year=2025, last=7))
        session.commit()

    other = make_engine(db_url)  # its own pool: a genuinely separate connection
    try:
        with Session(other) as session:
            assert session.get(ReferenceCounter, ("TS", 2025)).last == 7  # type: ignore[union-attr]
    finally:
        other.dispose()
