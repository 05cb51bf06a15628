"""The retention purge: personal data of ended cases goes once their retention has run.

A case's retention runs from the day it ended (its last change, as an ended case changes
only by a late survey answer or a violation being carried out, both of which restart the
count) for the years its category keeps (``[privacy] retention_by_category``, else
``[deadlines] retention_years``), and never ends before its complainant's
``retention_until`` (set at intake). A case with a violation not yet carried out (sanction
not applied, compensation unpaid) is on legal hold. What the purge removes and keeps is
``privacy.redact``'s; the reports' counts, dates, categories and outcomes stay.

Quarantined mail past the default retention loses its raw bytes too, the hotline's
call-log files leave the raw store once no case needs them (``privacy.calllogs``), and
the hotline's dated archive folders (each call log holds many callers) are removed whole.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from casework.clock import SHANGHAI
from casework.models import Case, Message, QuarantineItem, TimelineEvent
from casework.rawstore import RawStore
from casework.status import OPEN_STATUSES
from privacy.calllogs import sweep_call_logs
from privacy.redact import (
    ERASED_KINDS,
    drop_orphan_parties,
    drop_unreferenced,
    legal_hold,
    redact_case,
)

ACTOR = "retention"


@dataclass(frozen=True)
class RetentionPolicy:
    default_years: int = 3
    by_category: Mapping[str, int] = field(default_factory=dict)

    def years_for(self, category: str | None) -> int:
        return self.by_category.get(category or "", self.default_years)

    @property
    def shortest(self) -> int:
        return min([self.default_years, *self.by_category.values()])


@dataclass
class PurgeReport:
    # (reference, the day its retention ended)
    purged: list[tuple[str, date]] = field(default_factory=list)
    held: list[tuple[str, str]] = field(default_factory=list)
    files_removed: int = 0
    parties_removed: int = 0
    quarantine_cleared: int = 0
    archive_folders: list[str] = field(default_factory=list)
    # Names of the call-log files removed from the raw store (or, dry run, that would be).
    call_logs: list[str] = field(default_factory=list)
    # Ids of the cases purged (a dry run's reckoning of which call logs would go).
    case_ids: set[int] = field(default_factory=set)


def years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def retention_end(case: Case, policy: RetentionPolicy) -> date:
    ended = case.updated_at.astimezone(SHANGHAI).date()
    end = years_later(ended, policy.years_for(case.category))
    floor = case.complainant.retention_until if case.complainant is not None else None
    return max(end, floor) if floor is not None else end


def _candidates(session: Session, today: date, policy: RetentionPolicy,
                after_id: int, batch: int) -> list[Case]:
    """Ended, not yet purged cases old enough for the shortest retention, by id."""
    newest = datetime.combine(years_later(today, -policy.shortest), time(), SHANGHAI)
    purged = exists().where(TimelineEvent.case_id == Case.id,
                            TimelineEvent.kind.in_(ERASED_KINDS))
    return list(session.scalars(
        select(Case).where(Case.id > after_id, Case.status.not_in(list(OPEN_STATUSES)),
                           Case.updated_at < newest, ~purged)
        .order_by(Case.id).limit(batch)
        .options(selectinload(Case.messages).selectinload(Message.attachments),
                 selectinload(Case.events), selectinload(Case.complainant))))


def purge(session_factory: sessionmaker[Session], store: RawStore, *, now: datetime,
          policy: RetentionPolicy, dry_run: bool = False, batch: int = 200,
          hotline_archive: Path | None = None) -> PurgeReport:
    """Purge every case whose retention has run, ``batch`` cases per transaction (a
    crash keeps what was committed; the next run goes on). ``dry_run``: only list."""
    today = now.astimezone(SHANGHAI).date()
    report = PurgeReport()
    after = 0
    while True:
        with session_factory.begin() as session:
            cases = _candidates(session, today, policy, after, batch)
            if not cases:
                break
            after = cases[-1].id
            _purge_batch(session, store, cases, now=now, today=today, policy=policy,
                         dry_run=dry_run, report=report)
    with session_factory.begin() as session:
        report.quarantine_cleared = _clear_quarantine(session, store, now=now, today=today,
                                                      policy=policy, dry_run=dry_run)
    with session_factory.begin() as session:
        report.call_logs = sweep_call_logs(session, store, now=now, dry_run=dry_run,
                                           purging=report.case_ids)
    if hotline_archive is not None:
        report.archive_folders = _old_archive_folders(hotline_archive, today, policy, dry_run)
    return report


def _purge_batch(session: Session, store: RawStore, cases: list[Case], *, now: datetime,
                 today: date, policy: RetentionPolicy, dry_run: bool,
                 report: PurgeReport) -> None:
    digests: set[str] = set()
    parties: set[int] = set()
    for case in cases:
        end = retention_end(case, policy)
        if end >= today:
            continue
        reason = legal_hold(session, case)
        if reason is not None:
            report.held.append((case.reference, reason))
            continue
        report.purged.append((case.reference, end))
        report.case_ids.add(case.id)
        if dry_run:
            continue
        if case.complainant_id is not None:
            parties.add(case.complainant_id)
        digests |= redact_case(session, case, now=now, actor=ACTOR,
                               kind="personal_data_purged",
                               why=f"retention ended {end.isoformat()}")
    if dry_run:
        return
    session.flush()
    report.parties_removed += drop_orphan_parties(session, parties)
    report.files_removed += drop_unreferenced(session, store, digests)


def _clear_quarantine(session: Session, store: RawStore, *, now: datetime, today: date,
                      policy: RetentionPolicy, dry_run: bool) -> int:
    cutoff = datetime.combine(years_later(today, -policy.default_years), time(), SHANGHAI)
    items = list(session.scalars(select(QuarantineItem).where(
        QuarantineItem.created_at < cutoff, QuarantineItem.raw_sha256.is_not(None))))
    if dry_run:
        return len(items)
    digests = {i.raw_sha256 for i in items if i.raw_sha256}
    for item in items:
        item.raw_sha256 = None
        item.resolved_at = item.resolved_at or now
        item.reason = f"{item.reason}\n[retention: raw bytes removed]"
    session.flush()
    drop_unreferenced(session, store, digests)
    return len(items)


def _old_archive_folders(root: Path, today: date, policy: RetentionPolicy,
                         dry_run: bool) -> list[str]:
    """The hotline archive's ``YYYY-MM-DD`` folders older than the longest retention (a
    call log mixes callers of every category, so the longest counts)."""
    longest = max([policy.default_years, *policy.by_category.values()])
    cutoff = years_later(today, -longest)
    gone = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if folder.is_dir() and day < cutoff:
            gone.append(folder.name)
            if not dry_run:
                shutil.rmtree(folder)
    return gone


def purge_summary(report: PurgeReport) -> dict[str, object]:
    """What the privacy register keeps of a purge (references, not personal data)."""
    return {"cases": [ref for ref, _end in report.purged],
            "held": [{"reference": ref, "why": why} for ref, why in report.held],
            "files": report.files_removed, "parties": report.parties_removed,
            "quarantine": report.quarantine_cleared, "archive": report.archive_folders,
            "call_logs": len(report.call_logs)}


__all__ = ["PurgeReport", "RetentionPolicy", "purge", "purge_summary", "retention_end"]
