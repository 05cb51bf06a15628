"""Instant pick-up: a watchdog observer on the drop folder asks for a scan when a call log
appears, instead of waiting for the periodic one (which stays as the safety net).

Nothing is imported on the watchdog thread: ``request_scan`` is expected to be cheap (the
daemon moves its "hotline" job to now). The request is made once the folder has been
quiet for ``settle_seconds`` (a file being copied changes until it is complete), and made
again while a call log is still waiting in the folder — the scan may have found it still
changing, or the job may have been busy with another file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from intake.hotline.folders import is_ignored
from intake.hotline.formats import is_call_log_name

log = logging.getLogger("complaintd.hotline")

_WATCHED = frozenset({"created", "modified", "moved", "closed"})


class DropWatcher(FileSystemEventHandler):
    """Watches one folder (not its work folders below) for call logs."""

    def __init__(
        self, drop: Path, request_scan: Callable[[], None], *, settle_seconds: float,
        max_repeats: int = 20,
    ) -> None:  # fmt: skip
        super().__init__()
        self.drop = drop
        self._request_scan = request_scan
        self._delay = settle_seconds + 0.5
        self._max_repeats = max_repeats
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._repeats = 0
        self._observer = Observer()

    def start(self) -> None:
        self.drop.mkdir(parents=True, exist_ok=True)
        self._observer.schedule(self, str(self.drop), recursive=False)
        self._observer.start()
        log.info("hotline: watching the drop folder for new call logs")

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=10)
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in _WATCHED:
            return
        raw = event.dest_path if event.event_type == "moved" else event.src_path
        path = Path(raw if isinstance(raw, str) else raw.decode())
        if path.parent != self.drop or not _wanted(path.name):
            return
        log.debug("hotline: %s event on %s", event.event_type, path.name)
        self._arm(reset_repeats=True)

    def _arm(self, *, reset_repeats: bool) -> None:
        with self._lock:
            if reset_repeats:
                self._repeats = 0
            if self._timer is not None:
                self._timer.cancel()  # still changing: wait until it has been quiet
            self._timer = threading.Timer(self._delay, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        try:
            self._request_scan()
        except Exception:  # the scheduler may be shutting down; the periodic scan remains
            log.warning("hotline: could not request a scan", exc_info=True)
            return
        with self._lock:
            self._repeats += 1
            again = self._repeats < self._max_repeats
        if again and self._waiting():
            self._arm(reset_repeats=False)

    def _waiting(self) -> bool:
        try:
            return any(p.is_file() and _wanted(p.name) for p in self.drop.iterdir())
        except OSError:
            return False


def _wanted(name: str) -> bool:
    return not is_ignored(name) and is_call_log_name(name)
