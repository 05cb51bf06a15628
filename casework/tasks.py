"""Follow-up call tasks: the phone calls hotline staff owe a caller.

* ``acknowledge``: a caller without an email address gets no acknowledgement mail, so staff
  call back with the reference number and the committed time limit (clause 二(二)), by
  the acknowledgement deadline.
* ``callback``: the caller asked to be called back (是否回访 = 是): the follow-up call on
  the outcome and satisfaction (clause 五(三)), by the resolution deadline.

Tasks are written in the case's own transaction, so a case never exists without the calls
it needs; staff list the due ones (``complaintd hotline callbacks``) and close them with
an outcome (``complaintd hotline done``), and receive the due list by mail every day.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from casework.inbound import Inbound
from casework.models import UP, Base, Case
from casework.transitions import record

ACKNOWLEDGE = "acknowledge"
CALLBACK = "callback"
KINDS = (ACKNOWLEDGE, CALLBACK)
ACTOR_TASKS = "system:call-tasks"


class CallTask(Base):
    """One phone call staff owe a caller about a case."""

    __tablename__ = "call_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(40))
    due: Mapped[date] = mapped_column(index=True)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(320))
    outcome: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(cascade=UP)


def plan_calls(session: Session, case: Case, inbound: Inbound, *, mailed: bool,
               now: datetime) -> list[CallTask]:  # fmt: skip
    """The calls a new hotline case needs, added to ``session``; none without a phone.

    ``mailed``: the acknowledgement went out by mail, so no acknowledgement call is due.
    """
    phone = inbound.sender_phone
    if inbound.channel != "hotline" or not phone:
        return []
    wanted: list[tuple[str, date | None]] = []
    if not mailed:
        wanted.append((ACKNOWLEDGE, case.acknowledge_due))
    if inbound.extra.get("callback") == "yes":
        wanted.append((CALLBACK, case.resolve_due))
    tasks = [
        CallTask(case=case, kind=kind, phone=phone, due=due or now.date(), created_at=now)
        for kind, due in wanted
    ]
    session.add_all(tasks)
    for task in tasks:
        record(case, "call_task_planned", actor=ACTOR_TASKS, at=now,
               details={"kind": task.kind, "due": task.due.isoformat()})  # fmt: skip
    return tasks


def due_tasks(session: Session, today: date | None = None) -> list[CallTask]:
    """Open tasks, oldest due first; only those due by ``today`` when it is given."""
    query = select(CallTask).where(CallTask.done_at.is_(None))
    if today is not None:
        query = query.where(CallTask.due <= today)
    # Every caller shows the case beside the task: one query for them all, not one a task.
    query = query.options(selectinload(CallTask.case))
    return list(session.scalars(query.order_by(CallTask.due, CallTask.id)))


class TaskNotFound(LookupError):
    pass


class TaskAlreadyDone(ValueError):
    pass


def complete_task(session: Session, task_id: int, *, outcome: str, by: str,
                  now: datetime) -> CallTask:  # fmt: skip
    """Close a task with what came of the call; recorded on the case's timeline."""
    task = session.get(CallTask, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    if task.done_at is not None:
        raise TaskAlreadyDone(task_id)
    task.done_at, task.done_by, task.outcome = now, by, outcome
    record(task.case, "call_task_done", actor=by, at=now,
           details={"task": task.id, "kind": task.kind, "outcome": outcome})  # fmt: skip
    return task
