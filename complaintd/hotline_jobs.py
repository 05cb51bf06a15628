"""The hotline's parts of the daemon, built from the settings: the importer, the drop-folder
watcher and the daily list of due follow-up calls mailed to hotline staff."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler

from casework.clock import SHANGHAI
from casework.tasks import ACKNOWLEDGE, CallTask, due_tasks
from intake.hotline import ColumnMap, HotlineFolders, HotlineImporter
from intake.hotline.watch import DropWatcher
from notifications.contexts import CallbackRow
from notifications.notices import queue_hotline_callback_list

if TYPE_CHECKING:
    from complaintd.app import App

log = logging.getLogger("complaintd.hotline")

_REASONS = {
    ACKNOWLEDGE: ("来电人没有邮箱：请电话告知受理编号和办结期限",
                  "no email address: call with the reference and the time limit"),
    "callback": ("来电人要求回访", "the caller asked to be called back"),
}  # fmt: skip


def build_importer(app: App) -> HotlineImporter | None:
    """The importer for the configured drop folder; None when the hotline is off."""
    hotline = app.settings.hotline
    if hotline.drop_dir is None:
        return None
    return HotlineImporter(
        app.session_factory, app.raw_store, app.clock, app.pipeline,
        HotlineFolders.inside(hotline.drop_dir),
        columns=ColumnMap.default().extended(hotline.columns), sheet=hotline.sheet or None,
        report_languages=hotline.report_languages, min_age_seconds=hotline.min_age_seconds,
        batch_size=hotline.batch_size,
    )  # fmt: skip


def start_watcher(app: App, request_scan: Callable[[], None]) -> DropWatcher | None:
    """Watch the drop folder and call ``request_scan`` when a call log arrives."""
    hotline = app.settings.hotline
    if hotline.drop_dir is None or not hotline.watch:
        return None
    watcher = DropWatcher(hotline.drop_dir, request_scan, settle_seconds=hotline.min_age_seconds)
    try:
        watcher.start()
    except OSError as exc:  # e.g. the inotify watch limit: the periodic scan still runs
        log.warning("hotline: cannot watch the drop folder (%s); periodic scan only", exc)
        return None
    return watcher


def queue_callback_lists(app: App) -> int:
    """Mail today's due follow-up calls to each configured recipient; the number of lists.

    Nothing is sent on a day without due calls. Once per recipient and day: the outbox key
    makes a second run on the same day (a restart) queue nothing new.
    """
    recipients = app.settings.hotline.callback_list_to
    now = app.clock.now()
    today = now.astimezone(SHANGHAI).date()
    language = app.settings.organisation.language
    queued = 0
    with app.session_factory.begin() as session:
        rows = [callback_row(task, language) for task in due_tasks(session, today)]
        if not rows or not recipients:
            return 0
        for recipient in recipients:
            mail = queue_hotline_callback_list(
                session, recipient_email=recipient, list_date=today, rows=rows,
                identity=app.identity, renderer=app.renderer, org=app.organisation, now=now,
                language=language,
            )  # fmt: skip
            queued += mail is not None
    log.info("hotline: callback list of %d calls queued for %d recipients", len(rows), queued)
    return queued


def callback_row(task: CallTask, language: str) -> CallbackRow:
    zh, en = _REASONS.get(task.kind, (task.kind, task.kind))
    party = task.case.complainant
    name = None if party is None or party.anonymous else party.name
    return CallbackRow(reference=task.case.reference, name=name, phone=task.phone,
                       reason=en if language == "en" else zh, due=task.due)  # fmt: skip


def schedule_callback_list(
    app: App, scheduler: BackgroundScheduler,
    guard: Callable[[str, Callable[[], object]], Callable[[], None]],
) -> None:  # fmt: skip
    """The daily "callbacks" job at ``hotline.callback_list_time``, Shanghai time."""
    hotline = app.settings.hotline
    if not hotline.callback_list_to:
        return
    hour, minute = (int(part) for part in hotline.callback_list_time.split(":"))
    scheduler.add_job(guard("callbacks", lambda: queue_callback_lists(app)), "cron",
                      hour=hour, minute=minute, id="callbacks")  # fmt: skip


def hotline_soon(scheduler: BackgroundScheduler) -> Callable[[], None]:
    """What the watcher calls: run the "hotline" job now instead of at its next tick."""

    def request() -> None:
        scheduler.modify_job("hotline", next_run_time=datetime.now(SHANGHAI))

    return request
