"""Call logs uploaded through the console: what the import port gives back, and the jobs
that run it one at a time in a worker thread while the page polls their progress.

The import itself is the drop folder's (the composition root's ``HotlineUploads``): the
file is archived like a dropped one and the ledger takes every call exactly once, so a
job lost with the process (a restart) loses nothing: the file left in ``processing/`` is
taken up by the daemon's next scan. Only the progress and the summary live here, in memory.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

log = logging.getLogger("complaintd.web")

@dataclass(frozen=True)
class UploadProblem:
    """One line of a call log's error report: where (file, row, column) and why."""

    file: str
    row: str
    column: str
    value: str
    problem_zh: str
    problem_en: str


@dataclass(frozen=True)
class UploadSummary:
    """What the import of one uploaded call log gave (the drop folder's ``ImportReport``)."""

    file: str
    imported: int
    follow_ups: int
    duplicates: int
    rejected_rows: int
    archived_as: str
    problems: tuple[UploadProblem, ...] = ()
    report_csv: bytes | None = None

    @property
    def opened(self) -> int:
        return self.imported - self.follow_ups


class UploadRefused(Exception):
    """A file the hotline import does not take (name, size); ``key`` names the message."""

    def __init__(self, key: str, **facts: object) -> None:
        super().__init__(key)
        self.key = key
        self.facts = facts


class HotlineUploads(Protocol):
    """The drop folder's importer, for a call log uploaded through the console."""

    max_bytes: int

    def check(self, name: str, size: int) -> None:
        """UploadRefused for a file it would not take (not a call log's name, too big)."""
        ...

    def estimate_rows(self, data: bytes) -> int | None: ...

    def import_upload(self, name: str, data: bytes,
                      progress: Callable[[int], None]) -> UploadSummary | None:
        """Import it as if dropped (archived, the ledger's exactly-once); None: busy."""
        ...




@dataclass
class UploadJob:
    """One upload being imported: rows read so far, then the summary (or the failure)."""

    id: str
    owner: int  # the account that uploaded it: nobody else sees the job
    file: str
    started: datetime
    total: int | None
    rows_read: int = 0
    summary: UploadSummary | None = None
    failure: str = ""  # a message key: "upload_busy" | "upload_failed"

    @property
    def finished(self) -> bool:
        return self.summary is not None or bool(self.failure)

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(99 if not self.finished else 100, self.rows_read * 100 // self.total)


class UploadJobs:
    """The uploads of this process, imported one at a time (one worker thread: a call
    log is written by batches into the database, and two at once would only contend)."""

    KEEP = 50

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, UploadJob] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotline-upload")

    def start(self, door: HotlineUploads, *, owner: int, name: str, data: bytes,
              now: datetime) -> UploadJob:
        job = UploadJob(secrets.token_urlsafe(16), owner, name, now, door.estimate_rows(data))
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self.KEEP:
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, door, job, data)
        return job

    def get(self, job_id: str, owner: int) -> UploadJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def of(self, owner: int) -> list[UploadJob]:
        with self._lock:
            return [j for j in reversed(self._jobs.values()) if j.owner == owner]

    def _run(self, door: HotlineUploads, job: UploadJob, data: bytes) -> None:
        def progress(rows: int) -> None:
            job.rows_read = rows

        try:
            summary = door.import_upload(job.file, data, progress)
        except UploadRefused as exc:
            job.failure = exc.key
            return
        except Exception as exc:  # the file stays in processing/: the next scan retries it
            log.error("hotline upload %s failed (%s); traceback at DEBUG", job.id,
                      type(exc).__name__)
            log.debug("hotline upload %s", job.id, exc_info=exc)
            job.failure = "upload_failed"
            return
        if summary is None:
            job.failure = "upload_busy"
        else:
            job.summary = summary
