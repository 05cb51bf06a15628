"""The daemon: APScheduler runs the jobs; a signal lets the work in hand finish, then exits."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from casework.clock import SHANGHAI
from complaintd.app import App
from complaintd.hotline_jobs import hotline_soon, schedule_callback_list, start_watcher
from complaintd.mailwatch import start_watchers

log = logging.getLogger("complaintd.service")


def build_scheduler(app: App) -> BackgroundScheduler:
    """One job per duty; never two copies of a job at once, missed runs coalesced."""
    scheduler = BackgroundScheduler(
        timezone=SHANGHAI,
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300},
    )
    every = app.settings.schedule
    now = datetime.now(SHANGHAI)

    def poll() -> None:
        outcomes, _errors = app.poll_mail(skip_watched=True)  # IDLE mailboxes have a thread
        if any(o.kind in {"case", "follow_up", "staff_command", "staff_note",
                          "command_refused", "authority_reply"} for o in outcomes):
            # Acknowledge at once rather than at the sender's next tick.
            scheduler.modify_job("send", next_run_time=datetime.now(SHANGHAI))

    jobs: list[tuple[str, Callable[[], object], float]] = [
        ("poll", poll, every.poll_seconds),
        ("hotline", app.import_hotline, every.hotline_seconds),
        ("send", app.send_outbox, every.send_seconds),
        ("sweep", app.sweep_deadlines, every.sweep_seconds),
        ("reconcile", app.reconcile_mailboxes, every.reconcile_seconds),
    ]
    for job_id, func, seconds in jobs:
        scheduler.add_job(_guarded(job_id, func), "interval", seconds=seconds, id=job_id,
                          next_run_time=now)
    schedule_callback_list(app, scheduler, _guarded)  # the hotline's daily list of calls
    return scheduler


def _send_now(scheduler: BackgroundScheduler) -> None:
    # A watcher took a new complaint in: acknowledge at once, not at the sender's next tick.
    scheduler.modify_job("send", next_run_time=datetime.now(SHANGHAI))


def _guarded(job_id: str, func: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            func()
        except Exception:  # the daemon outlives any one failed round
            log.exception("job %s failed", job_id)

    return run


def run_forever(app: App, stop: threading.Event | None = None,
                on_started: Callable[[], None] | None = None) -> None:
    """Run until SIGTERM/SIGINT (or ``stop`` is set); the job in hand finishes first."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        _install_signal_handlers(stop)
    scheduler = build_scheduler(app)
    scheduler.start()
    mailbox_threads = start_watchers(app, stop, lambda: _send_now(scheduler))
    watcher = start_watcher(app, hotline_soon(scheduler))  # instant pick-up of call logs
    log.info("service started")
    if on_started:
        on_started()
    stop.wait()
    log.info("service stopping: waiting for running jobs")
    if watcher is not None:
        watcher.stop()
    scheduler.shutdown(wait=True)
    for thread in mailbox_threads:
        thread.join(timeout=30)
    log.info("service stopped")


def _install_signal_handlers(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s received", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
