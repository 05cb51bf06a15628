"""Taking one source item in, exactly once.

The raw bytes go to the raw store first, then one transaction writes the case (through
the handler), the ledger row and, on failure, the quarantine row. The source may mark
the item done only after that commit; a crash in between is harmless because the ledger
remembers the item by its place and by the hash of its bytes.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import Clock
from casework.inbound import Inbound, Receipt
from casework.models import IngestedItem, QuarantineItem
from casework.rawstore import RawStore

log = logging.getLogger("complaintd.intake")

Handler = Callable[[Session, Inbound], Receipt]


@dataclass(frozen=True)
class SourceItem:
    """One item at one place in a source (a mail at a UID, a file in a Maildir)."""

    source: str
    folder: str
    uidvalidity: int
    uid: str
    raw: bytes
    arrived_at: datetime | None = None

    @property
    def location(self) -> str:
        return f"{self.source}:{self.folder};UIDVALIDITY={self.uidvalidity};UID={self.uid}"


@dataclass(frozen=True)
class Outcome:
    kind: str  # case | follow_up | ignored | quarantined | duplicate
    case_id: int | None = None
    reference: str | None = None
    detail: str = ""


class Understood:
    """What a source's parser made of an item: an Inbound, or a reason to set it aside."""

    def __init__(self, inbound: Inbound | None = None, ignore: str | None = None,
                 message_id: str | None = None, blobs: tuple[bytes, ...] = ()) -> None:
        self.inbound = inbound
        self.ignore = ignore
        self.message_id = message_id
        # Attachment bytes, stored in the raw store before the commit that refers to them.
        self.blobs = blobs


Parser = Callable[[SourceItem, str, datetime], Understood]


class Ledger:
    def __init__(self, session_factory: sessionmaker[Session], raw_store: RawStore,
                 clock: Clock, handler: Handler) -> None:
        self.session_factory = session_factory
        self.raw_store = raw_store
        self.clock = clock
        self.handler = handler

    def taken_uids(self, source: str, folder: str, uidvalidity: int, uids: list[str]) -> set[str]:
        """Which of ``uids`` at this place are already in the ledger."""
        found: set[str] = set()
        with self.session_factory() as session:
            for start in range(0, len(uids), 500):
                chunk = uids[start:start + 500]
                found.update(session.scalars(select(IngestedItem.uid).where(
                    IngestedItem.source == source, IngestedItem.folder == folder,
                    IngestedItem.uidvalidity == uidvalidity, IngestedItem.uid.in_(chunk))))
        return found

    def take(self, item: SourceItem, parse: Parser) -> Outcome:
        """Take ``item`` in (or recognise it as already taken) and commit."""
        digest = self.raw_store.put(item.raw)
        now = self.clock.now()
        with self.session_factory.begin() as session:
            seen = self._seen(session, item, digest)
            if seen is not None:
                return seen
            outcome, message_id = self._understand(session, item, digest, now, parse)
            session.add(IngestedItem(
                source=item.source, folder=item.folder, uidvalidity=item.uidvalidity,
                uid=item.uid, raw_sha256=digest, message_id=message_id, outcome=outcome.kind,
                case_id=outcome.case_id, detail=outcome.detail[:2000], ingested_at=now))
        log.info("intake %s: %s %s", item.location, outcome.kind, outcome.reference or "")
        return outcome

    def _seen(self, session: Session, item: SourceItem, digest: str) -> Outcome | None:
        at_place = session.scalar(select(IngestedItem).where(
            IngestedItem.source == item.source, IngestedItem.folder == item.folder,
            IngestedItem.uidvalidity == item.uidvalidity, IngestedItem.uid == item.uid))
        if at_place is not None:
            return Outcome("duplicate", at_place.case_id, detail="already in the ledger")
        same_bytes = session.scalar(select(IngestedItem).where(
            IngestedItem.source == item.source, IngestedItem.raw_sha256 == digest).limit(1))
        if same_bytes is None:
            return None
        # Same bytes at a new place (a UIDVALIDITY change, a re-delivery): note the new
        # place so the source can mark it done, but create nothing.
        detail = f"same bytes as ledger item {same_bytes.id}"
        session.add(IngestedItem(
            source=item.source, folder=item.folder, uidvalidity=item.uidvalidity, uid=item.uid,
            raw_sha256=digest, message_id=same_bytes.message_id, outcome="duplicate",
            case_id=same_bytes.case_id, detail=detail, ingested_at=self.clock.now()))
        return Outcome("duplicate", same_bytes.case_id, detail=detail)

    def _understand(self, session: Session, item: SourceItem, digest: str, now: datetime,
                    parse: Parser) -> tuple[Outcome, str | None]:
        try:
            understood = parse(item, digest, now)
            for blob in understood.blobs:
                self.raw_store.put(blob)
            if understood.inbound is None:
                return Outcome("ignored", detail=understood.ignore or ""), understood.message_id
            with session.begin_nested():
                receipt = self.handler(session, understood.inbound)
            return (Outcome(receipt.outcome, receipt.case_id, receipt.reference),
                    understood.message_id)
        except Exception as exc:  # one bad item must never block the ones behind it
            return self._quarantine(session, item, digest, now, exc), None

    def _quarantine(self, session: Session, item: SourceItem, digest: str, now: datetime,
                    exc: Exception) -> Outcome:
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("intake %s: quarantined (%s)", item.location, type(exc).__name__)
        log.debug("intake %s traceback:\n%s", item.location, traceback.format_exc())
        session.add(QuarantineItem(source=item.source, location=item.location,
                                   raw_sha256=digest, reason=reason[:4000], created_at=now))
        return Outcome("quarantined", detail=reason)
