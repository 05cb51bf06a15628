"""Importing call logs from the drop folder: the edge between files and casework.

For one file: claim it (rename into ``processing/``), keep its bytes in the raw store,
read and check every row, hand each new valid call to the casework handler, record it in
the ledger, then move the file to ``archive/<date>/`` — or to ``rejected/`` when it had
errors and nothing of it is in the system — with ``<name>.errors.csv`` beside it.

The file is read as a stream (``CallLogScan``): rows are checked as the batches are
taken, so memory does not grow with the file. Transactions: valid rows are taken in
batches of ``batch_size`` (500) rows by the ledger mail uses (``intake.ledger.Ledger``,
``take_prepared``): one transaction per batch written with one bulk write, and on any
error in it the batch is taken again row by row, each row in its own transaction and
savepoint, so a handler failure on one row quarantines that row and the others go on.
A crash between a commit and the move leaves the file in ``processing/``; the next scan
imports it again and the ledger turns every committed row into a duplicate. Nothing
about a caller is logged above DEBUG.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from casework.clock import Clock, local_date
from casework.inbound import Inbound, Receipt
from casework.rawstore import RawStore
from intake.hotline import ledger
from intake.hotline.columns import ColumnMap
from intake.hotline.folders import (
    DropFolderScan,
    HotlineFolders,
    claim,
    companion,
    count_attempt,
    forget_attempts,
    free_path,
    locked,
    uncount_attempt,
)
from intake.hotline.problems import WHOLE_FILE, RowError
from intake.hotline.rawcopy import store_file
from intake.hotline.reader import CallLogScan
from intake.hotline.records import CallRecord
from intake.hotline.report import REPORT_SUFFIX, write_error_report
from intake.ledger import DATABASE_TROUBLE, FAILED, BatchPreparer, Ledger, Outcome

log = logging.getLogger("complaintd.hotline")

InboundHandler = Callable[[Session, Inbound], Receipt]
"""Casework's entry point: opens a case or adds a follow-up, in the session it is given."""

Progress = Callable[[int], None]
"""Told how many rows have been read so far, after each batch (the CLI's progress bar)."""

# Failures of the database or the disk pass; they do not count against the file.
_PASSING_FAILURES: tuple[type[Exception], ...] = (*DATABASE_TROUBLE, OSError)


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
    failed_rows: int = 0  # valid rows that still failed (handler error, call id reused)
    errors: list[RowError] = field(default_factory=list)

    def add(self, outcome: str | RowError) -> None:
        if isinstance(outcome, RowError):
            self.errors.append(outcome)
            self.failed_rows += 1
        elif outcome == "duplicate":
            self.duplicates += 1
        else:
            self.imported += 1
            self.follow_ups += outcome == "follow_up"


class HotlineImporter:
    """Imports the call logs that hotline staff drop into ``folders.drop``.

    ``columns`` adds a site's own headings, ``sheet`` reads only that sheet of a workbook,
    ``report_languages`` are the languages of the problem columns of the error report.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        raw_store: RawStore,
        clock: Clock,
        handler: InboundHandler,
        folders: HotlineFolders,
        *,
        columns: ColumnMap | None = None,
        sheet: str | None = None,
        report_languages: Sequence[str] = ("zh",),
        min_age_seconds: float = 30.0,
        batch_size: int = 500,
        max_attempts: int = 3,
        prepare_batch: BatchPreparer | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._raw_store = raw_store
        self._clock = clock
        # The handler's own batch preparation (the pipeline's ``prepare_batch``) unless
        # one is given: per-row lookups made once for a batch, as for mail.
        preparer = prepare_batch or getattr(handler, "prepare_batch", None)
        self._ledger = Ledger(session_factory, raw_store, clock, handler,
                              prepare_batch=preparer, door=ledger.CALLS)  # fmt: skip
        self._folders = folders
        self._columns = columns or ColumnMap.default()
        self._sheet = sheet or None
        self._report_languages = tuple(report_languages)
        self._drop = DropFolderScan(clock, min_age_seconds)
        self._batch_size = batch_size
        self._max_attempts = max_attempts

    def scan(self, drop_dir: Path | None = None) -> list[ImportReport]:
        """Import what a crash left in ``processing/``, then every settled file dropped.

        A failing file is logged and left in ``processing/`` for the next scan; the others
        go on.
        """
        self._folders.ensure()
        reports = []
        for path in self._drop.files(self._folders.processing):
            reports.append(self._guarded(path))
        for path in self._drop.ready(drop_dir or self._folders.drop):
            claimed = claim(path, self._folders.processing)
            if claimed is not None:
                reports.append(self._guarded(claimed))
        return [report for report in reports if report is not None]

    def import_file(self, path: Path, progress: Progress | None = None) -> ImportReport | None:
        """Claim and import ``path`` now, settled or not; None if another worker has it.

        A file from elsewhere is moved in all the same: once imported it belongs in the
        archive, with its error report beside it.
        """
        self._folders.ensure()
        in_processing = path.parent.resolve() == self._folders.processing.resolve()
        claimed = path if in_processing else claim(path, self._folders.processing)
        return None if claimed is None else self._process(claimed, progress)

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

    def _process(self, path: Path, progress: Progress | None = None) -> ImportReport | None:
        with locked(path) as fh:
            if fh is None:
                log.debug("hotline: %s is being imported by another worker", path.name)
                return None
            attempt = count_attempt(path)
            # The bytes are on disk under their hash before any row points at them.
            source = ledger.SourceFile(path.name, *store_file(self._raw_store, fh))
            ledger.note_file(self._session_factory, source, self._clock.now())
            scan = CallLogScan(fh, path.name, columns=self._columns, now=self._clock.now(),
                               sheet=self._sheet)  # fmt: skip
            items = _given_up(path.name, attempt - 1) if attempt > self._max_attempts else scan
            tally = self._take_rows(items, source, progress)
            report = self._finish(path, source, tally, scan.rejected_rows)
        forget_attempts(path)
        return report

    def _take_rows(
        self, items: Iterable[CallRecord | RowError], source: ledger.SourceFile,
        progress: Progress | None,
    ) -> _Tally:  # fmt: skip
        """One transaction per batch (the ledger's); the file is read as the batches go."""
        tally, done = _Tally(), 0
        for batch in _batches(iter(items), self._batch_size):
            records = [item for item in batch if isinstance(item, CallRecord)]
            taken = iter(self._take_calls(records, source))
            for item in batch:  # in file order, so the error report is too
                if isinstance(item, RowError):
                    tally.errors.append(item)
                else:
                    tally.add(self._result(item, next(taken), source))
            done += len(batch)
            if progress is not None:
                progress(done)
        return tally

    def _take_calls(self, records: list[CallRecord], source: ledger.SourceFile) -> list[Outcome]:
        if not records:
            return []
        ready = [ledger.ledger_item(record, source) for record in records]
        return self._ledger.take_prepared([item for item, _ in ready], [p for _, p in ready])

    def _result(
        self, record: CallRecord, outcome: Outcome, source: ledger.SourceFile
    ) -> str | RowError:
        if outcome.kind == "conflict":
            return ledger.call_id_conflict(record, source)
        if outcome.kind == FAILED:
            log.warning("hotline: %s row %d: handler failed (%s)",
                        source.name, record.row, outcome.detail)  # fmt: skip
            return ledger.handler_failure(record, source, outcome.detail)
        return outcome.kind

    def _finish(
        self, path: Path, source: ledger.SourceFile, tally: _Tally, bad_rows: int
    ) -> ImportReport:
        errors = tuple(tally.errors)
        rejected = bool(errors) and tally.imported + tally.duplicates == 0
        folder = self._folders.rejected if rejected else self._archive_folder()
        folder.mkdir(parents=True, exist_ok=True)
        target = free_path(folder, path.name, REPORT_SUFFIX if errors else "")
        report_path = None
        if errors:
            self._quarantine(source, errors, target)
            report_path = write_error_report(
                companion(target, REPORT_SUFFIX), errors, self._report_languages
            )
        os.rename(path, target)
        report = ImportReport(
            file=path.name,
            imported=tally.imported,
            follow_ups=tally.follow_ups,
            duplicates=tally.duplicates,
            rejected_rows=bad_rows + tally.failed_rows,
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


def _given_up(name: str, failures: int) -> Iterator[RowError]:
    yield RowError(
        name, WHOLE_FILE, "", "",
        f"导入已失败 {failures} 次，不再重试；请联系管理员",
        f"the import failed {failures} times and is not retried; ask the administrator",
    )  # fmt: skip


def _batches(
    items: Iterator[CallRecord | RowError], size: int
) -> Iterator[list[CallRecord | RowError]]:
    while batch := list(islice(items, size)):
        yield batch


def _log_traceback(path: Path, exc: BaseException) -> None:
    # A traceback may quote a caller's data (a value in an error message): DEBUG only.
    log.debug("hotline: import of %s failed", path.name, exc_info=exc)


def _log_report(report: ImportReport, rejected: bool) -> None:
    log.info(
        "hotline: %s %s: %d imported (%d follow-ups), %d duplicates, %d rows rejected",
        report.file, "rejected" if rejected else "archived", report.imported,
        report.follow_ups, report.duplicates, report.rejected_rows,
    )  # fmt: skip
