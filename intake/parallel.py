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
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any, TypeVar

from casework.rawstore import RawStore
from intake.ledger import Parser, Prepared, SourceItem, Understood, prepare_all

log = logging.getLogger("complaintd.intake")
T = TypeVar("T")

# Everything a worker needs, imported once by the fork server rather than by each worker.
_PRELOAD = ["intake.understand", "intake.ledger", "intake.imap", "casework.rawstore"]


class ParseTimeLimit(Exception):
    """Raised inside a parse that ran past ``intake.parse_seconds`` in a parse worker; the
    mail parser reads the mail degraded instead (``intake.understand``)."""


def _too_long(_signum: int, _frame: FrameType | None) -> None:
    raise ParseTimeLimit("the parse ran past its time limit")


@dataclass(frozen=True)
class TimeLimited:
    """``parse`` ended after ``seconds`` per item (a ``Parser``; used in parse workers).

    The alarm interrupts Python code between two steps, so the mail parser's own
    ``except`` turns it into a degraded reading of that one mail and the batch goes on.
    Only a process's main thread receives signals, as a worker's task runs; elsewhere the
    parse runs unlimited (the caller's hard limit, ``ParsePool.wait``, still holds).
    """

    parse: Parser
    seconds: float

    def __call__(self, item: SourceItem, digest: str, now: datetime) -> Understood:
        if threading.current_thread() is not threading.main_thread():
            return self.parse(item, digest, now)
        previous = signal.signal(signal.SIGALRM, _too_long)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            return self.parse(item, digest, now)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


class Preparing:
    """The prepared batch, once ready; None when no worker prepared it (none was up, it
    failed or ran past its hard limit): the caller then takes the batch itself
    (``Ledger.take_batch``, which records each try before it parses)."""

    def __init__(self, future: Future[list[Prepared]] | None, pool: ParsePool | None = None,
                 count: int = 0) -> None:
        self.future = future
        self.pool = pool
        self.count = count
        self.prepared: list[Prepared] | None = None

    @classmethod
    def done(cls, prepared: list[Prepared]) -> Preparing:
        ready = cls(None)
        ready.prepared = prepared
        return ready

    def result(self) -> list[Prepared] | None:
        if self.future is not None and self.pool is not None:
            self.prepared = self.pool.wait(self.future, self.count)
        return self.prepared


class ParsePool:
    """Prepares batches in ``workers`` processes (0: in the calling process, on demand).

    Safe to share between mailboxes and their threads (``submit`` is thread-safe)."""

    def __init__(self, raw_store: RawStore, workers: int, parse_seconds: float = 30.0) -> None:
        self.raw_store = raw_store
        self.workers = workers
        # A worker's parse of one mail ends after this long (the mail is read degraded).
        self.parse_seconds = parse_seconds
        # Beyond every mail at its limit, for the fetch and the raw store's writes.
        self.hard_margin = 60.0
        self.sent_to_workers = 0  # batches handed to a worker (for the operator and tests)
        self._executor: ProcessPoolExecutor | None = None
        self._started: Future[None] | None = None  # done once a worker is up

    def start(self, items: Sequence[SourceItem], parse: Parser, now: datetime) -> Preparing:
        """Begin preparing ``items``; the caller goes on with other work meanwhile."""
        future = self.submit(prepare_all, self.raw_store, list(items), self.limited(parse), now)
        return Preparing(future, self, len(items))

    def limited(self, parse: Parser) -> Parser:
        """``parse`` as a worker runs it: each mail within ``parse_seconds``."""
        return TimeLimited(parse, self.parse_seconds)

    def wait(self, future: Future[T], items: int) -> T | None:
        """``future``'s result, or None when the worker failed or is still at work past
        the hard limit (the soft limit per mail did not stop it: a hang in C code). A
        worker past its limit is killed; the pool starts afresh for the next batch."""
        try:
            return future.result(timeout=self.hard_limit(items))
        except FutureTimeout:
            log.warning("intake: the parse worker ran past its time limit on a batch of %d; "
                        "it is ended and the batch is taken in-process", items)
            self.kill()
        except Exception as exc:  # prepare itself never raises: the worker failed
            log.warning("intake: the parse worker failed (%s); taking this batch in-process",
                        type(exc).__name__)
        return None

    def hard_limit(self, items: int) -> float:
        return self.parse_seconds * (items + 1) + self.hard_margin

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

    def kill(self) -> None:
        """End the workers now (one is stuck), without waiting for their work."""
        executor = self._executor
        if executor is None:
            return
        # The standard library has no public way to end a stuck worker: its processes.
        processes: dict[int, Any] = getattr(executor, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()
        self._executor = None
        self._started = None
        executor.shutdown(wait=False, cancel_futures=True)


def _up() -> None:
    """Runs in a new worker: its result says the worker is ready."""
