"""The hotline's door into the ingest ledger (``intake.ledger``), and its quarantine.

Ledger key: source ``hotline``, folder ``calls``, UIDVALIDITY 0 and, as UID, the call id
when the phone system gives one, else the row's fingerprint (SHA-256 of call time, phone
and content). The fingerprint is also kept as ``raw_sha256`` so the same call is known
again when it comes once with a call id and once without.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from casework.models import CallLogFile, QuarantineItem
from intake.hotline.columns import FIELDS
from intake.hotline.problems import WHOLE_FILE, RowError
from intake.hotline.records import CallRecord
from intake.ledger import DATABASE_TROUBLE, Door, Prepared, SourceItem, Understood

SOURCE = "hotline"
FOLDER = "calls"
UIDVALIDITY = 0  # files have no UIDVALIDITY; the column is shared with the mailbox


@dataclass(frozen=True)
class SourceFile:
    """The call-log file being imported; its bytes are in the raw store under ``sha256``."""

    name: str
    sha256: str
    size: int


# Calls come in through the mail's ledger (``intake.ledger``); where they differ: a call id
# used again for another call is a conflict the file's report names, a failing row is not
# recorded (it is quarantined with the file and taken again with it), the database gone
# fails the whole file, and no line per call is logged (it could point at a caller).
CALLS = Door(place_conflict=True, note_new_place=False, quarantine_failures=False,
             passing=DATABASE_TROUBLE, log_items=False, count_attempts=False)


def note_file(session_factory: sessionmaker[Session], source: SourceFile, at: datetime) -> None:
    """Register the file in ``call_log_file`` (once), before any row points at it, so the
    retention purge knows the raw store holds it (``privacy.retention``). A file whose
    bytes the purge removed and that is dropped again is registered again."""
    with session_factory.begin() as session:
        known = session.scalar(select(CallLogFile).where(CallLogFile.sha256 == source.sha256))
        if known is not None:
            known.removed_at, known.imported_at = None, at
            return
    try:
        with session_factory.begin() as session:
            session.add(CallLogFile(sha256=source.sha256, name=source.name[:255],
                                    size=source.size, imported_at=at))
    except IntegrityError:
        pass  # another worker registered the same bytes a moment ago


def ledger_item(record: CallRecord, source: SourceFile) -> tuple[SourceItem, Prepared]:
    """The call as the ledger takes it: at its UID, known by its fingerprint, understood."""
    item = SourceItem(
        SOURCE, FOLDER, UIDVALIDITY, record.ledger_uid(), b"",
        note=f"{record.source or source.name} row {record.row}; file sha256 {source.sha256}",
    )  # fmt: skip
    inbound = record.to_inbound(source.name, raw_sha256=source.sha256, raw_size=source.size)
    return item, Prepared(record.fingerprint(), Understood(inbound))


def call_id_conflict(record: CallRecord, source: SourceFile) -> RowError:
    zh, en = FIELDS["call_id"]
    return RowError(
        source.name, record.row, f"{zh} / {en}", record.call_id or "",
        "这个通话编号已导入过，但时间、电话或内容不同；未导入，请核对",
        "this call id was imported before with another time, phone or content; "
        "not imported, please check",
    )  # fmt: skip


def handler_failure(record: CallRecord, source: SourceFile, error: str) -> RowError:
    """``error``: the name of the exception's type (never its text: it may quote the call)."""
    return RowError(
        source.name, record.row, "", "",
        f"系统处理这一行时出错（{error}），已转入待处理队列",
        f"the system failed on this row ({error}); it is quarantined for staff",
    )  # fmt: skip


def quarantine(
    session: Session, source: SourceFile, errors: Sequence[RowError], at: datetime, kept_at: str
) -> int:
    """One quarantine item per failed row (or for the whole file); a retry adds none twice."""
    added = 0
    # By file label and row: a workbook's sheets each have their own row 2.
    by_place = sorted(errors, key=lambda e: (e.file, e.row))
    for (label, row), row_errors in groupby(by_place, key=lambda e: (e.file, e.row)):
        label = label or source.name
        location = label if row == WHOLE_FILE else f"{label} row {row}"
        if _quarantined(session, location, source.sha256):
            continue
        reasons = [f"{e.column}: {e.problem_zh} / {e.problem_en}" for e in row_errors]
        reason = "\n".join([*reasons, f"file: {kept_at}"])
        session.add(
            QuarantineItem(
                source=SOURCE, location=location, raw_sha256=source.sha256,
                reason=reason, created_at=at,
            )
        )  # fmt: skip
        added += 1
    return added


def _quarantined(session: Session, location: str, sha256: str) -> bool:
    found = session.scalar(
        select(QuarantineItem.id).where(
            QuarantineItem.source == SOURCE,
            QuarantineItem.location == location,
            QuarantineItem.raw_sha256 == sha256,
        )
    )
    return found is not None
