"""The hotline's daily list of calls to make, mailed to hotline staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from casework.tasks import ACKNOWLEDGE, CallTask, due_tasks
from notifications.contexts import CallbackRow, OrganisationInfo
from notifications.notices import queue_hotline_callback_list
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer

_REASONS = {
    ACKNOWLEDGE: ("来电人没有邮箱：请电话告知受理编号和办结期限",
                  "no email address: call with the reference and the time limit"),
    "callback": ("来电人要求回访", "the caller asked to be called back"),
}  # fmt: skip


def queue_callback_lists(
    session: Session, *, recipients: Sequence[str], today: date, language: str,
    identity: MailIdentity, renderer: TemplateRenderer, org: OrganisationInfo, now: datetime,
) -> tuple[int, int]:  # fmt: skip
    """Queue the list of calls due by ``today`` to each recipient: (calls, lists queued).

    Nothing is queued on a day without due calls. Once per recipient and day: the outbox
    key makes a second run on the same day (a restart) queue nothing new.
    """
    rows = [callback_row(task, language) for task in due_tasks(session, today)]
    if not rows or not recipients:
        return len(rows), 0
    queued = 0
    for recipient in recipients:
        mail = queue_hotline_callback_list(
            session, recipient_email=recipient, list_date=today, rows=rows,
            identity=identity, renderer=renderer, org=org, now=now, language=language,
        )  # fmt: skip
        queued += mail is not None
    return len(rows), queued


def callback_row(task: CallTask, language: str) -> CallbackRow:
    zh, en = _REASONS.get(task.kind, (task.kind, task.kind))
    party = task.case.complainant
    name = None if party is None or party.anonymous else party.name
    return CallbackRow(reference=task.case.reference, name=name, phone=task.phone,
                       reason=en if language == "en" else zh, due=task.due)  # fmt: skip
