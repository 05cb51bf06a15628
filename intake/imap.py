"""The IMAP poller (imapclient): fetch new complaints, take each in, then move it.

A message leaves the inbox only after the database has committed it, so a crash at any
point leaves it either untaken (fetched again) or in the ledger (just moved again).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from imapclient import IMAPClient

from intake.ledger import Ledger, Outcome, Parser, SourceItem
from intake.understand import understand_mail

log = logging.getLogger("complaintd.intake.imap")


@dataclass(frozen=True)
class ImapAccount:
    name: str
    host: str
    port: int
    security: str  # ssl | starttls | plain
    username: str
    password: str
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    batch_size: int = 50
    timeout: float = 60.0


@dataclass(frozen=True)
class PollReport:
    waiting: int
    outcomes: tuple[Outcome, ...]
    moved: int


class ImapPoller:
    def __init__(self, account: ImapAccount, ledger: Ledger,
                 parse: Parser = understand_mail) -> None:
        self.account = account
        self.ledger = ledger
        self.parse = parse
        self.source = f"imap:{account.name}"

    def run_once(self) -> PollReport:
        with self.connect() as client:
            uidvalidity = self._select(client)
            uids = sorted(client.search(["ALL"]))
            taken = self.ledger.taken_uids(self.source, self.account.folder, uidvalidity,
                                           [str(u) for u in uids])
            # Taken before but not moved (a crash after the commit): just move them now.
            moved = self._move(client, [u for u in uids if str(u) in taken])
            outcomes: list[Outcome] = []
            new = [u for u in uids if str(u) not in taken]
            for start in range(0, len(new), self.account.batch_size):
                batch = new[start:start + self.account.batch_size]
                outcomes.extend(self._take_batch(client, uidvalidity, batch))
                moved += self._move(client, batch)
        return PollReport(len(uids), tuple(outcomes), moved)

    @contextmanager
    def connect(self) -> Iterator[IMAPClient]:
        acc = self.account
        context = ssl.create_default_context()
        client = IMAPClient(acc.host, port=acc.port, ssl=acc.security == "ssl",
                            ssl_context=context if acc.security == "ssl" else None,
                            timeout=acc.timeout)
        client.normalise_times = False  # keep INTERNALDATE timezone-aware
        try:
            if acc.security == "starttls":
                client.starttls(context)
            client.login(acc.username, acc.password)
            if client.has_capability("ID"):
                # NetEase (163/126) refuses SELECT from clients that do not say who they are.
                client.id_({"name": "complaintd", "version": "0.1"})
            yield client
        finally:
            _logout_quietly(client)

    def _select(self, client: IMAPClient) -> int:
        if not client.folder_exists(self.account.processed_folder):
            client.create_folder(self.account.processed_folder)
        info = client.select_folder(self.account.folder)
        return int(info[b"UIDVALIDITY"])

    def _take_batch(self, client: IMAPClient, uidvalidity: int, batch: list[int]) -> list[Outcome]:
        fetched: dict[int, dict[bytes, Any]] = client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
        outcomes = []
        for uid in batch:
            data = fetched.get(uid)
            if data is None:  # expunged by someone else meanwhile
                continue
            item = SourceItem(self.source, self.account.folder, uidvalidity, str(uid),
                              bytes(data[b"BODY[]"]), _aware(data.get(b"INTERNALDATE")))
            outcomes.append(self.ledger.take(item, self.parse))
        return outcomes

    def _move(self, client: IMAPClient, uids: list[int]) -> int:
        if not uids:
            return 0
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


def _aware(value: object) -> datetime | None:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    return None


def _logout_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection may already be gone; nothing left to save
        log.debug("IMAP logout failed", exc_info=True)
