"""What the hotline import writes besides cases: the ingest ledger and the quarantine.

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
from sqlalchemy.orm import Session

from casework.inbound import Receipt
from casework.models import IngestedItem, QuarantineItem
from intake.hotline.columns import FIELDS
from intake.hotline.problems import WHOLE_FILE, RowError
from intake.hotline.records import CallRecord

SOURCE = "hotline"
FOLDER = "calls"
UIDVALIDITY = 0  # files have no UIDVALIDITY; the column is shared with the mailbox


@dataclass(frozen=True)
class SourceFile:
    """The call-log file being imported; its bytes are in the raw store under ``sha256``."""

    name: str
    sha256: str
    size: int


class SeenCalls:
    """The ledger's knowledge of one batch of calls, fetched with two queries, not two a row.

    Calls taken during the batch are added, so the same call twice in one file is a
    duplicate the second time.
    """

    def __init__(self, session: Session, records: Sequence[CallRecord]) -> None:
        uids = {r.ledger_uid() for r in records}
        fingerprints = {r.fingerprint() for r in records}
        self._by_uid: dict[str, str] = {}
        self._fingerprints: set[str] = set()
        if not records:
            return
        place = (IngestedItem.source == SOURCE, IngestedItem.folder == FOLDER,
                 IngestedItem.uidvalidity == UIDVALIDITY)  # fmt: skip
        found = select(IngestedItem.uid, IngestedItem.raw_sha256).where(
            *place, IngestedItem.uid.in_(uids))
        self._by_uid = {uid: sha for uid, sha in session.execute(found)}
        same = select(IngestedItem.raw_sha256).where(
            IngestedItem.source == SOURCE, IngestedItem.raw_sha256.in_(fingerprints))
        self._fingerprints = set(session.scalars(same))

    def seen(self, record: CallRecord) -> str | None:
        """The fingerprint this call's UID or fingerprint was taken in under, or None."""
        known = self._by_uid.get(record.ledger_uid())
        if known is not None:
            return known
        return record.fingerprint() if record.fingerprint() in self._fingerprints else None

    def add(self, record: CallRecord) -> None:
        self._by_uid[record.ledger_uid()] = record.fingerprint()
        self._fingerprints.add(record.fingerprint())


def call_id_conflict(record: CallRecord, source: SourceFile) -> RowError:
    zh, en = FIELDS["call_id"]
    return RowError(
        source.name, record.row, f"{zh} / {en}", record.call_id or "",
        "这个通话编号已导入过，但时间、电话或内容不同；未导入，请核对",
        "this call id was imported before with another time, phone or content; "
        "not imported, please check",
    )  # fmt: skip


def handler_failure(record: CallRecord, source: SourceFile, exc: Exception) -> RowError:
    return RowError(
        source.name, record.row, "", "",
        f"系统处理这一行时出错（{type(exc).__name__}），已转入待处理队列",
        f"the system failed on this row ({type(exc).__name__}); it is quarantined for staff",
    )  # fmt: skip


def ledger_entry(
    record: CallRecord, receipt: Receipt, source: SourceFile, at: datetime
) -> IngestedItem:
    return IngestedItem(
        source=SOURCE,
        folder=FOLDER,
        uidvalidity=UIDVALIDITY,
        uid=record.ledger_uid(),
        raw_sha256=record.fingerprint(),
        outcome=receipt.outcome,
        case_id=receipt.case_id,
        detail=f"{record.source or source.name} row {record.row}; file sha256 {source.sha256}",
        ingested_at=at,
    )


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
