"""Taking one source item in, exactly once: one ledger for mail and hotline calls.

The raw bytes go to the raw store first, then one transaction writes the case (through
the handler), the ledger row and, on failure, the quarantine row. The source may mark
the item done only after that commit; a crash in between is harmless because the ledger
remembers the item by its place and by the hash of its bytes.

Both doors come in through the same code: a mail is bytes and a parser
(``take``/``take_batch``), a call of a call log is an item prepared by its reader — its
digest (the call's fingerprint) and its ``Inbound`` already known (``take_prepared``).
What differs between the doors (a reused call id, a failing row) is a ``Door`` value.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from casework.batchwrite import write_batch
from casework.clock import Clock
from casework.db import collector_spared, forget_batch_lookups, start_batch
from casework.inbound import Inbound, Receipt
from casework.models import Case, IngestedItem, Message, QuarantineItem
from casework.rawstore import RawStore, sha256_hex
from intake.tables import IntakeAttempt

log = logging.getLogger("complaintd.intake")

Handler = Callable[[Session, Inbound], Receipt]
# Told the inbound items of a batch before any is handled, so per-item lookups can be
# made once for the whole batch (see casework.db.start_batch).
BatchPreparer = Callable[[Session, Sequence[Inbound]], None]


@dataclass(frozen=True)
class SourceItem:
    """One item at one place in a source (a mail at a UID, a file in a Maildir)."""

    source: str
    folder: str
    uidvalidity: int
    uid: str
    raw: bytes
    arrived_at: datetime | None = None
    # What the ledger row says of the item when it is taken in (a call: its file and row).
    note: str = ""

    @property
    def location(self) -> str:
        return f"{self.source}:{self.folder};UIDVALIDITY={self.uidvalidity};UID={self.uid}"


FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    # case | follow_up | ignored | quarantined | duplicate; with a Door that says so,
    # conflict (a place taken with other content) | failed (handler error, not recorded)
    kind: str
    case_id: int | None = None
    reference: str | None = None
    detail: str = ""


class Understood:
    """What a source's parser made of an item: an Inbound, or a reason to set it aside."""

    def __init__(self, inbound: Inbound | None = None, ignore: str | None = None,
                 message_id: str | None = None, blobs: tuple[bytes, ...] = (),
                 bounce_of: tuple[str, ...] = ()) -> None:
        self.inbound = inbound
        self.ignore = ignore
        self.message_id = message_id
        # For an ignored bounce: the Message-IDs of the mail it reports on (maybe ours).
        self.bounce_of = bounce_of
        # Attachment bytes, stored in the raw store before the commit that refers to them.
        self.blobs = blobs


# The database's trouble, never the item's: locked (SQLite), a serialization failure or a
# deadlock, a lock or statement timeout, a lost connection or a server shutdown
# (PostgreSQL), a full disk — every one is an OperationalError through SQLAlchemy — and no
# connection to be had. The transaction is rolled back and the error raised: the source
# leaves the item where it is (not moved, not flagged, not archived) and takes it again
# at the next poll. It is never quarantined and never marked done.
DATABASE_TROUBLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)


@dataclass(frozen=True)
class Door:
    """How the items of one source are taken in, where sources differ (mail: the defaults)."""

    # An item at a place already taken with other bytes: "conflict" (a call id used again
    # for another call), not a plain duplicate.
    place_conflict: bool = False
    # The same bytes at a new place get a "duplicate" ledger row for that place (a mail
    # after a UIDVALIDITY change: the source marks it done there).
    note_new_place: bool = True
    # A failing handler quarantines the item and the ledger records it; otherwise the
    # outcome is "failed", nothing is recorded and the source reports it (a call-log row,
    # quarantined with its file and taken again when the file comes again).
    quarantine_failures: bool = True
    # Errors that stop the whole take instead of failing one item (the database is gone).
    passing: tuple[type[Exception], ...] = DATABASE_TROUBLE
    # An INFO line per item (a call's place could point at a caller: none for calls).
    log_items: bool = True
    # Tries at parsing an item are recorded before the parse (poison mail); a reader that
    # parsed its items before the ledger saw them (calls) has none to record.
    count_attempts: bool = True


MAIL = Door()

Parser = Callable[[SourceItem, str, datetime], Understood]
# Told the Message-IDs a bounce reports on: returns the case whose mail bounced (flagged
# for staff), or None when the mail was not ours. Handling decides what a bounce means.
BounceRecorder = Callable[[Session, tuple[str, ...], str, datetime], Case | None]
# Told who to answer when a message is refused (over the size limit): the headers, the reason.
# Returns why the sender was not told (a cap, a machine), kept on the quarantine row, or None.
RefusalNotice = Callable[[Session, bytes, str, datetime], "str | None"]
# Called with the name of each step ("raw_stored", "before_commit", "committed") so a
# crash test can stop the process exactly there.
Checkpoint = Callable[[str], None]


def no_checkpoint(_step: str) -> None:
    return None


def poison_reason(tries: int) -> str:
    """The quarantine reason of a mail that ended or hung the process ``tries`` times."""
    return (f"处理 {tries} 次均中断（进程终止或卡死），不再解析；原始邮件已保存 / taking this "
            f"item in was interrupted {tries} times (the process died or hung); it is not "
            "parsed again, its raw bytes are kept")


class ParseFailure(Exception):
    """A parser's error as text: it may come from a worker process, and not every error
    object survives the way back."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Prepared:
    """An item made ready outside the transaction: its bytes stored, its text understood."""

    digest: str
    understood: Understood | ParseFailure


def prepare(raw_store: RawStore, item: SourceItem, parse: Parser, now: datetime) -> Prepared:
    """Store the item's bytes and attachments and parse it (safe in a worker process)."""
    return prepare_all(raw_store, [item], parse, now)[0]


def prepare_all(raw_store: RawStore, items: Sequence[SourceItem], parse: Parser,
                now: datetime) -> list[Prepared]:
    """``prepare`` for each item, their bytes made durable together (``RawStore.put_all``)."""
    prepared: list[Prepared] = []
    blobs: list[bytes] = []
    for item in items:
        ready = _understand(item, sha256_hex(item.raw), parse, now)
        blobs.append(item.raw)
        if isinstance(ready.understood, Understood):
            blobs.extend(ready.understood.blobs)
            ready.understood.blobs = ()  # stored below: no need to carry the bytes further
        prepared.append(ready)
    raw_store.put_all(blobs)
    return prepared


def _understand(item: SourceItem, digest: str, parse: Parser, now: datetime) -> Prepared:
    try:
        return Prepared(digest, parse(item, digest, now))
    except Exception as exc:  # quarantined with this reason, as ``Ledger.take`` does
        log.debug("intake %s: parse failed", item.location, exc_info=True)
        return Prepared(digest, ParseFailure(f"{type(exc).__name__}: {exc}"))


class Ledger:
    def __init__(self, session_factory: sessionmaker[Session], raw_store: RawStore,
                 clock: Clock, handler: Handler, refusal: RefusalNotice | None = None,
                 checkpoint: Checkpoint = no_checkpoint,
                 prepare_batch: BatchPreparer | None = None, door: Door = MAIL,
                 bounce: BounceRecorder | None = None, max_attempts: int = 3) -> None:
        self.session_factory = session_factory
        self.raw_store = raw_store
        self.clock = clock
        self.handler = handler
        self.refusal = refusal
        self.checkpoint = checkpoint
        self.prepare_batch = prepare_batch
        self.door = door
        self.bounce = bounce
        # Interrupted tries after which an item is quarantined unparsed (poison mail).
        self.max_attempts = max_attempts

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
        """Take ``item`` in (or recognise it as already taken) and commit.

        The try is recorded (committed) before the parse: a mail that kills or hangs the
        process is known by its unfinished tries, and after ``max_attempts`` of them it is
        quarantined with its bytes instead of being parsed again.
        """
        digest = self.raw_store.put(item.raw)
        self.checkpoint("raw_stored")
        now = self.clock.now()
        (tries,) = self._note_tries([item], [digest], now)
        with self.session_factory.begin() as session:
            seen = self._seen(session, item, digest)
            if seen is None:
                if tries > self.max_attempts:
                    ready = Prepared(digest, ParseFailure(poison_reason(tries - 1)))
                else:
                    ready = prepare(self.raw_store, item, parse, now)
                seen = self._take_new(session, item, ready, now)
                self.checkpoint("before_commit")
            self._forget_tries(session, [item])
        self.checkpoint("committed")
        self._log(item, seen)
        return seen

    def take_ready(self, item: SourceItem, prepared: Prepared) -> Outcome:
        """``take`` for an item prepared already (its bytes stored, its text understood)."""
        now = self.clock.now()
        with self.session_factory.begin() as session:
            outcome = self._seen(session, item, prepared.digest)
            if outcome is None:
                outcome = self._take_new(session, item, prepared, now)
        self._log(item, outcome)
        return outcome

    def take_batch(self, items: Sequence[SourceItem], parse: Parser) -> list[Outcome]:
        """``take_prepared`` with the items prepared here and now.

        A batch with an item whose earlier try never finished (the process died in it) is
        taken one item at a time, each try recorded on its own, so that only the mail that
        kills the process is counted towards its quarantine, not the innocent ones beside it.
        """
        if len(items) < 2 or self._unfinished(items):
            return [self.take(item, parse) for item in items]
        now = self.clock.now()
        self._note_tries(items, [sha256_hex(item.raw) for item in items], now)
        return self.take_prepared(items, prepare_all(self.raw_store, items, parse, now), parse)

    def _unfinished(self, items: Sequence[SourceItem]) -> bool:
        """Whether any of ``items`` (all at one place) has a try that never finished."""
        first = items[0]
        with self.session_factory() as session:
            found = session.scalar(select(IntakeAttempt.id).where(
                IntakeAttempt.source == first.source, IntakeAttempt.folder == first.folder,
                IntakeAttempt.uidvalidity == first.uidvalidity,
                IntakeAttempt.uid.in_([i.uid for i in items])).limit(1))
        return found is not None

    def _note_tries(self, items: Sequence[SourceItem], digests: Sequence[str],
                    now: datetime) -> list[int]:
        """Record one more try at each item, committed; the tries so far, this one included."""
        if not self.door.count_attempts:
            return [1] * len(items)
        first = items[0]
        with self.session_factory.begin() as session:
            rows = {row.uid: row for row in session.scalars(select(IntakeAttempt).where(
                IntakeAttempt.source == first.source, IntakeAttempt.folder == first.folder,
                IntakeAttempt.uidvalidity == first.uidvalidity,
                IntakeAttempt.uid.in_([i.uid for i in items])))}
            tries = []
            for item, digest in zip(items, digests, strict=True):
                row = rows.get(item.uid)
                if row is None or row.raw_sha256 != digest:  # other bytes: another mail
                    if row is not None:
                        session.delete(row)
                        session.flush()
                    row = rows[item.uid] = IntakeAttempt(
                        source=item.source, folder=item.folder, uidvalidity=item.uidvalidity,
                        uid=item.uid, raw_sha256=digest, attempts=0, last_attempt_at=now)
                    session.add(row)
                row.attempts += 1
                row.last_attempt_at = now
                tries.append(row.attempts)
        return tries

    def _forget_tries(self, session: Session, items: Sequence[SourceItem]) -> None:
        """The items are taken in (in ``session``'s transaction): their tries are over."""
        if not self.door.count_attempts or not items:
            return
        first = items[0]
        session.execute(delete(IntakeAttempt).where(
            IntakeAttempt.source == first.source, IntakeAttempt.folder == first.folder,
            IntakeAttempt.uidvalidity == first.uidvalidity,
            IntakeAttempt.uid.in_([i.uid for i in items])))

    def take_prepared(self, items: Sequence[SourceItem], prepared: Sequence[Prepared],
                      parse: Parser | None = None) -> list[Outcome]:
        """Take a fetched batch in one transaction with one flush; the outcomes are those
        of ``take`` for each item in turn.

        Any error in the shared transaction rolls the whole batch back and takes the items
        one by one instead, where each item's own savepoint keeps a bad one from harming
        the others: the batch is only a faster way to the same result. Without ``parse``
        (items a reader prepared: calls) one by one is ``take_ready`` with what is prepared.
        """
        self.checkpoint("raw_stored")
        now = self.clock.now()
        try:
            with collector_spared(), self.session_factory.begin() as session:
                outcomes = _Batch(self, session, now).take(items, prepared)
                self._forget_tries(session, items)
                self.checkpoint("before_commit")
        except self.door.passing:
            raise  # the database's trouble: one by one would fail the same way
        except Exception as exc:
            log.warning("intake: a batch of %d failed as a whole (%s); taking its items one "
                        "by one", len(items), type(exc).__name__)
            log.debug("intake: batch failure", exc_info=True)
            if parse is None:
                return [self.take_ready(item, ready)
                        for item, ready in zip(items, prepared, strict=True)]
            return [self.take(item, parse) for item in items]
        self.checkpoint("committed")
        for item, outcome in zip(items, outcomes, strict=True):
            self._log(item, outcome)
        return outcomes

    def _log(self, item: SourceItem, outcome: Outcome) -> None:
        if self.door.log_items:
            log.info("intake %s: %s %s", item.location, outcome.kind, outcome.reference or "")

    def refuse(self, item: SourceItem, reason: str, message_id: str | None) -> Outcome:
        """Quarantine ``item`` (only its headers are in ``item.raw``) and tell the sender."""
        digest = self.raw_store.put(item.raw)
        now = self.clock.now()
        with self.session_factory.begin() as session:
            seen = self._seen(session, item, digest)
            if seen is not None:
                return seen
            kept = QuarantineItem(source=item.source, location=item.location,
                                  raw_sha256=digest, reason=reason[:4000], created_at=now)
            session.add(kept)
            outcome = Outcome("quarantined", detail=reason)
            if self.refusal is not None:
                outcome = self._tell_refused(session, item, reason, now)
                kept.reason = (outcome.detail or reason)[:4000]
            self._record(session, item, digest, message_id, outcome, now)
        log.warning("intake %s: refused (%s)", item.location, reason)
        return outcome

    def _tell_refused(self, session: Session, item: SourceItem, reason: str,
                      now: datetime) -> Outcome:
        try:
            with session.begin_nested():
                assert self.refusal is not None
                not_told = self.refusal(session, item.raw, reason, now)
        except self.door.passing:
            raise
        except Exception as exc:  # the refusal is recorded even when the notice is not
            log.warning("intake %s: sender not told of the refusal (%s)", item.location,
                        type(exc).__name__)
            return Outcome("quarantined", detail=f"{reason}; sender not told: {exc}")
        return Outcome("quarantined", detail=f"{reason}; {not_told}" if not_told else reason)

    def _record(self, session: Session, item: SourceItem, digest: str, message_id: str | None,
                outcome: Outcome, now: datetime) -> None:
        session.add(IngestedItem(
            source=item.source, folder=item.folder, uidvalidity=item.uidvalidity,
            uid=item.uid, raw_sha256=digest, message_id=(message_id or "")[:998] or None,
            outcome=outcome.kind, case_id=outcome.case_id,
            detail=(outcome.detail or item.note)[:2000], ingested_at=now))

    def _seen(self, session: Session, item: SourceItem, digest: str) -> Outcome | None:
        at_place = session.scalar(select(IngestedItem).where(
            IngestedItem.source == item.source, IngestedItem.folder == item.folder,
            IngestedItem.uidvalidity == item.uidvalidity, IngestedItem.uid == item.uid))
        if at_place is not None:
            if self.door.place_conflict and at_place.raw_sha256 != digest:
                return Outcome("conflict", at_place.case_id,
                               detail="taken in before with other content")
            return Outcome("duplicate", at_place.case_id, detail="already in the ledger")
        same_bytes = session.scalar(select(IngestedItem).where(
            IngestedItem.source == item.source, IngestedItem.raw_sha256 == digest).limit(1))
        if same_bytes is None:
            return None
        if not self.door.note_new_place:
            return Outcome("duplicate", same_bytes.case_id,
                           detail=f"same content as ledger item {same_bytes.id}")
        # Same bytes at a new place (a UIDVALIDITY change, a re-delivery): note the new
        # place so the source can mark it done, but create nothing.
        detail = f"same bytes as ledger item {same_bytes.id}"
        session.add(IngestedItem(
            source=item.source, folder=item.folder, uidvalidity=item.uidvalidity, uid=item.uid,
            raw_sha256=digest, message_id=same_bytes.message_id, outcome="duplicate",
            case_id=same_bytes.case_id, detail=detail, ingested_at=self.clock.now()))
        return Outcome("duplicate", same_bytes.case_id, detail=detail)

    def _take_new(self, session: Session, item: SourceItem, prepared: Prepared,
                  now: datetime) -> Outcome:
        """What becomes of an item the ledger has not seen, its ledger row included."""
        message_id = None
        if isinstance(prepared.understood, ParseFailure):
            outcome = self._quarantine(session, item, prepared.digest, now, prepared.understood)
        else:
            outcome, message_id = self._understood(session, item, prepared.digest, now,
                                                   prepared.understood)
        if outcome.kind != FAILED:  # left out: taken again when its source comes again
            self._record(session, item, prepared.digest, message_id, outcome, now)
        return outcome

    def _understood(self, session: Session, item: SourceItem, digest: str, now: datetime,
                    understood: Understood) -> tuple[Outcome, str | None]:
        try:
            if understood.inbound is None:
                return self._ignore(session, understood, now), understood.message_id
            twin = _same_mail(session, understood.inbound)
            if twin is not None:
                return twin, understood.message_id
            with session.begin_nested():
                receipt = self.handler(session, understood.inbound)
            return _receipt_outcome(receipt), understood.message_id
        except self.door.passing:
            raise
        except Exception as exc:  # one bad item must never block the ones behind it
            if not self.door.quarantine_failures:
                log.debug("intake %s: handler failed", item.location, exc_info=True)
                return Outcome(FAILED, detail=type(exc).__name__), None
            return self._quarantine(session, item, digest, now, exc), None

    def _ignore(self, session: Session, understood: Understood, now: datetime) -> Outcome:
        reason = understood.ignore or ""
        case = None
        if self.bounce is not None and understood.bounce_of:
            with session.begin_nested():
                case = self.bounce(session, understood.bounce_of, reason, now)
        if case is None:
            return Outcome("ignored", detail=reason)
        return Outcome("ignored", case.id, case.reference,
                       detail=f"{reason}; bounce of our mail on case {case.reference}")

    def _quarantine(self, session: Session, item: SourceItem, digest: str, now: datetime,
                    exc: Exception) -> Outcome:
        reason = exc.reason if isinstance(exc, ParseFailure) else f"{type(exc).__name__}: {exc}"
        log.warning("intake %s: quarantined (%s)", item.location, type(exc).__name__)
        log.debug("intake %s traceback:\n%s", item.location,
                  "".join(traceback.format_exception(exc)))
        session.add(QuarantineItem(source=item.source, location=item.location,
                                   raw_sha256=digest, reason=reason[:4000], created_at=now))
        return Outcome("quarantined", detail=reason)


class _Batch:
    """One fetched batch in one session: the plain items (a new mail that needs no lookup)
    go straight to the handler, and everything is written by one flush at the end.

    An item that could be a duplicate, a twin from another address, a quarantine or a
    machine mail takes the path of ``Ledger.take`` inside the same transaction instead.
    """

    def __init__(self, ledger: Ledger, session: Session, now: datetime) -> None:
        self.ledger = ledger
        self.session = session
        self.now = now

    def take(self, items: Sequence[SourceItem], prepared: Sequence[Prepared]) -> list[Outcome]:
        digests = [p.digest for p in prepared]
        understood = [p.understood for p in prepared]
        plain = self._plain(items, digests, understood)
        inbounds = [u.inbound for i, u in enumerate(understood)
                    if i in plain and isinstance(u, Understood) and u.inbound is not None]
        if self.ledger.prepare_batch is not None:
            self.ledger.prepare_batch(self.session, inbounds)
        start_batch(self.session)
        results: list[Outcome | tuple[IngestedItem, str]] = []
        for index, (item, ready) in enumerate(zip(items, prepared, strict=True)):
            parsed = ready.understood
            if index in plain and isinstance(parsed, Understood) and parsed.inbound is not None:
                results.append(self._take_plain(item, ready.digest, parsed, parsed.inbound))
            else:
                results.append(self._take_other(item, ready))
        write_batch(self.session)
        return [r if isinstance(r, Outcome) else _outcome_of(*r) for r in results]

    def _plain(self, items: Sequence[SourceItem], digests: list[str],
               understood: list[Understood | ParseFailure]) -> set[int]:
        """The indexes of the items for which no lookup in the database can find anything."""
        first = items[0]
        places = self._taken_places(first, [i.uid for i in items])
        known_bytes = self._known(IngestedItem.raw_sha256, digests,
                                  IngestedItem.source == first.source)
        ids = [u.inbound.message_id for u in understood
               if isinstance(u, Understood) and u.inbound and u.inbound.message_id]
        known_ids = self._known(Message.message_id, ids, Message.direction == "in")
        plain: set[int] = set()
        seen_bytes: set[str] = set()
        seen_ids: set[str] = set()
        seen_uids: set[str] = set()  # a call id twice in one file
        together = zip(items, digests, understood, strict=True)
        for index, (item, digest, parsed) in enumerate(together):
            message_id = (parsed.inbound.message_id if isinstance(parsed, Understood)
                          and parsed.inbound else None)
            if (item.uid not in places and item.uid not in seen_uids
                    and digest not in known_bytes and digest not in seen_bytes
                    and (not message_id or (message_id not in known_ids
                                            and message_id not in seen_ids))
                    and item.source == first.source and item.folder == first.folder
                    and item.uidvalidity == first.uidvalidity):
                plain.add(index)
            seen_bytes.add(digest)
            seen_uids.add(item.uid)
            if message_id:
                seen_ids.add(message_id)
        return plain

    def _taken_places(self, first: SourceItem, uids: list[str]) -> set[str]:
        return set(self.session.scalars(select(IngestedItem.uid).where(
            IngestedItem.source == first.source, IngestedItem.folder == first.folder,
            IngestedItem.uidvalidity == first.uidvalidity, IngestedItem.uid.in_(uids))))

    def _known(self, column: InstrumentedAttribute[str | None], values: list[str],
               *where: ColumnElement[bool]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(values), 500):
            found.update(v for v in self.session.scalars(
                select(column).where(column.in_(values[start:start + 500]), *where)) if v)
        return found

    def _take_plain(self, item: SourceItem, digest: str, understood: Understood,
                    inbound: Inbound) -> tuple[IngestedItem, str]:
        receipt = self.ledger.handler(self.session, inbound)
        if receipt.outcome != "case":
            forget_batch_lookups(self.session)  # they hold while the batch only opens cases
        row = IngestedItem(
            source=item.source, folder=item.folder, uidvalidity=item.uidvalidity, uid=item.uid,
            raw_sha256=digest, message_id=(understood.message_id or "")[:998] or None,
            outcome=receipt.outcome, case_id=receipt.case_id, case=receipt.case,
            detail=item.note[:2000], ingested_at=self.now)
        self.session.add(row)
        return row, receipt.reference

    def _take_other(self, item: SourceItem, prepared: Prepared) -> Outcome:
        """What ``Ledger.take`` does for one item, in the batch's transaction."""
        seen = self.ledger._seen(self.session, item, prepared.digest)
        if seen is not None:
            return seen
        outcome = self.ledger._take_new(self.session, item, prepared, self.now)
        forget_batch_lookups(self.session)  # anything may have happened (a rollback too)
        return outcome


def _receipt_outcome(receipt: Receipt) -> Outcome:
    # In a batch session the case gets its id only at a flush, after the receipt was made.
    case_id = receipt.case.id if receipt.case is not None else receipt.case_id
    return Outcome(receipt.outcome, case_id, receipt.reference)


def _outcome_of(row: IngestedItem, reference: str) -> Outcome:
    return Outcome(row.outcome, row.case_id, reference)


def _same_mail(session: Session, inbound: Inbound) -> Outcome | None:
    """The same mail arriving again through another address (other bytes: other Received
    and To headers): same Message-ID, sender, subject and text. Recorded, no second case."""
    if not inbound.message_id or not inbound.sender_email:
        return None
    # Same subject and text too: test suites and buggy clients reuse Message-IDs, and a
    # complaint must never be swallowed as a "duplicate" of a different mail.
    found = session.execute(select(Message.case_id, Message.id).where(
        Message.message_id == inbound.message_id, Message.direction == "in",
        Message.sender == inbound.sender_email, Message.subject == inbound.subject[:998],
        Message.body_text == inbound.text).limit(1)).first()
    if found is None:
        return None
    return Outcome("duplicate", found[0],
                   detail=f"same Message-ID and sender as message {found[1]} "
                          "(arrived through another address)")


class RetryError(RuntimeError):
    """A quarantined item that cannot be retried (unknown, already resolved, bytes gone)."""


def retry_quarantined(ledger: Ledger, item_id: int, parse: Parser) -> Outcome:
    """Process quarantined item ``item_id`` again; on success it is resolved and its ledger
    row says what it became. On failure it stays quarantined and the error is raised."""
    now = ledger.clock.now()
    with ledger.session_factory.begin() as session:
        item = session.get(QuarantineItem, item_id)
        if item is None or item.resolved_at is not None or not item.raw_sha256:
            raise RetryError(f"quarantine item {item_id}: not found or already resolved")
        if item.raw_sha256 not in ledger.raw_store:
            raise RetryError(f"quarantine item {item_id}: raw bytes missing from the store")
        raw = ledger.raw_store.get(item.raw_sha256)
        source = SourceItem(item.source, "quarantine", 0, str(item.id), raw)
        understood = parse(source, item.raw_sha256, now)
        for blob in understood.blobs:
            ledger.raw_store.put(blob)
        if understood.inbound is None:
            outcome = ledger._ignore(session, understood, now)
        else:
            receipt = ledger.handler(session, understood.inbound)
            session.flush()
            outcome = _receipt_outcome(receipt)
        item.resolved_at = now
        for row in session.scalars(select(IngestedItem).where(
                IngestedItem.raw_sha256 == item.raw_sha256,
                IngestedItem.outcome == "quarantined")):
            row.outcome, row.case_id = outcome.kind, outcome.case_id
            row.detail = f"retried from quarantine item {item_id}: {outcome.detail}"[:2000]
    log.info("quarantine item %s retried: %s %s", item_id, outcome.kind, outcome.reference or "")
    return outcome
