"""The hotline's call-log files in the raw store: one file holds many callers' rows.

The rule (docs/privacy.md): a call-log file is the original record of every call in it, so
it is kept whole while any case made from it still keeps its personal data, and removed
with the last of them. It goes once nothing names it: no message of any case (each case
made or followed up from it has been purged or erased: ``privacy.redact`` cuts a
message's link to the file), and no quarantined row of it waiting for staff. Files whose
rows were all duplicates or all rejected and handled go the same way. A file imported less
than a day ago is left alone: its rows may still be being taken in.

Rows are not cut out of a file: a workbook cannot be rewritten faithfully, the file's hash
is its name in the ledger, and each call's text is in the database already. An erased
caller's row in a file still needed by other cases stays stored but is no longer shown or
handed out (PIPL art. 47: only storage and its safeguards), until the file goes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import CallLogFile, Message, QuarantineItem
from casework.rawstore import RawStore

# An import takes its rows in batches after registering the file: not before this.
SETTLED = timedelta(days=1)
_CHUNK = 500


# Whether a message (id, case id) will be gone, in a dry run's reckoning.
Gone = Callable[[int, int], bool]


def _kept(_message_id: int, _case_id: int) -> bool:
    return False


def sweep_call_logs(session: Session, store: RawStore, *, now: datetime, dry_run: bool,
                    purging: AbstractSet[int] = frozenset()) -> list[str]:
    """Remove the call-log files nothing needs any more; their names. ``dry_run``: only
    name them, counting the cases in ``purging`` (the dry run's) as purged already."""
    files = list(session.scalars(select(CallLogFile).where(
        CallLogFile.removed_at.is_(None), CallLogFile.imported_at < now - SETTLED)
        .order_by(CallLogFile.id)))
    gone: list[str] = []
    for chunk in _chunks(files):
        gone_if: Gone = (lambda _m, case_id: case_id in purging) if dry_run else _kept
        needed = _needed(session, [f.sha256 for f in chunk], gone_if)
        for file in chunk:
            if file.sha256 in needed:
                continue
            gone.append(file.name)
            if not dry_run:
                store.delete(file.sha256)
                file.removed_at = now
    return gone


def erasure_call_logs(session: Session, digests: Iterable[str],
                      erased_messages: AbstractSet[int]) -> tuple[list[str], int]:
    """For an erasure whose ``erased_messages`` lose their link to ``digests``: the
    call-log files among them that go with it (their digests), and how many stay because
    other cases still need them (the person's row stays in those until they go)."""
    wanted = sorted(set(digests))
    if not wanted:
        return [], 0
    files = list(session.scalars(select(CallLogFile.sha256).where(
        CallLogFile.sha256.in_(wanted), CallLogFile.removed_at.is_(None))))
    needed = _needed(session, files, lambda message_id, _c: message_id in erased_messages)
    return [d for d in files if d not in needed], len(needed)


def mark_removed(session: Session, digests: Iterable[str], now: datetime) -> None:
    for file in session.scalars(select(CallLogFile).where(
            CallLogFile.sha256.in_(sorted(set(digests))))):
        file.removed_at = now


def _needed(session: Session, digests: Sequence[str], gone: Gone) -> set[str]:
    """The ``digests`` a message that stays (not ``gone``) or a waiting quarantined row
    still names."""
    if not digests:
        return set()
    needed = {digest for digest, message_id, case_id in session.execute(
        select(Message.raw_sha256, Message.id, Message.case_id)
        .where(Message.raw_sha256.in_(digests)))
        if not gone(message_id, case_id)}
    needed |= set(session.scalars(select(QuarantineItem.raw_sha256).where(
        QuarantineItem.raw_sha256.in_(digests), QuarantineItem.resolved_at.is_(None))))
    return {d for d in needed if d is not None}


def _chunks(files: list[CallLogFile]) -> Iterable[list[CallLogFile]]:
    for start in range(0, len(files), _CHUNK):
        yield files[start:start + _CHUNK]
