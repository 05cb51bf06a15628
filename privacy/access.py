"""The access log for an audit: who opened which case (or file) and when, as the console
and the CLI's ``cases show`` record it (``casework.models.CaseView``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.clock import SHANGHAI
from casework.models import Case, CaseView


@dataclass(frozen=True)
class AccessEntry:
    at: datetime
    staff: str
    reference: str
    what: str


def access_log(session: Session, *, reference: str | None = None, staff: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               limit: int | None = None) -> list[AccessEntry]:
    """Views in time order, filtered by case, person and period (``until`` exclusive)."""
    query = (select(CaseView.at, CaseView.staff, Case.reference, CaseView.what)
             .join(Case, Case.id == CaseView.case_id).order_by(CaseView.at, CaseView.id))
    if reference:
        query = query.where(Case.reference == reference)
    if staff:
        query = query.where(CaseView.staff == staff)
    if since is not None:
        query = query.where(CaseView.at >= since)
    if until is not None:
        query = query.where(CaseView.at < until)
    if limit is not None:
        query = query.limit(limit)
    return [AccessEntry(*row) for row in session.execute(query)]


def access_csv(entries: Sequence[AccessEntry]) -> str:
    """The entries as CSV (UTF-8 with BOM added by the caller for Excel), Shanghai time."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "staff", "reference", "what"])
    for e in entries:
        writer.writerow([e.at.astimezone(SHANGHAI).isoformat(timespec="seconds"), e.staff,
                         e.reference, e.what])
    return out.getvalue()


def record_view(session: Session, case: Case, *, staff: str, at: datetime,
                what: str = "case") -> None:
    session.add(CaseView(case_id=case.id, staff=staff[:64], at=at, what=what[:64]))
