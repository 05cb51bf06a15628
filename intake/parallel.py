"""Parsing mail in a worker process while the main process writes the previous batch.

Parsing (MIME, charsets, HTML to text) and the database work of a batch each take about
half of the time of intake. Python runs one of them at a time per process, so a backlog
(the first run on a full mailbox, a day of mail after an outage) is parsed in a worker
process while the main process commits the batch before. Only what ``prepare`` needs
crosses the process boundary: the raw bytes there, the understood ``Inbound`` back.

The workers are started through a fork server (a clean process that imported the
parser once), never forked from the daemon itself, which runs threads (the scheduler,
IDLE watchers) whose locks a fork would copy in whatever state they are in.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any, TypeVar

from casework.rawstore import RawStore
from intake.ledger import Parser, Prepared, SourceItem, prepare_all

log = logging.getLogger("complaintd.intake")
T = TypeVar("T")

# Everything a worker needs, imported once by the fork server rather than by each worker.
_PRELOAD = ["intake.understand", "intake.ledger", "intake.imap", "casework.rawstore"]


class Preparing:
    """The prepared batch, once ready; ``result`` falls back to preparing it here when
    the worker is gone."""

    def __init__(self, future: Future[list[Prepared]] | None,
                 here: Callable[[], list[Prepared]]) -> None:
        self.future = future
        self.here = here

    @classmethod
    def done(cls, prepared: list[Prepared]) -> Preparing:
        return cls(None, lambda: prepared)

    def result(self) -> list[Prepared]:
        if self.future is not None:
            try:
                return self.future.result()
            except Exception as exc:  # prepare itself never raises: the worker failed
                log.warning("intake: the parse worker failed (%s); parsing this batch "
                            "in-process", type(exc).__name__)
        return self.here()


class ParsePool:
    """Prepares batches in ``workers`` processes (0: in the calling process, on demand).

    Safe to share between mailboxes and their threads (``submit`` is thread-safe)."""

    def __init__(self, raw_store: RawStore, workers: int) -> None:
        self.raw_store = raw_store
        self.workers = workers
        self.sent_to_workers = 0  # batches handed to a worker (for the operator and tests)
        self._executor: ProcessPoolExecutor | None = None
        self._started: Future[None] | None = None  # done once a worker is up

    def start(self, items: Sequence[SourceItem], parse: Parser, now: datetime) -> Preparing:
        """Begin preparing ``items``; the caller goes on with other work meanwhile."""
        def here() -> list[Prepared]:
            return prepare_all(self.raw_store, items, parse, now)

        return Preparing(self.submit(prepare_all, self.raw_store, list(items), parse, now), here)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T] | None:
        """Run ``fn(*args)`` in a worker; None when no worker is up (the caller does it)."""
        executor = self._ready_pool()
        if executor is None:
            return None
        try:
            future = executor.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError):  # broken or shut down: start afresh later
            self.close()
            return None
        self.sent_to_workers += 1
        return future

    def warm_up(self, timeout: float = 30.0) -> bool:
        """Start the workers and wait until they are up; False when there are none."""
        self._ready_pool()
        if self._started is None:
            return False
        try:
            self._started.result(timeout)
        except Exception:  # the worker could not start: batches are parsed in-process
            return False
        return self._ready_pool() is not None

    def _ready_pool(self) -> ProcessPoolExecutor | None:
        """The executor once a worker is up; None until then.

        A worker needs about half a second to start and import the parser, as long as
        the main process takes to parse several batches, so the first batches of a
        backlog are parsed in-process rather than waited for.
        """
        if self.workers <= 0:
            return None
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
            try:
                self._started = self._executor.submit(_up)
            except RuntimeError:
                self.close()
                return None
        if self._started is None or not self._started.done():
            return None
        if self._started.exception() is not None:
            self.close()
            return None
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
            self._started = None


def _up() -> None:
    """Runs in a new worker: its result says the worker is ready."""
