"""A person's rights over their personal information (PIPL art. 44–47): to get a copy of
everything held about them, to have it corrected, and to have it erased, each written to
the register of privacy actions (``privacy.models``).

A person is found by email address or phone number: the parties with that address, the
cases they complained in, and the messages they sent to any case."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from casework.models import Case, Message, Party, Violation
from casework.rawstore import RawStore
from casework.status import OPEN_STATUSES
from casework.transitions import record
from notifications.models import OutboxMail
from privacy.calllogs import erasure_call_logs, mark_removed
from privacy.models import PrivacyAction
from privacy.redact import (
    drop_orphan_parties,
    drop_unreferenced,
    is_redacted,
    legal_hold,
    redact_case,
)

_MIN_PHONE_DIGITS = 7
CORRECTABLE = ("name", "email", "phone")


class PersonNotFound(LookupError):
    """Nothing is held about the address given."""


@dataclass(frozen=True)
class Who:
    """The address a request names: an email address or a phone number (not both)."""

    email: str = ""
    phone: str = ""

    def __post_init__(self) -> None:
        if bool(self.email) == bool(self.phone):
            raise ValueError("give an email address or a phone number")
        if self.phone and len(_digits(self.phone)) < _MIN_PHONE_DIGITS:
            raise ValueError(f"a phone number has at least {_MIN_PHONE_DIGITS} digits")

    @property
    def key(self) -> str:
        return f"email:{self.email.strip().lower()}" if self.email \
            else f"phone:{_digits(self.phone)[-_MIN_PHONE_DIGITS - 4:]}"


@dataclass
class Holdings:
    """What is held about one person."""

    parties: list[Party] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    # Messages they sent to cases that are not their own (as a witness, say).
    other_messages: list[Message] = field(default_factory=list)


def subject_hash(who: Who, secret: str) -> str:
    """The register's name for the person: a keyed hash, so it does not keep the address."""
    return hmac.new(secret.encode(), who.key.encode(), hashlib.sha256).hexdigest()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _same_phone(stored: str | None, wanted: str) -> bool:
    have, want = _digits(stored or ""), _digits(wanted)
    if len(have) < _MIN_PHONE_DIGITS:
        return False
    # +8613812345678 and 13812345678 are one number; so are 021-5555 1234 and 55551234.
    return have.endswith(want) or want.endswith(have)


def find_person(session: Session, who: Who) -> Holdings:
    if who.email:
        wanted = who.email.strip().lower()
        parties = list(session.scalars(select(Party).where(func.lower(Party.email) == wanted)))
        sent_by = func.lower(Message.sender) == wanted
    else:
        tail = _digits(who.phone)[-_MIN_PHONE_DIGITS:]
        parties = [p for p in session.scalars(select(Party).where(Party.phone.like(f"%{tail}")))
                   if _same_phone(p.phone, who.phone)]
        sent_by = Message.sender.like(f"%{tail}")
    ids = [p.id for p in parties]
    cases = list(session.scalars(
        select(Case).where(Case.complainant_id.in_(ids)).order_by(Case.id)
        .options(selectinload(Case.messages).selectinload(Message.attachments),
                 selectinload(Case.events)))) if ids else []
    own = {c.id for c in cases}
    others = [m for m in session.scalars(select(Message).where(sent_by).order_by(Message.id))
              if m.case_id not in own and (who.email or _same_phone(m.sender, who.phone))]
    return Holdings(parties, cases, others)


# -- export --------------------------------------------------------------------------


def export_person(session: Session, store: RawStore, who: Who) -> bytes:
    """Everything held about ``who`` as a zip: ``person.json`` (parties, cases with their
    messages and timelines, our mails to them) and the original files (``files/``).
    Staff are named by role only: the copy is the person's data, not the staff's."""
    held = find_person(session, who)
    if not held.parties and not held.other_messages:
        raise PersonNotFound(who.key)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        files = _FileIndex(archive, store)
        document = {
            "parties": [_party(p) for p in held.parties],
            "cases": [_case(session, c, files) for c in held.cases],
            "messages_to_other_cases": [_message(m, files) for m in held.other_messages],
            "mail_we_sent": _outbox(session, held, files),
        }
        archive.writestr("person.json", json.dumps(document, ensure_ascii=False, indent=2,
                                                   default=str))
        archive.writestr("README.txt", _README)
    return buffer.getvalue()


_README = (
    "本压缩包是本中心保存的关于您的全部个人信息（person.json）及原始文件（files/）。\n"
    "This archive holds all personal information we keep about you (person.json) and the "
    "original files (files/).\n")


class _FileIndex:
    """Puts each raw file into the zip once and says where it went (or why it is absent)."""

    def __init__(self, archive: zipfile.ZipFile, store: RawStore) -> None:
        self.archive, self.store, self.done = archive, store, set[str]()

    def add(self, digest: str | None, name: str) -> str | None:
        if not digest or digest not in self.store:
            return None
        path = f"files/{digest[:12]}-{_safe(name)}"
        if path not in self.done:
            self.archive.writestr(path, self.store.get(digest))
            self.done.add(path)
        return path


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name)[:80] or "file"


def _party(p: Party) -> dict[str, Any]:
    return {"name": p.name, "email": p.email, "phone": p.phone, "anonymous": p.anonymous,
            "language": p.language, "consent_health_data": p.consent_health_data,
            "consent_recorded_at": p.consent_recorded_at, "retention_until": p.retention_until,
            "created_at": p.created_at}


def _case(session: Session, case: Case, files: _FileIndex) -> dict[str, Any]:
    return {
        "reference": case.reference, "status": case.status.value, "channel": case.channel,
        "category": case.category, "department": case.department, "subject": case.subject,
        "summary": case.summary, "received_at": case.received_at,
        "resolve_due": case.resolve_due,
        "messages": [_message(m, files) for m in case.messages],
        "timeline": [{"at": e.at, "kind": e.kind, "details": e.details} for e in case.events],
        "violations": [{"clause": v.clause, "sanction_tier": v.sanction_tier,
                        "compensation": str(v.compensation), "recorded_at": v.recorded_at}
                       for v in session.scalars(select(Violation)
                                                .where(Violation.case_id == case.id))],
    }


def _message(m: Message, files: _FileIndex) -> dict[str, Any]:
    return {
        "direction": m.direction, "channel": m.channel, "received_at": m.received_at,
        "sender": m.sender, "subject": m.subject, "text": m.body_text,
        # A call's original is a call log of many callers: never handed out; the row's
        # words and number are in ``text`` and ``sender``.
        "original": None if m.channel == "hotline"
        else files.add(m.raw_sha256, f"message-{m.id}.eml"),
        "attachments": [{"filename": a.filename, "content_type": a.content_type,
                         "size": a.size, "file": files.add(a.sha256, a.filename)}
                        for a in m.attachments],
    }


def _outbox(session: Session, held: Holdings, files: _FileIndex) -> list[dict[str, Any]]:
    """The mails we sent to their addresses (acknowledgements, requests, outcomes)."""
    addresses = sorted({p.email.lower() for p in held.parties if p.email})
    if not addresses:
        return []
    found = session.scalars(select(OutboxMail).where(
        func.lower(OutboxMail.recipient).in_(addresses)).order_by(OutboxMail.id))
    out = []
    for mail in found:
        path = f"files/outbox-{mail.id}.eml"
        if mail.raw:
            files.archive.writestr(path, mail.raw)
        out.append({"subject": mail.subject, "kind": mail.kind, "created_at": mail.created_at,
                    "sent_at": mail.sent_at, "status": str(mail.status),
                    "file": path if mail.raw else None})
    return out


# -- correction ----------------------------------------------------------------------


def correct_person(session: Session, who: Who, changes: dict[str, str], *, now: datetime,
                   actor: str) -> list[str]:
    """Set ``changes`` (name, email, phone) on every party of ``who``; each of their cases
    gets a ``personal_data_corrected`` event naming the fields (never the values).
    Returns the references of the cases touched."""
    wrong = sorted(set(changes) - set(CORRECTABLE))
    if wrong or not changes:
        raise ValueError(f"only {', '.join(CORRECTABLE)} can be corrected; got {wrong or '-'}")
    held = find_person(session, who)
    if not held.parties:
        raise PersonNotFound(who.key)
    for party in held.parties:
        for name, value in changes.items():
            setattr(party, name, value.strip() or None)
    for case in held.cases:
        record(case, "personal_data_corrected", actor=actor, at=now,
               details={"fields": sorted(changes)})
    return [c.reference for c in held.cases]


# -- erasure -------------------------------------------------------------------------


@dataclass
class ErasureReport:
    erased: list[str] = field(default_factory=list)
    # (reference, why) of the cases kept: legal hold.
    held: list[tuple[str, str]] = field(default_factory=list)
    files_removed: int = 0
    parties_removed: int = 0
    messages_blanked: int = 0
    # Violations register rows kept (clause 七 is the organisation's public record).
    violations_kept: int = 0
    # Call-log files removed with the erasure (no other case needed them), and those kept
    # because other cases still do: the person's row stays stored in those until they go.
    call_logs_removed: int = 0
    call_logs_kept: int = 0


def erase_person(session: Session, store: RawStore, who: Who, *, now: datetime, actor: str,
                 dry_run: bool = False) -> ErasureReport:
    """Erase what is held about ``who``, except where a legal hold keeps it (see
    ``privacy.redact.legal_hold``); ``dry_run`` says what would happen and changes nothing."""
    held = find_person(session, who)
    if not held.parties and not held.other_messages:
        raise PersonNotFound(who.key)
    report = ErasureReport()
    to_erase: list[Case] = []
    for case in held.cases:
        reason = legal_hold(session, case)
        report.violations_kept += _violations_of(session, case.id)
        if reason is not None:
            report.held.append((case.reference, reason))
        elif not is_redacted(session, case.id):
            report.erased.append(case.reference)
            to_erase.append(case)
    others = [m for m in held.other_messages if m.case.status not in OPEN_STATUSES]
    logs, report.call_logs_kept = _call_logs_of(session, to_erase, others)
    report.call_logs_removed = len(logs)
    report.messages_blanked = len(others)
    if dry_run:
        return report
    digests: set[str] = set()
    for case in to_erase:
        digests |= redact_case(session, case, now=now, actor=actor,
                               kind="personal_data_erased", why="erasure request")
    _blank_other_messages(others, digests)
    session.flush()
    report.parties_removed = drop_orphan_parties(session, [p.id for p in held.parties])
    report.files_removed = drop_unreferenced(session, store, digests)
    mark_removed(session, logs, now)
    return report


def erasure_summary(report: ErasureReport) -> dict[str, object]:
    """What the privacy register keeps of an erasure (references and counts)."""
    return {"cases": report.erased,
            "held": [{"reference": r, "why": w} for r, w in report.held],
            "files": report.files_removed, "parties": report.parties_removed,
            "messages": report.messages_blanked, "violations_kept": report.violations_kept,
            "call_logs_removed": report.call_logs_removed,
            "call_logs_kept": report.call_logs_kept}


def _call_logs_of(session: Session, cases: Sequence[Case],
                  others: Sequence[Message]) -> tuple[list[str], int]:
    messages = [m for c in cases for m in c.messages] + list(others)
    return erasure_call_logs(session, {m.raw_sha256 for m in messages if m.raw_sha256},
                             {m.id for m in messages})


def _violations_of(session: Session, case_id: int) -> int:
    return int(session.scalar(select(func.count(Violation.id))
                              .where(Violation.case_id == case_id)) or 0)


def _blank_other_messages(messages: Sequence[Message], digests: set[str]) -> None:
    """Their messages to other people's ended cases: text and sender go, the case stays."""
    for message in messages:
        if message.raw_sha256:
            digests.add(message.raw_sha256)
        message.body_text, message.body_html, message.sender = "", None, None
        message.subject, message.raw_sha256 = "", None


def log_action(session: Session, *, at: datetime, actor: str, action: str,
               subject: str | None, dry_run: bool, details: dict[str, Any]) -> PrivacyAction:
    row = PrivacyAction(at=at, actor=actor, action=action, subject=subject, dry_run=dry_run,
                        details=details)
    session.add(row)
    return row


__all__ = ["CORRECTABLE", "ErasureReport", "Holdings", "PersonNotFound", "Who",
           "correct_person", "erase_person", "erasure_summary", "export_person", "find_person",
           "log_action", "subject_hash"]
