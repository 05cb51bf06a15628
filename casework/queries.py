"""Reading cases and what surrounds them: every list, count and search staff are shown.

Plain functions of an open ``Session`` and explicit arguments: the day is passed in
(``today``), never read from a clock, so a report can be run for any day. They return
models or small frozen dataclasses and never write. The CLI uses them today; the staff
console and the annual report will use the same ones, so filters are keyword arguments
(``CaseFilters``), listings take ``limit``/``offset``, and every function over cases takes
``hidden_from``: a staff id whose conflict-of-interest exclusions (``CaseExclusion``) hide
those cases from what is returned.

Outbox mail is notifications' own (``notifications.review.list_mail``) and mailbox
positions are intake's own (``intake.mailstate.MailboxStates.all``): casework imports
neither, so those two listings stay beside their tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypedDict, TypeVarTuple, Unpack

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, selectinload

from casework import search as _search
from casework.models import (
    Assignment,
    Case,
    CaseExclusion,
    Extension,
    MaterialRequest,
    Message,
    Party,
    QuarantineItem,
    Referral,
    Violation,
)
from casework.status import OPEN_STATUSES, CaseStatus
from casework.tasks import due_tasks

__all__ = [
    "CaseFilters",
    "MaterialWait",
    "ViolationEntry",
    "awaiting_material",
    "case_by_reference",
    "count_by_status",
    "count_cases",
    "due_soon",
    "due_tasks",
    "excluded_staff",
    "find_cases",
    "handled_by",
    "is_overdue",
    "list_cases",
    "overdue_by_authority",
    "overdue_by_authority_filter",
    "overdue_cases",
    "overdue_filter",
    "pending_extensions",
    "quarantine_item",
    "quarantine_items",
    "referral_answers_due",
    "text_match",
    "violation_register",
]

_Row = TypeVarTuple("_Row")


class CaseFilters(TypedDict, total=False):
    """Which cases a listing or a count covers; a filter left out (or None) matches all.

    ``overdue_on``: only open cases whose resolution deadline is before that day.
    ``authority_overdue_on``: only cases with a referral unanswered past its answer date.
    ``handler``: the handler of the case's current (not ended) assignment.
    ``search``: part of the reference or the subject, any case, taken literally.
    ``text``: the console's search (``text_match``, served by ``casework.search``'s index).
    ``due_from`` / ``due_until``: resolution deadlines in that range, both days included.
    ``open_only``: only cases in an open status.
    ``received_from`` / ``received_before``: aware times, half-open (a year for a report).
    ``hidden_from``: a staff id; cases they are excluded from (conflict of interest) are left
    out.
    """

    status: CaseStatus | None
    overdue_on: date | None
    authority_overdue_on: date | None
    channel: str | None
    category: str | None
    department: str | None
    handler: str | None
    search: str | None
    received_from: datetime | None
    received_before: datetime | None
    hidden_from: str | None
    text: str | None
    due_from: date | None
    due_until: date | None
    open_only: bool


@dataclass(frozen=True)
class MaterialWait:
    """An open case waiting for material, with the (earliest) request still unanswered."""

    case: Case
    request: MaterialRequest


@dataclass(frozen=True)
class ViolationEntry:
    """A row of the violations register with the reference of its case."""

    violation: Violation
    reference: str


# -- cases -------------------------------------------------------------------------------


def overdue_filter(today: date) -> ColumnElement[bool]:
    """A SQL condition for open cases whose resolution deadline has passed."""
    return (Case.resolve_due < today) & Case.status.in_(list(OPEN_STATUSES))


def is_overdue(case: Case, today: date) -> bool:
    """``overdue_filter`` for a loaded case (marks in a listing without a second query)."""
    return (case.status in OPEN_STATUSES and case.resolve_due is not None
            and case.resolve_due < today)  # fmt: skip


def list_cases(session: Session, *, limit: int | None = 200, offset: int = 0,
               **filters: Unpack[CaseFilters]) -> list[Case]:  # fmt: skip
    """Cases matching ``filters``, newest first (the last opened first), a page at a time."""
    return find_cases(session, limit=limit, offset=offset, count=False, **filters)[0]


def count_cases(session: Session, **filters: Unpack[CaseFilters]) -> int:
    """How many cases match ``filters`` (the total behind a page of ``list_cases``)."""
    query = select(func.count(Case.id)).where(*_case_conditions(session, filters))
    return int(session.scalar(query) or 0)


def count_by_status(session: Session, **filters: Unpack[CaseFilters]) -> dict[CaseStatus, int]:
    """Cases matching ``filters`` per status; every status is a key, in the enum's order."""
    query = (select(Case.status, func.count(Case.id)).where(*_case_conditions(session, filters))
             .group_by(Case.status))  # fmt: skip
    found: dict[CaseStatus, int] = {status: n for status, n in session.execute(query)}
    return {status: found.get(status, 0) for status in CaseStatus}


def case_by_reference(session: Session, reference: str, *,
                      hidden_from: str | None = None) -> Case | None:  # fmt: skip
    """One case with its timeline and messages loaded (what ``cases show`` prints).

    The reference is matched as staff type it (any case, spaces around it ignored); a case
    ``hidden_from`` may not see is None, as if it did not exist.
    """
    query = (select(Case).where(Case.reference == reference.strip().upper(),
                                *_visible_to(hidden_from))
             .options(selectinload(Case.events), selectinload(Case.messages)))  # fmt: skip
    return session.scalar(query)


def overdue_cases(session: Session, *, today: date, hidden_from: str | None = None,
                  limit: int | None = None, offset: int = 0) -> list[Case]:  # fmt: skip
    """Open cases past their resolution deadline, the longest overdue first."""
    query = (select(Case).where(overdue_filter(today), *_visible_to(hidden_from))
             .order_by(Case.resolve_due, Case.id))  # fmt: skip
    return list(session.scalars(_page(query, limit, offset)))


def due_soon(session: Session, *, today: date, until: date, hidden_from: str | None = None,
             limit: int | None = None, offset: int = 0) -> list[Case]:  # fmt: skip
    """Open cases due from ``today`` to ``until`` (both included), the soonest first.

    ``until`` is the cut-off a caller counts in working days, e.g.
    ``calendar.add_working_days(today, 3)`` (``casework.calendar.WorkCalendar``). Cases
    already overdue are ``overdue_cases``'s, not these.
    """
    query = (select(Case).where(Case.status.in_(list(OPEN_STATUSES)),
                                Case.resolve_due >= today, Case.resolve_due <= until,
                                *_visible_to(hidden_from))
             .order_by(Case.resolve_due, Case.id))  # fmt: skip
    return list(session.scalars(_page(query, limit, offset)))


def awaiting_material(session: Session, *, hidden_from: str | None = None,
                      limit: int | None = None, offset: int = 0) -> list[MaterialWait]:  # fmt: skip
    """Open cases with a material request not yet answered, the longest waiting first."""
    # Clause 四(四) allows one notice of missing material; should a case ever have two
    # open, it is listed once, under the earlier.
    first_open = (select(func.min(MaterialRequest.id))
                  .where(MaterialRequest.completed_at.is_(None))
                  .group_by(MaterialRequest.case_id))  # fmt: skip
    query = (select(Case, MaterialRequest).join(MaterialRequest, MaterialRequest.case_id == Case.id)
             .where(MaterialRequest.id.in_(first_open), Case.status.in_(list(OPEN_STATUSES)),
                    *_visible_to(hidden_from))
             .order_by(MaterialRequest.requested_at, MaterialRequest.id))  # fmt: skip
    return [MaterialWait(case, request)
            for case, request in session.execute(_page(query, limit, offset))]


def referral_answers_due(session: Session, *, due_by: date, hidden_from: str | None = None,
                         limit: int | None = None, offset: int = 0) -> list[Referral]:  # fmt: skip
    """Referrals the authority has not answered whose answer was due by ``due_by``.

    Each with its case loaded, the longest overdue first. The case's own status does not
    matter: an unanswered referral stays owed even after the case is resolved.
    """
    query = (select(Referral).join(Case, Case.id == Referral.case_id)
             .where(Referral.answered_at.is_(None), Referral.answer_due <= due_by,
                    *_visible_to(hidden_from))
             .options(joinedload(Referral.case))
             .order_by(Referral.answer_due, Referral.id))  # fmt: skip
    return list(session.scalars(_page(query, limit, offset)))


# -- the console's lists (issue 14) ------------------------------------------------------


def text_match(text: str) -> ColumnElement[bool]:
    """Cases whose reference (a part of it too: ``000123``), subject, summary, any message's
    subject or text, or complainant's name, phone or email contain ``text``, taken
    literally. A plain substring match, so Chinese words (``医院``, ``王芳``) are found
    without a word segmenter, on SQLite as on PostgreSQL. It reads every case it is asked
    about: ``find_cases`` asks it only about the search index's candidates
    (``casework.search``)."""
    text = text.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    in_mail = exists().where(Message.case_id == Case.id,
                             Message.body_text.icontains(text, autoescape=True)
                             | Message.subject.icontains(text, autoescape=True))
    party = [Party.name.icontains(text, autoescape=True),
             Party.email.icontains(text, autoescape=True),
             Party.phone.contains(text, autoescape=True)]
    if len(digits) >= 4:  # "138-0000 1234" finds 13800001234 and the reverse
        party.append(_digits_of(Party.phone).contains(digits, autoescape=True))
    in_party = exists().where(Party.id == Case.complainant_id, or_(*party))
    return or_(Case.reference.icontains(text, autoescape=True),
               Case.subject.icontains(text, autoescape=True),
               Case.summary.icontains(text, autoescape=True), in_mail, in_party)


def _digits_of(phone: ColumnElement[str | None] | InstrumentedAttribute[str | None],
               ) -> ColumnElement[str | None]:  # fmt: skip
    """A phone number without the separators people write in it (as the index has it)."""
    bare: ColumnElement[str | None] = func.replace(phone, "-", "")
    for mark in (" ", "(", ")", "+", "."):
        bare = func.replace(bare, mark, "")
    return bare


def find_cases(session: Session, *, limit: int | None = 50, offset: int = 0,
               count: bool = True,
               **filters: Unpack[CaseFilters]) -> tuple[list[Case], int]:  # fmt: skip
    """A page of the cases matching ``filters`` (the console's list, a text search among
    them), newest first, and how many match. ``count=False`` (``list_cases``) skips the
    count where it would cost a query of its own (then -1)."""
    conditions = _case_conditions(session, filters)
    if not (filters.get("text") or "").strip():
        query = select(Case).where(*conditions).order_by(Case.id.desc())
        total = int(session.scalar(select(func.count(Case.id)).where(*conditions)) or 0) \
            if count else -1  # fmt: skip
        return list(session.scalars(_page(query, limit, offset))), total
    # One pass for the ids of a text search (the count and the page both come from it),
    # not one for the count and one for the page: the substring check is the costly part.
    ids = list(session.scalars(select(Case.id).where(*conditions).order_by(Case.id.desc())))
    wanted = ids[offset:] if limit is None else ids[offset:offset + limit]
    cases = session.scalars(select(Case).where(Case.id.in_(wanted)).order_by(Case.id.desc()))
    return list(cases), len(ids)


def handled_by(session: Session, staff: str, *, limit: int | None = None,
               offset: int = 0) -> list[Case]:  # fmt: skip
    """Open cases whose current assignment is ``staff``'s (as handler or as the deputy
    standing in), the nearest deadline first (none last); never a case they are excluded
    from."""
    mine = exists().where(Assignment.case_id == Case.id, Assignment.ended_at.is_(None),
                          (Assignment.handler == staff) | (Assignment.delegate_for == staff))
    query = (select(Case).where(mine, Case.status.in_(list(OPEN_STATUSES)),
                                *_visible_to(staff))
             .order_by(Case.resolve_due.is_(None), Case.resolve_due, Case.id))  # fmt: skip
    return list(session.scalars(_page(query, limit, offset)))


def pending_extensions(session: Session, *, departments: Sequence[str] | None = None,
                       hidden_from: str | None = None) -> list[tuple[Extension, Case]]:
    """Extensions asked for and not yet approved, of open cases (of ``departments`` if
    given), the oldest request first."""
    query = (select(Extension, Case).join(Case, Case.id == Extension.case_id)
             .where(Extension.approved_at.is_(None), Case.status.in_(list(OPEN_STATUSES)),
                    *_visible_to(hidden_from))
             .order_by(Extension.requested_at, Extension.id))  # fmt: skip
    if departments is not None:
        query = query.where(Case.department.in_(list(departments)))
    return [(extension, case) for extension, case in session.execute(query)]


# -- registers beside the cases -----------------------------------------------------------


def overdue_by_authority_filter(today: date) -> ColumnElement[bool]:
    """Cases an authority holds past its answer date: a referral unanswered after
    ``answer_due``. The delay is the authority's, followed up, and no violation of ours."""
    return exists().where(Referral.case_id == Case.id, Referral.answered_at.is_(None),
                          Referral.answer_due < today)


def overdue_by_authority(session: Session, *, today: date, case_ids: Sequence[int] | None = None,
                         ) -> set[int]:  # fmt: skip
    """The ids of cases (of ``case_ids``, if given) overdue by an authority on ``today``."""
    query = select(Case.id).where(overdue_by_authority_filter(today))
    if case_ids is not None:
        query = query.where(Case.id.in_(list(case_ids)))
    return set(session.scalars(query))


def violation_register(session: Session, *, staff: str | None = None, limit: int | None = None,
                       offset: int = 0, open_only: bool = False,
                       ) -> list[ViolationEntry]:  # fmt: skip
    """The register of commitment violations in the order recorded; only ``staff``'s if given.

    ``open_only``: those not yet carried out (clause 七): the sanction not applied, or
    compensation owed and not paid.
    """
    query = (select(Violation, Case.reference).join(Case, Case.id == Violation.case_id)
             .order_by(Violation.id))  # fmt: skip
    if staff:
        query = query.where(Violation.staff == staff)
    if open_only:
        query = query.where(open_violation())
    return [ViolationEntry(v, reference)
            for v, reference in session.execute(_page(query, limit, offset))]


def open_violation() -> ColumnElement[bool]:
    """A violation not yet carried out: its sanction not applied, or compensation unpaid."""
    return or_(Violation.sanction_applied_at.is_(None),
               and_(Violation.compensation > 0, Violation.compensation_paid_at.is_(None)))


def case_messages(session: Session, case: Case) -> list[Message]:
    """The case's messages and those of every case merged into it, in the order received:
    a merged case's mail is read on the case that goes on (both timelines are kept)."""
    merged = select(Case.id).where(Case.merged_into_id == case.id)
    return list(session.scalars(
        select(Message).where(or_(Message.case_id == case.id, Message.case_id.in_(merged)))
        .order_by(Message.received_at, Message.id)))


def quarantine_items(session: Session, *, include_resolved: bool = False, limit: int | None = None,
                     offset: int = 0) -> list[QuarantineItem]:  # fmt: skip
    """Quarantined input in the order it arrived; only what still waits unless asked."""
    query = select(QuarantineItem).order_by(QuarantineItem.id)
    if not include_resolved:
        query = query.where(QuarantineItem.resolved_at.is_(None))
    return list(session.scalars(_page(query, limit, offset)))


def quarantine_item(session: Session, item_id: int) -> QuarantineItem | None:
    return session.get(QuarantineItem, item_id)


# ``due_tasks`` (the call tasks still to make, optionally only those due by a day) is
# defined beside its table in ``casework.tasks`` and exported from here with the rest.


def _case_conditions(session: Session, filters: CaseFilters) -> list[ColumnElement[bool]]:
    conditions = list(_visible_to(filters.get("hidden_from")))
    if (status := filters.get("status")) is not None:
        conditions.append(Case.status == status)
    if (overdue_on := filters.get("overdue_on")) is not None:
        conditions.append(overdue_filter(overdue_on))
    if (late_on := filters.get("authority_overdue_on")) is not None:
        conditions.append(overdue_by_authority_filter(late_on))
    if (channel := filters.get("channel")) is not None:
        conditions.append(Case.channel == channel)
    if (category := filters.get("category")) is not None:
        conditions.append(Case.category == category)
    if (department := filters.get("department")) is not None:
        conditions.append(Case.department == department)
    if (handler := filters.get("handler")) is not None:
        conditions.append(exists().where(Assignment.case_id == Case.id,
                                         Assignment.handler == handler,
                                         Assignment.ended_at.is_(None)))  # fmt: skip
    if search := (filters.get("search") or "").strip():
        conditions.append(Case.reference.icontains(search, autoescape=True)
                          | Case.subject.icontains(search, autoescape=True))  # fmt: skip
    if (received_from := filters.get("received_from")) is not None:
        conditions.append(Case.received_at >= received_from)
    if (received_before := filters.get("received_before")) is not None:
        conditions.append(Case.received_at < received_before)
    if (due_from := filters.get("due_from")) is not None:
        conditions.append(Case.resolve_due >= due_from)
    if (due_until := filters.get("due_until")) is not None:
        conditions.append(Case.resolve_due <= due_until)
    if filters.get("open_only"):
        conditions.append(Case.status.in_(list(OPEN_STATUSES)))
    if text := (filters.get("text") or "").strip():  # the index's candidates, confirmed
        conditions.append(_search.condition(session, text, text_match(text)))
    return conditions


def excluded_staff(session: Session, case: Case) -> set[str]:
    """The staff ids excluded from ``case`` (conflict of interest): stored, and recorded in
    this transaction but not written yet (``Case.exclusions`` holds both). Asked without
    flushing, so a batch's new case (written in one go at the batch's end) is checked as
    well as a stored one."""
    with session.no_autoflush:
        return {row.staff for row in case.exclusions}


def _visible_to(staff: str | None) -> Sequence[ColumnElement[bool]]:
    """No condition, or: ``staff`` is not excluded from the case (conflict of interest)."""
    if staff is None:
        return ()
    return (~exists().where(CaseExclusion.case_id == Case.id, CaseExclusion.staff == staff),)


def _page(query: Select[*_Row], limit: int | None,
          offset: int) -> Select[*_Row]:  # fmt: skip
    if offset:
        query = query.offset(offset)
    return query if limit is None else query.limit(limit)
