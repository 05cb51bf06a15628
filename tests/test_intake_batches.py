"""Batches: a fetched batch is taken in one transaction (and a backlog's next batch is
parsed in a worker process), and that must give exactly what one mail at a time gives:
duplicates, twins, replies and machine mail inside one batch, the daily acknowledgement
cap counted across the batch, a worker that dies. Real Dovecot, SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import logging
import multiprocessing
import os
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from casework.batchwrite import write_batch
from casework.models import Case, IngestedItem, Message, UTCDateTime
from casework.rawstore import RawStore
from complaintd.schema import metadata
from intake import imap as imap_module
from intake.imap import ImapAccount, fetch_and_prepare, fetch_items, open_client
from intake.ledger import Prepared, SourceItem, Understood
from intake.parallel import ParsePool
from intake.understand import MailUnderstanding
from notifications.models import OutboxMail
from tests.test_intake_support import complaint, count, imap_box, make_app


def mixed_mailbox(imap: Any) -> None:
    """One of everything that needs a lookup, in the order that makes a batch work hard."""
    first = complaint(1, sender="li@example.cn")
    imap.append("INBOX", first)
    imap.append("INBOX", complaint(2, sender="wang@example.cn"))
    imap.append("INBOX", first)  # the same bytes again
    # The same mail through another address: same Message-ID, sender and text.
    imap.append("INBOX", first.replace(b"To: complaints@example.org",
                                       b"To: director@example.org"))
    # The complainant answers the acknowledgement of the first mail in the same batch.
    reply = complaint(3, subject="Re: 投诉", sender="li@example.cn",
                      In_Reply_To=f"<c1-{abs(hash('投诉')) % 10**8}@example.cn>")
    imap.append("INBOX", reply)
    imap.append("INBOX", complaint(4, sender="mailer-daemon@example.cn",
                                   Auto_Submitted="auto-replied"))
    imap.append("INBOX", complaint(5, sender="zhao@example.cn"))


def outcomes_and_cases(tmp_path: Path, db_url: str, imap: Any, batch_size: int,
                       **intake: Any) -> tuple[list[str], list[tuple[str, str, int]]]:
    """The outcome of each mail, and each case as (subject, status, messages in)."""
    app = make_app(tmp_path, db_url, [imap_box(imap, batch_size=batch_size)], intake=intake)
    try:
        outcomes, errors = app.poll_mail()
        assert errors == []
        with app.session_factory() as session:
            cases = [(c.subject, str(c.status), len([m for m in c.messages if m.direction == "in"]))
                     for c in session.scalars(select(Case).order_by(Case.id))]
        return [o.kind for o in outcomes], cases
    finally:
        metadata.drop_all(app.engine)  # the next run starts from an empty database
        app.close()


def test_one_batch_gives_what_one_mail_at_a_time_gives(
        tmp_path: Path, db_url: str, dovecot_server: Any) -> None:
    one_by_one = dovecot_server.add_user(f"onebyone{uuid4().hex[:8]}", "pw")
    together = dovecot_server.add_user(f"together{uuid4().hex[:8]}", "pw")
    mixed_mailbox(one_by_one)
    mixed_mailbox(together)
    single = outcomes_and_cases(tmp_path / "single", db_url, one_by_one, batch_size=1)
    batched = outcomes_and_cases(tmp_path / "batched", db_url, together, batch_size=50)
    assert single[0] == ["case", "case", "duplicate", "duplicate", "follow_up", "ignored",
                         "case"]
    assert single[1][0] == ("投诉 1", "routed", 2)  # the reply joined the first case
    assert batched == single


def test_the_daily_cap_counts_the_acknowledgements_of_the_same_batch(
        tmp_path: Path, db_url: str, imap_account: Any) -> None:
    app = make_app(tmp_path, db_url, [imap_box(imap_account, batch_size=50)],
                   intake={"acknowledgements_per_sender_per_day": 2})
    imap_account.append("INBOX", complaint(0, sender="li@example.cn"))
    assert [o.kind for o in app.poll_mail()[0]] == ["case"]  # one acknowledged earlier
    for n in range(1, 4):
        imap_account.append("INBOX", complaint(n, sender="li@example.cn"))
    imap_account.append("INBOX", complaint(9, sender="other@example.cn"))
    outcomes, _ = app.poll_mail()
    assert [o.kind for o in outcomes] == ["case"] * 4
    assert count(app.session_factory, OutboxMail) == 3  # li: 0 and 1 (the cap), other: 9
    with app.session_factory() as session:
        withheld = [case.subject for case in session.scalars(select(Case))
                    if any("daily cap" in str(e.details.get("reason", "")) for e in case.events)]
    assert sorted(withheld) == ["投诉 2", "投诉 3"]
    app.close()


def test_a_backlog_parsed_in_a_worker_process_gives_the_same_cases(
        tmp_path: Path, db_url: str, dovecot_server: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    in_process = dovecot_server.add_user(f"inprocess{uuid4().hex[:8]}", "pw")
    in_worker = dovecot_server.add_user(f"inworker{uuid4().hex[:8]}", "pw")
    for imap in (in_process, in_worker):
        mixed_mailbox(imap)
        for n in range(10, 25):
            imap.append("INBOX", complaint(n, sender=f"p{n}@example.cn"))
    here = outcomes_and_cases(tmp_path / "here", db_url, in_process, batch_size=4,
                              parse_workers=0)
    app = make_app(tmp_path / "worker", db_url, [imap_box(in_worker, batch_size=4)],
                   intake={"parse_workers": 1})
    assert app.parse_pool.warm_up()  # else the first batches go in-process while it starts
    with caplog.at_level(logging.WARNING, logger="complaintd.intake"):
        outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == here[0]
    # 22 mails in batches of 4: each of the six fetched and parsed by the worker itself.
    assert app.parse_pool.sent_to_workers == 6
    assert "could not fetch" not in caplog.text
    with app.session_factory() as session:
        cases = [(c.subject, str(c.status), len([m for m in c.messages if m.direction == "in"]))
                 for c in session.scalars(select(Case).order_by(Case.id))]
    assert cases == here[1]
    assert count(app.session_factory, IngestedItem) == 22 and in_worker.uids("INBOX") == []
    app.close()


class DiesInWorker(MailUnderstanding):
    """A parser that kills any worker process it runs in (and works in the main one)."""

    def __call__(self, item: SourceItem, digest: str, now: datetime) -> Understood:
        if multiprocessing.parent_process() is not None:
            os._exit(3)
        return super().__call__(item, digest, now)


def test_a_dead_worker_leaves_its_batch_to_the_main_process(
        tmp_path: Path, sqlite_url: str, imap_account: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account, batch_size=3)],
                   intake={"parse_workers": 1})
    for n in range(7):
        imap_account.append("INBOX", complaint(n, sender=f"p{n}@example.cn"))
    poller = app.imap_poller(app.settings.mailbox[0])  # type: ignore[arg-type]
    poller.parse = DiesInWorker()
    assert app.parse_pool.warm_up()
    with caplog.at_level(logging.WARNING, logger="complaintd.intake"):
        report = poller.run_once()
    assert app.parse_pool.sent_to_workers >= 1
    assert "the parse worker failed (BrokenProcessPool)" in caplog.text
    assert "the parse worker could not fetch a batch" in caplog.text
    assert [o.kind for o in report.outcomes] == ["case"] * 7
    assert imap_account.uids("INBOX") == [] and count(app.session_factory, Case) == 7
    app.close()


ROUTING = Path(__file__).resolve().parents[1] / "config" / "routing.toml"


def test_a_batch_with_routing_rules_is_routed_in_one_piece(
        tmp_path: Path, db_url: str, imap_account: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(tmp_path, db_url, [imap_box(imap_account, batch_size=50)],
                   routing={"rules_file": str(ROUTING)})
    for n in range(4):
        imap_account.append("INBOX", complaint(n, sender=f"p{n}@example.cn"))
    with caplog.at_level(logging.WARNING, logger="complaintd.intake"):
        outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == ["case"] * 4
    # Routing needs the new cases' ids: the batch must not have fallen back to one by one.
    assert not [r for r in caplog.records if "failed as a whole" in r.getMessage()]
    with app.session_factory() as session:
        statuses = set(session.scalars(select(Case.status)))
    assert statuses and "received" not in statuses and "acknowledged" not in statuses
    app.close()


def test_batches_are_parsed_in_process_until_the_worker_is_up(tmp_path: Path) -> None:
    pool = ParsePool(RawStore(tmp_path), workers=1)
    items = [SourceItem("imap:t", "INBOX", 1, str(n), complaint(n, sender=f"p{n}@example.cn"),
                        None) for n in range(2)]
    now = datetime.now(UTC)
    try:
        first = pool.start(items, MailUnderstanding(), now)
        # Starting a worker takes ~0.5 s: the first batch must not wait for it.
        assert first.future is None and pool.sent_to_workers == 0
        assert first.result() is None  # the caller takes it in-process (Ledger.take_batch)
        assert pool.warm_up()
        later = pool.start(items, MailUnderstanding(), now)
        assert later.future is not None and pool.sent_to_workers == 1
        prepared = later.result()
        assert prepared is not None and [subject(p) for p in prepared] == ["投诉 0", "投诉 1"]
    finally:
        pool.close()


def imap_account_of(imap: Any) -> ImapAccount:
    return ImapAccount(name="t", host=imap.host, port=imap.port, security="plain",
                       username=imap.user, password=imap.password)


def subject(prepared: Prepared) -> str:
    assert isinstance(prepared.understood, Understood)
    assert prepared.understood.inbound is not None
    return prepared.understood.inbound.subject


def test_a_batch_writes_each_table_in_one_statement(
        tmp_path: Path, db_url: str, imap_account: Any) -> None:
    app = make_app(tmp_path, db_url, [imap_box(imap_account, batch_size=50)])
    for n in range(5):
        imap_account.append("INBOX", complaint(n, sender=f"p{n}@example.cn"))
    inserts: list[str] = []

    @event.listens_for(app.engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.startswith("INSERT INTO"):
            inserts.append(statement.split()[2])

    outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == ["case"] * 5
    # Five complaints and five acknowledgements: ten messages, in one statement (an
    # outbound message once left its defaults unset and split them into ten).
    assert inserts.count("message") == 1 and count(app.session_factory, Message) == 10
    assert inserts.count("cases") == 1 and inserts.count("timeline_event") == 1
    app.close()


# Columns whose values differ between two runs of the same mail: clocks, our own
# Message-IDs and mail bytes, the mailbox's UIDVALIDITY.
_VOLATILE = {"raw", "uidvalidity", "details", "nonce", "verify_hash"}  # random: a reply
# token's nonce, a verification code's hash


def table_rows(app: Any) -> dict[str, list[tuple[Any, ...]]]:
    rows = {}
    with app.engine.connect() as connection:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in _VOLATILE
                       and not isinstance(c.type, UTCDateTime)
                       and not (table.name == "outbox_mail" and c.name == "message_id")]
            found = connection.execute(select(*columns).order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(r) for r in found]
    for index, row in enumerate(rows["message"]):  # our acknowledgements' Message-IDs
        if row[2] == "out":
            rows["message"][index] = row[:4] + row[5:]
    return rows


def with_attachment(n: int) -> bytes:
    mail = email.message_from_bytes(complaint(n, sender=f"a{n}@example.cn"),
                                    policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    mail.add_attachment("病历".encode(), maintype="application", subtype="pdf",
                        filename="病历.pdf")
    return bytes(mail)


def test_the_direct_batch_write_leaves_the_rows_the_orm_would(
        tmp_path: Path, db_url: str, dovecot_server: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On both databases: the same mails written directly and through the ORM's flush
    leave the same rows (ids included: each run starts from empty tables)."""
    runs = []
    mails = [with_attachment(n) if n % 2 else complaint(n, sender=f"p{n}@example.cn")
             for n in range(4)]
    for name in ("direct", "orm"):
        imap = dovecot_server.add_user(f"{name}{uuid4().hex[:8]}", "pw")
        for mail in mails:
            imap.append("INBOX", mail)
        written: list[bool] = []

        def write(session: Session, through_orm: bool = name == "orm",
                  written: list[bool] = written) -> bool:
            if through_orm:
                session.flush()
                written.append(False)
                return False
            written.append(write_batch(session))
            return written[-1]

        monkeypatch.setattr("intake.ledger.write_batch", write)
        app = make_app(tmp_path / name, db_url, [imap_box(imap, batch_size=10)])
        try:
            outcomes, errors = app.poll_mail()
            assert errors == [] and [o.kind for o in outcomes] == ["case"] * 4
            runs.append((written, table_rows(app)))
        finally:
            metadata.drop_all(app.engine)  # the next run starts from empty tables
            app.close()
    (direct_written, direct), (_, through_orm) = runs
    assert direct_written == [True]
    assert direct == through_orm
    assert len(direct["attachment"]) == 2 and len(direct["message"]) == 8


def test_a_worker_fetches_what_the_poller_would_and_refuses_a_changed_uidvalidity(
        tmp_path: Path, imap_account: Any) -> None:
    for n in range(3):
        imap_account.append("INBOX", complaint(n, sender=f"p{n}@example.cn"))
    account = imap_account_of(imap_account)
    client = open_client(account)
    try:
        uidvalidity = int(client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"])
        uids = sorted(client.search("ALL"))
        expected, _ = fetch_items(client, account, uidvalidity, uids)
    finally:
        client.logout()
    now = datetime.now(UTC)
    items, over, prepared = fetch_and_prepare(account, uidvalidity, uids, RawStore(tmp_path),
                                              MailUnderstanding(), now)
    assert [(i.uid, i.raw) for i in items] == [(i.uid, i.raw) for i in expected]
    assert over == {} and [subject(p) for p in prepared] == ["投诉 0", "投诉 1", "投诉 2"]
    # The worker keeps its connection; one the server has closed is replaced.
    kept = imap_module._WORKER_CLIENTS[(account.host, account.port, account.username, "INBOX")]
    kept[0].logout()
    again, _, _ = fetch_and_prepare(account, uidvalidity, uids, RawStore(tmp_path),
                                    MailUnderstanding(), now)
    assert [i.raw for i in again] == [i.raw for i in expected]
    with pytest.raises(RuntimeError, match="UIDVALIDITY"):
        fetch_and_prepare(account, uidvalidity + 1, uids, RawStore(tmp_path),
                          MailUnderstanding(), now)
