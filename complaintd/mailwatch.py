"""One thread per IMAP mailbox in the daemon: IDLE when the server offers it, so a new
complaint is taken in within seconds; a full poll at least every ``idle_seconds`` anyway;
polling where IDLE is missing; reconnect with backoff after any error, never dying.

A failing mailbox raises the operator alert (``App.mailbox_failed``: an ERROR line and the
stored status) and waits; the other mailboxes' threads are not touched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from complaintd.app import App, mailbox_lock
from complaintd.settings import ImapMailbox

log = logging.getLogger("complaintd.mailwatch")


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    most: float = 300.0

    def next(self, delay: float) -> float:
        return min(max(delay, self.first) * 2, self.most)


class MailboxWatcher(threading.Thread):
    def __init__(self, app: App, box: ImapMailbox, stop: threading.Event,
                 on_new: Callable[[], None] = lambda: None, poll_seconds: float = 60.0,
                 backoff: Backoff | None = None) -> None:
        super().__init__(name=f"mailbox-{box.name}", daemon=True)
        self.app = app
        self.box = box
        self.stop = stop
        self.on_new = on_new
        self.poll_seconds = poll_seconds
        self.backoff = backoff or Backoff()
        self.polls = 0  # completed polls, for tests and status

    def run(self) -> None:
        delay = self.backoff.first
        while not self.stop.is_set():
            polls = self.polls
            try:
                self._connected()
            except Exception as exc:  # the thread outlives any network or server error
                self.app.mailbox_failed(self.box, exc)
                delay = self.backoff.first if self.polls > polls else delay
                self.stop.wait(delay)
                delay = self.backoff.next(delay)

    def _connected(self) -> None:
        poller = self.app.imap_poller(self.box)
        with poller.connect() as client:
            while not self.stop.is_set():
                # Another daemon polling this mailbox now takes the news; we wait again.
                with self.app.locks.hold(mailbox_lock(self.box)) as mine:
                    report = poller.poll(client) if mine else None
                if report is not None:
                    self.polls += 1
                    self.app.mail_states.succeeded(poller.source, self.box.folder)
                    self.app.metrics.took_mail(self.box.name, report.outcomes)
                    if any(o.kind in {"case", "follow_up"} for o in report.outcomes):
                        self.on_new()
                self._wait(client)

    def _wait(self, client: Any) -> None:
        if not (self.box.idle and client.has_capability("IDLE")):
            self.stop.wait(self.poll_seconds)
            return
        deadline = time.monotonic() + self.box.idle_seconds
        client.idle()
        try:
            while not self.stop.is_set() and time.monotonic() < deadline:
                # Short checks so a stop request is noticed within a second.
                responses = client.idle_check(timeout=1)
                if any(_is_bye(r) for r in responses):
                    raise ConnectionError("the server ended the IMAP session (BYE)")
                if any(_is_news(r) for r in responses):
                    return
        finally:
            client.idle_done()


def _is_bye(response: Any) -> bool:
    return isinstance(response, tuple) and bool(response) and response[0] == b"BYE"


def _is_news(response: Any) -> bool:
    return isinstance(response, tuple) and len(response) > 1 and response[1] in {
        b"EXISTS", b"RECENT"}


def start_watchers(app: App, stop: threading.Event, on_new: Callable[[], None],
                   ) -> list[MailboxWatcher]:
    """A watcher per IMAP mailbox with ``idle = true``; the scheduler polls the others."""
    watchers = [MailboxWatcher(app, box, stop, on_new, app.settings.schedule.poll_seconds)
                for box in app.settings.mailbox if isinstance(box, ImapMailbox) and box.idle]
    for watcher in watchers:
        watcher.start()
        log.info("mailbox %s: watching (IDLE when offered)", watcher.box.name)
    return watchers
