"""The IMAP poller (imapclient): fetch new complaints, take each in, then mark it done.

A message is moved (or flagged) only after the database has committed it, and the
mailbox position (UIDVALIDITY, last UID) advances only after that, so a crash at any
point leaves each message either untaken (fetched again) or in the ledger (just marked
done again): exactly once.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from imapclient import IMAPClient

from casework.rawstore import RawStore
from intake.auth import ImapLogin
from intake.ledger import (
    Checkpoint,
    Ledger,
    Outcome,
    Parser,
    Prepared,
    SourceItem,
    no_checkpoint,
    prepare_all,
)
from intake.mail import header_message_id
from intake.mailstate import MailboxStates
from intake.parallel import ParsePool, Preparing
from intake.understand import understand_mail

log = logging.getLogger("complaintd.intake.imap")


@dataclass(frozen=True)
class ImapAccount:
    name: str
    host: str
    port: int
    security: str  # ssl | starttls | plain
    username: str
    password: str = ""
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    batch_size: int = 50
    timeout: float = 60.0
    login: ImapLogin | None = None  # None: password login with username/password
    start_uid: int = 0
    start_date: date | None = None
    max_message_bytes: int = 50 * 1024 * 1024
    after_commit: str = "move"  # move | flag
    done_flag: str = "$ComplaintdDone"
    ca_file: str | None = None  # a private CA for the server's certificate (else the system's)

    def sign_in(self) -> ImapLogin:
        return self.login or ImapLogin("password", self.username, self.password)

    @property
    def source(self) -> str:
        """How the ledger names this mailbox."""
        return f"imap:{self.name}"


@dataclass(frozen=True)
class PollReport:
    waiting: int
    outcomes: tuple[Outcome, ...]
    moved: int
    rescanned: bool = False
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Fetched:
    batch: list[int]
    items: list[SourceItem]
    over_limit: dict[int, int]  # UID -> size of the mails refused for their size
    preparing: Preparing | None


class ImapPoller:
    def __init__(self, account: ImapAccount, ledger: Ledger, parse: Parser = understand_mail,
                 states: MailboxStates | None = None,
                 checkpoint: Checkpoint = no_checkpoint, pool: ParsePool | None = None) -> None:
        self.account = account
        # Parses a backlog's next batch while this one is written (None: all in-process).
        self.pool = pool
        self.ledger = ledger
        self.parse = parse
        self.source = account.source
        self.states = states or MailboxStates(ledger.session_factory, ledger.clock)
        self.checkpoint = checkpoint

    def run_once(self) -> PollReport:
        with self.connect() as client:
            return self.poll(client)

    def poll(self, client: IMAPClient) -> PollReport:
        """Take in everything new in the folder over an open connection."""
        acc = self.account
        uidvalidity = self._select(client)
        position = self.states.position(self.source, acc.folder)
        rescanned = position is not None and position.uidvalidity != uidvalidity
        if rescanned:
            log.warning("mailbox %s: UIDVALIDITY changed; re-scanning %s (duplicates are "
                        "recognised by their bytes)", acc.name, acc.folder)
        if position is None or rescanned:
            last = self._first_position(client, after_change=rescanned)
        else:
            last = position.last_uid
        uids = self._search(client, last)
        moved, outcomes = self._take_all(client, uidvalidity, uids)
        if uids:
            self.states.advance(self.source, acc.folder, uidvalidity, max(uids))
        elif position is None or rescanned:
            self.states.advance(self.source, acc.folder, uidvalidity, last)
        self.checkpoint("advanced")
        return PollReport(len(uids), tuple(outcomes), moved, rescanned)

    @contextmanager
    def connect(self) -> Iterator[IMAPClient]:
        client = open_client(self.account)
        try:
            yield client
        finally:
            _logout_quietly(client)

    def _select(self, client: IMAPClient) -> int:
        acc = self.account
        if acc.after_commit == "move" and not client.folder_exists(acc.processed_folder):
            client.create_folder(acc.processed_folder)
        info = client.select_folder(acc.folder)
        return int(info[b"UIDVALIDITY"])

    def _first_position(self, client: IMAPClient, *, after_change: bool) -> int:
        """The UID before the first one to take on a first run (or after a UIDVALIDITY change)."""
        acc = self.account
        if acc.start_uid and not after_change:  # old UIDs mean nothing after a change
            return acc.start_uid - 1
        if acc.start_date is not None:
            since = sorted(client.search(["SINCE", acc.start_date]))
            return since[0] - 1 if since else _highest_uid(client)
        return 0

    def _search(self, client: IMAPClient, last: int) -> list[int]:
        criteria: list[Any] = ["UID", f"{last + 1}:*"]
        if self.account.after_commit == "flag":
            criteria += ["UNKEYWORD", self.account.done_flag]
        # "n:*" always matches the highest UID, even when it is below n.
        return sorted(u for u in client.search(criteria) if u > last)

    def _take_all(self, client: IMAPClient, uidvalidity: int,
                  uids: list[int]) -> tuple[int, list[Outcome]]:
        taken = self.ledger.taken_uids(self.source, self.account.folder, uidvalidity,
                                       [str(u) for u in uids])
        # Taken before but not marked done (a crash after the commit): just mark them now.
        moved = self._mark_done(client, [u for u in uids if str(u) in taken])
        outcomes: list[Outcome] = []
        new = [u for u in uids if str(u) not in taken]
        size = self.account.batch_size
        batches = [new[start:start + size] for start in range(0, len(new), size)]
        if self.pool is None or len(batches) < 2:
            for batch in batches:
                outcomes.extend(self._take_batch(client, uidvalidity, batch))
                moved += self._done(client, uidvalidity, batch)
            return moved, outcomes
        return self._take_backlog(client, uidvalidity, batches, moved, outcomes)

    def _take_backlog(self, client: IMAPClient, uidvalidity: int, batches: list[list[int]],
                      moved: int, outcomes: list[Outcome]) -> tuple[int, list[Outcome]]:
        """While one batch is written, the next is fetched and parsed: by the parse worker
        over a connection of its own when it can, else fetched by an ``imap`` thread and
        parsed in the pool. The thread also moves each batch after its commit.

        Only the ``imap`` thread uses ``client`` here, one command at a time in the order
        given. A batch is moved only after its commit; the position advances only after
        its move.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="imap") as imap:
            ahead = self._ahead(imap, client, uidvalidity, batches[0])
            moving: tuple[Future[int], list[int]] | None = None
            for index, batch in enumerate(batches):
                current = ahead()
                if index + 1 < len(batches):
                    ahead = self._ahead(imap, client, uidvalidity, batches[index + 1])
                # (On an error, leaving the executor waits for the thread before the logout.)
                written = self._take_prepared(current)
                if moving is not None:
                    moved += self._moved(uidvalidity, *moving)
                outcomes.extend(imap.submit(self._in_order, client, uidvalidity, current,
                                            written).result())
                moving = (imap.submit(self._mark_done, client, batch), batch)
            if moving is not None:
                moved += self._moved(uidvalidity, *moving)
        return moved, outcomes

    def _ahead(self, imap: ThreadPoolExecutor, client: IMAPClient, uidvalidity: int,
               batch: list[int]) -> Callable[[], _Fetched]:
        """Start getting ``batch`` ready; the result waits until it is fetched."""
        assert self.pool is not None
        pool = self.pool
        in_worker = (pool.submit(fetch_and_prepare, self.account, uidvalidity, batch,
                                 pool.raw_store, pool.limited(self.parse),
                                 self.ledger.clock.now())
                     if self.account.sign_in().method == "password" else None)
        if in_worker is None:
            return imap.submit(self._fetch, client, uidvalidity, batch, pool).result

        def from_worker() -> _Fetched:
            # The worker, its connection or the server failed, or the worker is stuck.
            fetched = pool.wait(in_worker, len(batch))
            if fetched is None:
                log.warning("mailbox %s: the parse worker could not fetch a batch; "
                            "fetching it here", self.account.name)
                return imap.submit(self._fetch, client, uidvalidity, batch, pool).result()
            items, over, prepared = fetched
            self.checkpoint("fetched")
            return _Fetched(batch, items, over, Preparing.done(prepared))
        return from_worker

    def _moved(self, uidvalidity: int, moving: Future[int], batch: list[int]) -> int:
        moved = moving.result()
        self.checkpoint("marked_done")
        self.states.advance(self.source, self.account.folder, uidvalidity, max(batch))
        return moved

    def _done(self, client: IMAPClient, uidvalidity: int, batch: list[int]) -> int:
        moved = self._mark_done(client, batch)
        self.checkpoint("marked_done")
        self.states.advance(self.source, self.account.folder, uidvalidity, max(batch))
        return moved

    def _take_batch(self, client: IMAPClient, uidvalidity: int, batch: list[int]) -> list[Outcome]:
        fetched = self._fetch(client, uidvalidity, batch, None)
        taken = self.ledger.take_batch(fetched.items, self.parse)
        return self._in_order(client, uidvalidity, fetched, taken)

    def _take_prepared(self, fetched: _Fetched) -> list[Outcome]:
        """Take a batch in without the IMAP connection (another thread may be using it)."""
        assert fetched.preparing is not None
        prepared = fetched.preparing.result()
        if prepared is None:  # no worker prepared it: parsed here, each try recorded first
            return self.ledger.take_batch(fetched.items, self.parse)
        return self.ledger.take_prepared(fetched.items, prepared, self.parse)

    def _fetch(self, client: IMAPClient, uidvalidity: int, batch: list[int],
               pool: ParsePool | None) -> _Fetched:
        items, over = fetch_items(client, self.account, uidvalidity, batch)
        self.checkpoint("fetched")
        preparing = (pool.start(items, self.parse, self.ledger.clock.now())
                     if pool is not None else None)
        return _Fetched(batch, items, over, preparing)

    def _in_order(self, client: IMAPClient, uidvalidity: int, fetched: _Fetched,
                  outcomes: list[Outcome]) -> list[Outcome]:
        """The batch's outcomes in UID order (as the mail arrived), refusals included."""
        taken = dict(zip([int(i.uid) for i in fetched.items], outcomes, strict=True))
        ordered = []
        for uid in fetched.batch:
            if uid in taken:
                ordered.append(taken[uid])
            elif uid in fetched.over_limit:
                ordered.append(self._refuse(client, uidvalidity, uid, fetched.over_limit[uid]))
        return ordered

    def _refuse(self, client: IMAPClient, uidvalidity: int, uid: int, size: int) -> Outcome:
        data = client.fetch([uid], ["BODY.PEEK[HEADER]", "INTERNALDATE"]).get(uid, {})
        headers = bytes(data.get(b"BODY[HEADER]", b""))
        reason = (f"message of {size} bytes is over the limit of "
                  f"{self.account.max_message_bytes} bytes; only its headers are kept")
        item = _item(self.account, uidvalidity, uid, headers, data)
        return self.ledger.refuse(item, reason, header_message_id(headers))

    def _mark_done(self, client: IMAPClient, uids: list[int]) -> int:
        if not uids:
            return 0
        if self.account.after_commit == "flag":
            client.add_flags(uids, [self.account.done_flag])
            return len(uids)
        target = self.account.processed_folder
        if client.has_capability("MOVE"):
            client.move(uids, target)
        else:
            client.copy(uids, target)
            client.delete_messages(uids)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(uids)
            else:
                client.expunge()
        return len(uids)


# In a parse worker: its own read-only connection per mailbox, kept between batches, with
# the UIDVALIDITY it saw when it selected the folder.
_WORKER_CLIENTS: dict[tuple[str, int, str, str], tuple[IMAPClient, int]] = {}


def fetch_and_prepare(acc: ImapAccount, uidvalidity: int, batch: list[int],
                      raw_store: RawStore, parse: Parser,
                      now: datetime) -> tuple[list[SourceItem], dict[int, int], list[Prepared]]:
    """In a parse worker: fetch ``batch``, then store and parse it (``prepare_all``).

    Fetching here spares the main process, which writes the batches, the work of
    reading the server's answers. The connection is opened read-only (EXAMINE): only the
    poller moves or flags mail, after its commit. Raises on any trouble, a changed
    UIDVALIDITY included; the poller then fetches the batch itself.
    """
    kept = _WORKER_CLIENTS.pop(_worker_key(acc), None)
    if kept is not None:
        try:
            items, over = _fetch_over(kept, acc, uidvalidity, batch)
        except Exception:  # the server closed an idle connection, or anything else: anew
            items, over = _fetch_over(None, acc, uidvalidity, batch)
    else:
        items, over = _fetch_over(None, acc, uidvalidity, batch)
    return items, over, prepare_all(raw_store, items, parse, now)


def _fetch_over(kept: tuple[IMAPClient, int] | None, acc: ImapAccount, uidvalidity: int,
                batch: list[int]) -> tuple[list[SourceItem], dict[int, int]]:
    """``fetch_items`` over the kept connection, or a new one; kept again if all went well."""
    client = None
    try:
        if kept is None:
            client = open_client(acc)
            seen = int(client.select_folder(acc.folder, readonly=True)[b"UIDVALIDITY"])
        else:
            client, seen = kept
        if seen != uidvalidity:
            raise RuntimeError(f"UIDVALIDITY is {seen}, the poller saw {uidvalidity}")
        found = fetch_items(client, acc, uidvalidity, batch)
    except Exception:
        if client is not None:
            _logout_quietly(client)
        raise
    _WORKER_CLIENTS[_worker_key(acc)] = (client, seen)
    return found


def _worker_key(acc: ImapAccount) -> tuple[str, int, str, str]:
    return (acc.host, acc.port, acc.username, acc.folder)


def open_client(acc: ImapAccount) -> IMAPClient:
    """A connection to ``acc``'s server, signed in (and introduced, where the server asks)."""
    context = ssl.create_default_context(cafile=acc.ca_file)
    client = IMAPClient(acc.host, port=acc.port, ssl=acc.security == "ssl",
                        ssl_context=context if acc.security == "ssl" else None,
                        timeout=acc.timeout)
    client.normalise_times = False  # keep INTERNALDATE timezone-aware
    try:
        if acc.security == "starttls":
            client.starttls(context)
        acc.sign_in().sign_in(client)
        if client.has_capability("ID"):
            # NetEase (163/126) refuses SELECT from clients that do not say who they are.
            client.id_({"name": "complaintd", "version": "0.1", "vendor": "complaintd"})
    except Exception:
        _logout_quietly(client)
        raise
    return client


def fetch_items(client: IMAPClient, acc: ImapAccount, uidvalidity: int,
                batch: list[int]) -> tuple[list[SourceItem], dict[int, int]]:
    """The mails of ``batch`` (sizes first: a mail over the limit is never pulled), and the
    sizes of those over the limit."""
    sizes = client.fetch(batch, ["RFC822.SIZE"])
    limit = acc.max_message_bytes
    small = {u for u in batch if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) <= limit}
    data: dict[int, dict[bytes, Any]] = (
        client.fetch(sorted(small), ["BODY.PEEK[]", "INTERNALDATE"]) if small else {})
    items = [_item(acc, uidvalidity, uid, bytes(data[uid][b"BODY[]"]), data[uid])
             for uid in batch if uid in data]  # missing: expunged by someone else
    over = {u: int(sizes[u][b"RFC822.SIZE"]) for u in batch if u in sizes and u not in small}
    return items, over


def _item(acc: ImapAccount, uidvalidity: int, uid: int, raw: bytes,
          data: dict[bytes, Any]) -> SourceItem:
    return SourceItem(acc.source, acc.folder, uidvalidity, str(uid), raw,
                      _aware(data.get(b"INTERNALDATE")))


def _highest_uid(client: IMAPClient) -> int:
    found = client.search(["UID", "*"])
    return max(found) if found else 0


def _aware(value: object) -> datetime | None:
    if isinstance(value, datetime) and value.tzinfo is not None:
        # imapclient's own tzinfo class cannot be pickled (to a parse worker).
        return value.replace(tzinfo=timezone(value.utcoffset() or timedelta(0)))
    return None


def _logout_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection may already be gone; nothing left to save
        log.debug("IMAP logout failed", exc_info=True)
