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


def find_seen(session: Session, record: CallRecord) -> IngestedItem | None:
    """The ledger entry of this call, by its UID or else by its fingerprint."""
    by_uid = session.scalar(
        select(IngestedItem).where(
            IngestedItem.source == SOURCE,
            IngestedItem.folder == FOLDER,
            IngestedItem.uidvalidity == UIDVALIDITY,
            IngestedItem.uid == record.ledger_uid(),
        )
    )
    if by_uid is not None:
        return by_uid
    same_call = select(IngestedItem).where(
        IngestedItem.source == SOURCE, IngestedItem.raw_sha256 == record.fingerprint()
    )
    return session.scalars(same_call.limit(1)).first()


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
        detail=f"{source.name} row {record.row}; file sha256 {source.sha256}",
        ingested_at=at,
    )


def quarantine(
    session: Session, source: SourceFile, errors: Sequence[RowError], at: datetime, kept_at: str
) -> int:
    """One quarantine item per failed row (or for the whole file); a retry adds none twice."""
    added = 0
    for row, row_errors in groupby(sorted(errors, key=lambda e: e.row), key=lambda e: e.row):
        location = source.name if row == WHOLE_FILE else f"{source.name} row {row}"
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
