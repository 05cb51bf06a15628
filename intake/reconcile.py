"""Daily reconciliation: is every message in the mailbox either in the ledger or still waiting?

The most feared failure of peer systems is a mail that silently never became a ticket.
A message in the watched folder at or below the last processed UID, or in the processed
folder, must be in the ledger (by its place, its Message-ID, or the hash of its bytes);
anything else is reported. Messages above the last processed UID are simply waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.models import IngestedItem
from casework.rawstore import sha256_hex
from intake.imap import ImapPoller
from intake.mail import header_message_id

_BATCH = 500


@dataclass(frozen=True)
class Missing:
    folder: str
    uid: int
    message_id: str | None


@dataclass(frozen=True)
class ReconcileReport:
    source: str
    checked: int
    waiting: int
    missing: tuple[Missing, ...]

    def describe(self) -> str:
        lines = [f"{m.folder} UID {m.uid} {m.message_id or '(no Message-ID)'}"
                 for m in self.missing]
        return "\n".join(lines)


def reconcile(poller: ImapPoller, client: Any) -> ReconcileReport:
    """Compare the mailbox behind ``client`` with the ledger; store and return the result."""
    acc = poller.account
    known = _Ledger(poller.ledger.session_factory, poller.source)
    position = poller.states.position(poller.source, acc.folder)
    last = position.last_uid if position else 0
    info = client.select_folder(acc.folder, readonly=True)
    validity = int(info[b"UIDVALIDITY"])
    uids = sorted(client.search(["ALL"]))
    waiting = sum(1 for u in uids if u > last or (position and position.uidvalidity != validity))
    missing = _check(client, acc.folder, [u for u in uids if u <= last], known, validity)
    checked = len(uids)
    if acc.after_commit == "move" and client.folder_exists(acc.processed_folder):
        client.select_folder(acc.processed_folder, readonly=True)
        done = sorted(client.search(["ALL"]))
        missing += _check(client, acc.processed_folder, done, known, None)
        checked += len(done)
    report = ReconcileReport(poller.source, checked, waiting, tuple(missing))
    poller.states.reconciled(poller.source, acc.folder, len(missing), report.describe())
    return report


class _Ledger:
    def __init__(self, session_factory: sessionmaker[Session], source: str) -> None:
        with session_factory() as session:
            rows = session.execute(select(
                IngestedItem.folder, IngestedItem.uidvalidity, IngestedItem.uid,
                IngestedItem.message_id, IngestedItem.raw_sha256,
            ).where(IngestedItem.source == source)).all()
        self.places = {(r[0], int(r[1]), r[2]) for r in rows}
        self.message_ids = {r[3] for r in rows if r[3]}
        self.hashes = {r[4] for r in rows}


def _check(client: Any, folder: str, uids: list[int], known: _Ledger,
           validity: int | None) -> list[Missing]:
    missing: list[Missing] = []
    for start in range(0, len(uids), _BATCH):
        chunk = uids[start:start + _BATCH]
        heads = client.fetch(chunk, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        for uid in chunk:
            if validity is not None and (folder, validity, str(uid)) in known.places:
                continue
            raw = next((bytes(v) for k, v in heads.get(uid, {}).items()
                        if k.startswith(b"BODY[HEADER")), b"")
            message_id = header_message_id(raw)
            if message_id in known.message_ids:
                continue
            if message_id is None and _hash_known(client, uid, known):
                continue
            missing.append(Missing(folder, uid, message_id))
    return missing


def _hash_known(client: Any, uid: int, known: _Ledger) -> bool:
    # No Message-ID to go by: only the bytes themselves can tell (rare, so fetched one by one).
    body = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
    return body is not None and sha256_hex(bytes(body)) in known.hashes
