"""Importing call logs from the drop folder: the edge between files and casework.

For one file: claim it (rename into ``processing/``), keep its bytes in the raw store,
read and check every row, hand each new valid call to the casework handler, record it in
the ledger, then move the file to ``archive/<date>/`` — or to ``rejected/`` when it had
errors and nothing of it is in the system — with ``<name>.errors.csv`` beside it.

Transactions: valid rows are taken in batches of ``batch_size`` (500) rows, one
transaction per batch, each row in a savepoint so a handler failure on one row quarantines
that row and the batch goes on. A crash between a commit and the move leaves the file in
``processing/``; the next scan imports it again and the ledger turns every committed row
into a duplicate. Nothing about a caller is logged above DEBUG.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from casework.clock import Clock, local_date
from casework.inbound import Inbound, Receipt
from casework.rawstore import RawStore
from intake.hotline import ledger
from intake.hotline.columns import ColumnMap
from intake.hotline.folders import (
    HotlineFolders,
    SettleWatch,
    claim,
    companion,
    count_attempt,
    forget_attempts,
    free_path,
    is_ignored,
    locked,
    uncount_attempt,
)
from intake.hotline.problems import WHOLE_FILE, RowError
from intake.hotline.reader import CallLog, parse_call_log
from intake.hotline.records import CallRecord
from intake.hotline.report import REPORT_SUFFIX, write_error_report

log = logging.getLogger("complaintd.hotline")

InboundHandler = Callable[[Session, Inbound], Receipt]
"""Casework's entry point: opens a case or adds a follow-up, in the session it is given."""

# Failures of the database or the disk pass; they do not count against the file.
_PASSING_FAILURES = (OperationalError, InterfaceError, OSError)


@dataclass(frozen=True)
class ImportReport:
    """What one file gave: ``imported`` rows taken in now (``follow_ups`` of them added to an
    existing case), ``duplicates`` taken in before, ``rejected_rows`` with errors."""

    file: str
    imported: int
    follow_ups: int
    duplicates: int
    rejected_rows: int
    report_path: Path | None
    archived_to: Path
    errors: tuple[RowError, ...] = ()


@dataclass
class _Tally:
    imported: int = 0
    follow_ups: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)

    def add(self, outcome: str | RowError) -> None:
        if isinstance(outcome, RowError):
            self.errors.append(outcome)
        elif outcome == "duplicate":
            self.duplicates += 1
        else:
            self.imported += 1
            self.follow_ups += outcome == "follow_up"


class HotlineImporter:
    """Imports the call logs that hotline staff drop into ``folders.drop``."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        raw_store: RawStore,
        clock: Clock,
        handler: InboundHandler,
        folders: HotlineFolders,
        *,
        columns: ColumnMap | None = None,
        min_age_seconds: float = 30.0,
        batch_size: int = 500,
        max_attempts: int = 3,
    ) -> None:
        self._session_factory = session_factory
        self._raw_store = raw_store
        self._clock = clock
        self._handler = handler
        self._folders = folders
        self._columns = columns or ColumnMap.default()
        self._settle = SettleWatch(clock, min_age_seconds)
        self._batch_size = batch_size
        self._max_attempts = max_attempts

    def scan(self, drop_dir: Path | None = None) -> list[ImportReport]:
        """Import what a crash left in ``processing/``, then every settled file dropped.

        A failing file is logged and left in ``processing/`` for the next scan; the others
        go on.
        """
        self._folders.ensure()
        reports = []
        for path in self._files(self._folders.processing):
            reports.append(self._guarded(path))
        for path in self._ready(drop_dir or self._folders.drop):
            claimed = claim(path, self._folders.processing)
            if claimed is not None:
                reports.append(self._guarded(claimed))
        return [report for report in reports if report is not None]

    def import_file(self, path: Path) -> ImportReport | None:
        """Claim and import ``path`` now, settled or not; None if another worker has it."""
        self._folders.ensure()
        in_processing = path.parent.resolve() == self._folders.processing.resolve()
        claimed = path if in_processing else claim(path, self._folders.processing)
        return None if claimed is None else self._process(claimed)

    def _files(self, folder: Path) -> list[Path]:
        files = []
        for path in sorted(folder.iterdir()):
            if not path.is_file():
                continue
            if is_ignored(path.name):
                log.debug("hotline: ignoring %s (temporary or hidden name)", path.name)
                continue
            files.append(path)
        return files

    def _ready(self, drop: Path) -> list[Path]:
        files, ready = self._files(drop), []
        for path in files:
            try:
                settled = self._settle.settled(path, path.stat())
            except FileNotFoundError:
                continue
            if settled:
                ready.append(path)
            else:
                log.info("hotline: %s is still being written; left for the next scan", path.name)
        self._settle.forget_all_but(set(files))
        return ready

    def _guarded(self, path: Path) -> ImportReport | None:
        try:
            return self._process(path)
        except _PASSING_FAILURES as exc:
            uncount_attempt(path)
            log.warning(
                "hotline: %s not imported (%s); retried at the next scan",
                path.name,
                type(exc).__name__,
            )
            _log_traceback(path, exc)
        except Exception as exc:
            log.error(
                "hotline: %s failed (%s); left in processing/ (traceback at DEBUG)",
                path.name,
                type(exc).__name__,
            )
            _log_traceback(path, exc)
        return None

    def _process(self, path: Path) -> ImportReport | None:
        with locked(path) as fh:
            if fh is None:
                log.debug("hotline: %s is being imported by another worker", path.name)
                return None
            attempt = count_attempt(path)
            data = fh.read()
            # The bytes are on disk under their hash before any row points at them.
            source = ledger.SourceFile(path.name, self._raw_store.put(data), len(data))
            if attempt > self._max_attempts:
                call_log = _given_up(path.name, attempt - 1)
            else:
                call_log = parse_call_log(data, path.name, columns=self._columns,
                                          now=self._clock.now())  # fmt: skip
            tally = self._take_rows(call_log, source)
            report = self._finish(path, source, call_log, tally)
        forget_attempts(path)
        return report

    def _take_rows(self, call_log: CallLog, source: ledger.SourceFile) -> _Tally:
        tally = _Tally()
        records = call_log.records
        for start in range(0, len(records), self._batch_size):
            with self._session_factory() as session, session.begin():
                for record in records[start : start + self._batch_size]:
                    tally.add(self._take_row(session, record, source))
        return tally

    def _take_row(
        self, session: Session, record: CallRecord, source: ledger.SourceFile
    ) -> str | RowError:
        seen = ledger.find_seen(session, record)
        if seen is not None:
            if seen.raw_sha256 == record.fingerprint():
                return "duplicate"
            return ledger.call_id_conflict(record, source)
        inbound = record.to_inbound(source.name, raw_sha256=source.sha256, raw_size=source.size)
        try:
            with session.begin_nested():
                receipt = self._handler(session, inbound)
                session.add(ledger.ledger_entry(record, receipt, source, self._clock.now()))
        except (OperationalError, InterfaceError):
            raise  # the database itself is gone: the whole file is retried later
        except Exception as exc:
            log.warning("hotline: %s row %d: handler failed (%s)",
                        source.name, record.row, type(exc).__name__)  # fmt: skip
            log.debug("hotline: handler failure on %s row %d", source.name, record.row,
                      exc_info=True)  # fmt: skip
            return ledger.handler_failure(record, source, exc)
        return receipt.outcome

    def _finish(
        self, path: Path, source: ledger.SourceFile, call_log: CallLog, tally: _Tally
    ) -> ImportReport:
        errors = (*call_log.errors, *tally.errors)
        rejected = bool(errors) and tally.imported + tally.duplicates == 0
        folder = self._folders.rejected if rejected else self._archive_folder()
        folder.mkdir(parents=True, exist_ok=True)
        target = free_path(folder, path.name, REPORT_SUFFIX if errors else "")
        report_path = None
        if errors:
            self._quarantine(source, errors, target)
            report_path = write_error_report(companion(target, REPORT_SUFFIX), errors)
        os.rename(path, target)
        bad_rows = call_log.data_rows if call_log.unreadable else len({e.row for e in errors})
        report = ImportReport(
            file=path.name,
            imported=tally.imported,
            follow_ups=tally.follow_ups,
            duplicates=tally.duplicates,
            rejected_rows=bad_rows,
            report_path=report_path,
            archived_to=target,
            errors=errors,
        )
        _log_report(report, rejected)
        return report

    def _archive_folder(self) -> Path:
        return self._folders.archive / local_date(self._clock.now()).date().isoformat()

    def _quarantine(
        self, source: ledger.SourceFile, errors: tuple[RowError, ...], target: Path
    ) -> None:
        with self._session_factory() as session, session.begin():
            ledger.quarantine(session, source, errors, self._clock.now(), str(target))


def _given_up(name: str, failures: int) -> CallLog:
    error = RowError(
        name, WHOLE_FILE, "", "",
        f"导入已失败 {failures} 次，不再重试；请联系管理员",
        f"the import failed {failures} times and is not retried; ask the administrator",
    )  # fmt: skip
    return CallLog(name, "", (), (error,), 0, unreadable=True)


def _log_traceback(path: Path, exc: BaseException) -> None:
    # A traceback may quote a caller's data (a value in an error message): DEBUG only.
    log.debug("hotline: import of %s failed", path.name, exc_info=exc)


def _log_report(report: ImportReport, rejected: bool) -> None:
    log.info(
        "hotline: %s %s: %d imported (%d follow-ups), %d duplicates, %d rows rejected",
        report.file, "rejected" if rejected else "archived", report.imported,
        report.follow_ups, report.duplicates, report.rejected_rows,
    )  # fmt: skip
