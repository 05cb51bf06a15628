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
from complaintd.mailwatch import start_watchers
from complaintd.ops.status import start_metrics_server
from intake.hotline.watch import DropWatcher

log = logging.getLogger("complaintd.service")
CALENDAR_CHECK_SECONDS = 3600
SEARCH_SECONDS = 5
SEARCH_REPAIR_SECONDS = 3600


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
                          "command_refused", "authority_reply", "authority_unverified"}
               for o in outcomes):
            # Acknowledge at once rather than at the sender's next tick.
            scheduler.modify_job("send", next_run_time=datetime.now(SHANGHAI))

    jobs: list[tuple[str, Callable[[], object], float]] = [
        ("poll", poll, every.poll_seconds),
        ("hotline", app.import_hotline, every.hotline_seconds),
        ("send", app.send_outbox, every.send_seconds),
        ("sweep", app.sweep_deadlines, every.sweep_seconds),
        ("reconcile", app.reconcile_mailboxes, every.reconcile_seconds),
        # Next year's holidays, from 1 November: hourly, mailed at most once a day.
        ("calendar", app.alert_calendar, CALENDAR_CHECK_SECONDS),
        # The search index: new cases and mail within seconds, missed ones hourly.
        ("search", app.index_search, SEARCH_SECONDS),
        ("search-repair", app.repair_search, SEARCH_REPAIR_SECONDS),
    ]
    for job_id, func, seconds in jobs:
        scheduler.add_job(_guarded(job_id, func), "interval", seconds=seconds, id=job_id,
                          next_run_time=now)
    _schedule_callback_list(app, scheduler)  # the hotline's daily list of calls
    _schedule_purge(app, scheduler)  # personal data past its retention
    _schedule_monthly_summary(app, scheduler)  # the director's figures of last month
    return scheduler


def _schedule_purge(app: App, scheduler: BackgroundScheduler) -> None:
    """The daily retention purge at ``privacy.purge_time`` when ``privacy.purge`` is on."""
    privacy = app.settings.privacy
    if not privacy.purge:
        return
    hour, minute = (int(part) for part in privacy.purge_time.split(":"))
    scheduler.add_job(_guarded("purge", app.purge_personal_data), "cron",
                      hour=hour, minute=minute, id="purge")  # fmt: skip


def _schedule_callback_list(app: App, scheduler: BackgroundScheduler) -> None:
    """The daily "callbacks" job at ``hotline.callback_list_time``, Shanghai time."""
    hotline = app.settings.hotline
    if not hotline.callback_list_to:
        return
    hour, minute = (int(part) for part in hotline.callback_list_time.split(":"))
    scheduler.add_job(_guarded("callbacks", app.queue_callback_lists), "cron",
                      hour=hour, minute=minute, id="callbacks")  # fmt: skip


def _schedule_monthly_summary(app: App, scheduler: BackgroundScheduler) -> None:
    """The "monthly" job on ``reports.monthly_day`` at ``reports.monthly_time``, Shanghai
    time; a run missed (the service down that day) is not made up: the outbox key lets it
    be run by hand (``complaintd report monthly``) without sending twice."""
    from complaintd.reporting import mail_monthly_summary

    reports = app.settings.reports
    if not reports.director_to:
        return
    hour, minute = (int(part) for part in reports.monthly_time.split(":"))
    def monthly() -> None:
        with app.locks.hold("monthly") as mine:  # one daemon of several sends it
            if mine:
                mail_monthly_summary(app)

    scheduler.add_job(_guarded("monthly", monthly), "cron",
                      day=reports.monthly_day, hour=hour, minute=minute, id="monthly")


def _start_drop_watcher(app: App, scheduler: BackgroundScheduler) -> DropWatcher | None:
    """Watch the hotline drop folder: a call log that arrives runs the "hotline" job now
    instead of at its next tick (the periodic scan stays as the safety net)."""
    hotline = app.settings.hotline
    if hotline.drop_dir is None or not hotline.watch:
        return None

    def request_scan() -> None:
        scheduler.modify_job("hotline", next_run_time=datetime.now(SHANGHAI))

    watcher = DropWatcher(hotline.drop_dir, request_scan, settle_seconds=hotline.min_age_seconds)
    try:
        watcher.start()
    except OSError as exc:  # e.g. the inotify watch limit: the periodic scan still runs
        log.warning("hotline: cannot watch the drop folder (%s); periodic scan only", exc)
        return None
    return watcher


def _send_now(scheduler: BackgroundScheduler) -> None:
    # A watcher took a new complaint in: acknowledge at once, not at the sender's next tick.
    scheduler.modify_job("send", next_run_time=datetime.now(SHANGHAI))


def _guarded(job_id: str, func: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            func()
        except Exception as exc:  # the daemon outlives any one failed round
            # The type only above DEBUG: an exception's text may quote a complainant's data.
            log.error("job %s failed: %s", job_id, type(exc).__name__)
            log.debug("job %s traceback", job_id, exc_info=exc)

    return run


def run_forever(app: App, stop: threading.Event | None = None,
                on_started: Callable[[], None] | None = None) -> None:
    """Run until SIGTERM/SIGINT (or ``stop`` is set); the job in hand finishes first."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        _install_signal_handlers(stop)
    scheduler = build_scheduler(app)
    metrics = start_metrics_server(app)  # [ops] metrics_port; None when not configured
    scheduler.start()
    mailbox_threads = start_watchers(app, stop, lambda: _send_now(scheduler))
    watcher = _start_drop_watcher(app, scheduler)  # instant pick-up of call logs
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
    if metrics is not None:
        metrics.shutdown()
    log.info("service stopped")


def _install_signal_handlers(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s received", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
