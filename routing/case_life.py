"""The rest of a case's life as staff actions (issue 13): opening a case by hand, closing,
withdrawing, rejecting, merging, an interim reply, a major matter with its appointment or
deferral, clearing the attention flags, recording consent and carrying out sanctions.

Each function takes what every staff action takes (an ``Acting``; opening a case, which
has no case yet, an ``Opening``) and its own values, and raises ``ActionRefused`` with a
reason a person can read. ``routing.commands`` declares each once for every door. The
handler is also told here when the complainant writes again (``complainant_wrote``).
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import queries
from casework.inbound import Inbound, InboundAttachment, Receipt, guess_language
from casework.models import Case, Extension, Violation
from casework.quotes import strip_quoted
from casework.rawstore import RawStore
from casework.status import CHANNEL_LABELS, OPEN_STATUSES, CaseStatus
from casework.transitions import can_transition, record
from routing.actions import Acting, Actor, _move, desk_supervisor, send_outcome
from routing.assignment import active
from routing.conflicts import excluded
from routing.context import Desk, today_of
from routing.errors import ActionRefused
from routing.feedback import pending_answer
from routing.ports import NoticeKind

# Clause 五(四) and 三(二): the doors a complaint comes through besides mail and the hotline
# log; staff type such a complaint in by hand.
HAND_CHANNELS = {key: CHANNEL_LABELS[key][0] for key in ("letter", "visit", "media", "phone")}
CONSENT_SOURCES = {"call": "电话", "letter": "来信", "visit": "来访"}

Intake = Callable[[Session, Inbound], Receipt]
"""How a case is taken in (the pipeline): received, acknowledged and routed as any other."""


@dataclass(frozen=True)
class Opening:
    """Who opens a case by hand, and how: what an action that creates a case is given.

    ``desk`` is None in an installation without routing rules (the case goes to triage).
    """

    session: Session
    desk: Desk | None
    actor: Actor
    now: datetime
    intake: Intake
    store: RawStore


# -- 1. open a case by hand ------------------------------------------------------------


def open_case(opening: Opening, *, channel: str, text: str, subject: str | None = None,
              name: str | None = None, phone: str | None = None, email: str | None = None,
              anonymous: bool = False, consent: bool = False,
              attachments: Sequence[str] = ()) -> Case:
    """A letter, visit, media report or call typed in by staff: acknowledged and routed
    like any other case, in the caller's transaction; its files go to the raw store."""
    if channel not in HAND_CHANNELS:
        raise ActionRefused(f"渠道须为 {'、'.join(HAND_CHANNELS.values())} / channel must be "
                            f"one of {', '.join(HAND_CHANNELS)}")
    if not text.strip():
        raise ActionRefused("请写明投诉内容 / the complaint's text is needed")
    actor, now = opening.actor, opening.now
    inbound = Inbound(
        channel=channel, received_at=now,
        subject=(subject or _first_line(text)).strip()[:998], text=text.strip(),
        language=guess_language(text), sender_name=name or None,
        sender_email=(email or "").strip() or None, sender_phone=(phone or "").strip() or None,
        anonymous=anonymous, attachments=tuple(_stored(opening.store, p) for p in attachments),
        origin=f"by hand ({channel}) {actor.label}",
        # What the staff member read in the letter or heard on the call, as intake would.
        extra={"consent_health_data": "yes" if consent else "no",
               "consent_recorded_by": actor.label, "consent_source": channel})
    receipt = opening.intake(opening.session, inbound)
    case = receipt.case or opening.session.get_one(Case, receipt.case_id)
    record(case, "opened_by_hand" if receipt.outcome == "case" else "added_by_hand",
           actor=actor.label, at=now,
           details={"channel": channel, "attachments": len(inbound.attachments)})
    return case


def _first_line(text: str) -> str:
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    return line[:60] or "投诉 / complaint"


def _stored(store: RawStore, path_text: str) -> InboundAttachment:
    path = Path(path_text).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ActionRefused(f"无法读取附件 / cannot read the file {path_text}: "
                            f"{exc.strerror}") from None
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return InboundAttachment(filename=path.name[:255], content_type=kind, size=len(data),
                             sha256=store.put(data))


# -- 2. close, withdraw, reject ----------------------------------------------------------


def close(act: Acting, reason: str) -> None:
    """Close the file of a resolved case (the outcome was sent); the complainant is told."""
    if act.case.status != CaseStatus.RESOLVED:
        raise ActionRefused(f"只能关闭已办结的案件；未办结的请用 #撤回、#不予受理 或 #合并 / "
                            f"only a resolved case can be closed (case {act.case.reference} is "
                            f"{act.case.status}); use #withdraw, #reject or #merge")
    _end(act, CaseStatus.CLOSED, "closed", _reason(reason))


def withdraw(act: Acting, reason: str) -> None:
    """The complainant withdrew the complaint; they are told it is withdrawn."""
    _end(act, CaseStatus.WITHDRAWN, "withdrawn", _reason(reason))


def reject(act: Acting, reason: str) -> None:
    """Not a matter for us (out of scope); the complainant is told why and where to go."""
    _end(act, CaseStatus.REJECTED, "out_of_scope", _reason(reason))


def spam(act: Acting, reason: str) -> None:
    """Spam or abuse: rejected, and nobody is written to."""
    _end(act, CaseStatus.REJECTED, "spam", _reason(reason), tell=False)


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ActionRefused("请写明原因 / a reason is needed")
    return reason.strip()


def _end(act: Acting, target: CaseStatus, how: str, reason: str, *, tell: bool = True,
         facts: dict[str, Any] | None = None) -> None:
    _move(act.case, target, act.actor, act.now, f"{how}: {reason}")
    record(act.case, f"case_{how}", actor=act.actor.label, at=act.now,
           details={"reason": reason, **(facts or {})})
    if tell:
        act.desk.tell_complainant(act.session, act.case, NoticeKind.CASE_CLOSED, act.now,
                                  {"how": how, "reason": reason, **(facts or {})},
                                  key=f":{how}:{act.now.isoformat()}")


# -- 3. merge ----------------------------------------------------------------------------


def merge(act: Acting, target: str) -> Case:
    """Merge this case into ``target`` (the one that goes on): this one is closed as
    merged and points at it; both timelines are kept and its messages are shown there."""
    session, case = act.session, act.case
    survivor = queries.case_by_reference(session, target.strip())
    if survivor is None:
        raise ActionRefused(f"没有这件案件 / no case {target!r}")
    if survivor.id == case.id or survivor.merged_into_id is not None:
        raise ActionRefused(f"不能合并到 {survivor.reference}（同一案件或已被合并）/ cannot "
                            f"merge into {survivor.reference}: the same case, or merged itself")
    if act.actor.staff in excluded(session, survivor.id):
        raise ActionRefused(f"您在 {survivor.reference} 中被提及，不能合并 / you are named in "
                            f"{survivor.reference} and may not act on it")
    if case.status not in OPEN_STATUSES:
        raise ActionRefused(f"案件 {case.reference} 已结束，不能合并 / case {case.reference} is "
                            f"{case.status}: nothing to merge")
    case.merged_into_id = survivor.id
    current = active(case)
    if current is not None:
        current.ended_at = act.now  # the survivor's handler works on it from now on
    messages = len(case.messages)
    record(survivor, "merged_from", actor=act.actor.label, at=act.now,
           details={"reference": case.reference, "messages": messages,
                    "channel": case.channel})
    survivor.updated_at = act.now
    _end(act, CaseStatus.CLOSED, "merged", f"并入 {survivor.reference} / merged into "
         f"{survivor.reference}", facts={"merged_into": survivor.reference})
    return survivor


# -- 4. the complainant writes again; the handler answers ------------------------------


def complainant_wrote(session: Session, desk: Desk, case: Case, text: str,
                      attachments: int, source: str, now: datetime) -> str | None:
    """Tell whoever holds the case (the handler, else the supervisor) that the complainant
    wrote again, with what they wrote; a merged case's news goes to the surviving case."""
    about = case
    if case.merged_into_id is not None:
        about = session.get(Case, case.merged_into_id) or case
        record(about, "follow_up_on_merged", actor="system:router", at=now,
               details={"reference": case.reference})
    current = active(about)
    handler = current.handler if current is not None else None
    # A handler the complainant has named since (a closed case keeps its last handler).
    staff = handler if handler and handler not in queries.excluded_staff(session, about) \
        else desk_supervisor(session, desk, about)
    if staff not in desk.config.staff:
        return None
    # One notice per mail (``source``: its Message-ID or hash), even two in one batch.
    key = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    return desk.tell_staff(session, about, staff, NoticeKind.COMPLAINANT_WROTE, now, {
        "text": strip_quoted(text).strip()[:4000], "attachments": attachments,
        "via": case.reference, "status": str(about.status), "key": key}, key=f":{key}")


def interim_reply(act: Acting, text: str) -> None:
    """An interim reply to the complainant (progress, a question), in the case's thread."""
    if not text.strip():
        raise ActionRefused("请在指令下方写明答复内容 / write the reply below the command")
    if act.case.status not in OPEN_STATUSES:
        raise ActionRefused(f"案件 {act.case.reference} 已结束 / case {act.case.reference} is "
                            f"{act.case.status}")
    record(act.case, "interim_reply", actor=act.actor.label, at=act.now,
           details={"text": text.strip()})
    person = act.desk.config.staff.get(act.actor.staff)
    # One mail per reply: two different replies at the same moment are both sent.
    key = hashlib.sha256(f"{act.now.isoformat()}|{text.strip()}".encode()).hexdigest()[:16]
    act.desk.tell_complainant(act.session, act.case, NoticeKind.INTERIM_REPLY, act.now,
                              {"text": text.strip(), "key": key,
                               "handler_name": person.name if person else None},
                              key=f":{key}")


def relay(act: Acting, text: str = "") -> None:
    """Pass an authority's answer on to the complainant as the outcome (issue 12): the
    answer as it came, or the handler's edited ``text``. An authority's mail never reaches
    the complainant without this confirmation; only a verified answer can be relayed as it
    came (an unverified one needs the handler's own text, written after checking it)."""
    answer = pending_answer(act.session, act.case)
    edited = text.strip()
    if answer is None and not edited:
        raise ActionRefused("没有待转告的已核实机关答复；请在指令下方写明转告内容 / no verified "
                            "authority answer is waiting: write the text to pass on below "
                            "the command")
    outcome = edited or (answer.body_text.strip() if answer is not None else "")
    if not outcome:
        raise ActionRefused("机关答复为空，请在指令下方写明转告内容 / the answer is empty: write "
                            "the text to pass on below the command")
    _move(act.case, CaseStatus.RESOLVED, act.actor, act.now, "authority's answer relayed")
    record(act.case, "authority_answer_relayed", actor=act.actor.label, at=act.now,
           details={"message": answer.id if answer is not None else None,
                    "edited": bool(edited)})
    send_outcome(act.session, act.desk, act.case, act.now, finding="authority",
                 outcome=outcome[:4000])


# -- 5. major or difficult matters ---------------------------------------------------------


def flag_major(act: Acting, reason: str) -> None:
    """Clause 四(五): record a major or difficult matter and report it to the supervisor."""
    case, reason = act.case, _reason(reason)
    case.major = True
    record(case, "major_matter", actor=act.actor.label, at=act.now, details={"reason": reason})
    boss = desk_supervisor(act.session, act.desk, case)
    if boss == act.actor.staff:
        return  # the supervisor flagged it: already informed
    handler = act.desk.config.staff.get(act.actor.staff)
    waiting = "（等待补充材料，办结期限尚未起算 / waiting for material: no time limit runs " \
        "yet）" if case.resolve_due is None else ""
    act.desk.tell_staff(act.session, case, boss, NoticeKind.SUPERVISOR_ESCALATION, act.now, {
        "reason": f"重大疑难事项：{reason}{waiting}。可回复 #预约 或 #延期服务 / major or "
                  "difficult matter; reply #appoint or #defer",
        "handler": handler.name if handler else None}, key=":major")


def _major(case: Case, what: str) -> None:
    if not case.major:
        raise ActionRefused(f"{what}仅用于重大疑难事项，请先 #重大 / only for a major or "
                            "difficult matter: flag it with #major first (clause 四(五))")


def appoint(act: Acting, day: date, details: str = "") -> None:
    """Clause 四(六) 预约服务: an appointment with the complainant, who is told the date."""
    _major(act.case, "预约服务")
    if day < today_of(act.now):
        raise ActionRefused("预约日期已过 / the appointment date is in the past")
    record(act.case, "appointment", actor=act.actor.label, at=act.now,
           details={"date": day.isoformat(), "details": details.strip()})
    act.desk.tell_complainant(act.session, act.case, NoticeKind.APPOINTMENT, act.now,
                              {"date": day, "details": details.strip()},
                              key=f":{day.isoformat()}")


def defer(act: Acting, day: date, reason: str) -> Extension:
    """Clause 四(六) 延期服务 for a major matter: the supervisor sets the new date at once;
    it is the case's one extension, and the complainant is told the new date."""
    session, case, actor, now = act.session, act.case, act.actor, act.now
    _major(case, "延期服务")
    reason = _reason(reason)
    if session.scalar(select(Extension).where(Extension.case_id == case.id)) is not None:
        raise ActionRefused(f"每件案件只能延期一次 / case {case.reference} has had its one "
                            "extension (clause 四(六))")
    if case.resolve_due is None:
        raise ActionRefused("等待补充材料期间期限尚未起算 / the clock does not run while the "
                            "case waits for material")
    if day <= case.resolve_due:
        raise ActionRefused(f"新期限须晚于 {case.resolve_due} / the new date must be after "
                            f"{case.resolve_due}")
    old = case.resolve_due
    ext = Extension(case_id=case.id, days=act.desk.calendar.working_days_between(old, day),
                    reason=reason, requested_by=actor.label, requested_at=now,
                    approved_by=actor.label, approved_at=now, old_due=old, new_due=day)
    session.add(ext)
    if case.status in {CaseStatus.ROUTED, CaseStatus.REOPENED}:
        _move(case, CaseStatus.INVESTIGATING, actor, now, "accepted with the deferral")
    if can_transition(case.status, CaseStatus.EXTENDED):
        _move(case, CaseStatus.EXTENDED, actor, now, f"deferral (major matter): {reason}")
    case.resolve_due = day
    record(case, "deferred", actor=actor.label, at=now,
           details={"old_due": old.isoformat(), "new_due": day.isoformat(), "reason": reason})
    act.desk.tell_complainant(session, case, NoticeKind.EXTENSION, now,
                              {"old_due": old, "new_due": day, "reason": reason})
    return ext


# -- 6. attention flags ----------------------------------------------------------------


def clear_flags(act: Acting, note: str) -> None:
    """Staff dealt with a failed mail, a bounce or a call: the flags go, the note stays."""
    case = act.case
    cleared = [name for name in ("needs_attention", "phone_follow_up") if getattr(case, name)]
    if not cleared:
        raise ActionRefused(f"案件 {case.reference} 没有待处理标记 / case {case.reference} has "
                            "no attention flag set")
    case.needs_attention = False
    case.phone_follow_up = False
    record(case, "flags_cleared", actor=act.actor.label, at=act.now,
           details={"flags": cleared, "note": _reason(note)})


# -- 7. consent ------------------------------------------------------------------------------


def record_consent(act: Acting, given: bool, source: str, note: str = "") -> None:
    """PIPL art. 29: the complainant's separate consent to their health data being shared
    (or its refusal), from a call or a letter, with who recorded it and when."""
    party = act.case.complainant
    if party is None:
        raise ActionRefused("本案没有投诉人记录 / the case has no complainant on file")
    if source not in CONSENT_SOURCES:
        raise ActionRefused(f"来源须为 {'、'.join(CONSENT_SOURCES.values())} / the source must "
                            f"be one of {', '.join(CONSENT_SOURCES)}")
    party.consent_health_data = given
    party.consent_recorded_at = act.now
    party.consent_recorded_by = act.actor.label
    party.consent_source = source
    record(act.case, "consent_recorded", actor=act.actor.label, at=act.now,
           details={"health_data": given, "source": source, "note": note.strip()})


# -- 8. sanctions and compensation carried out -------------------------------------------


def sanction_applied(act: Acting, note: str, violation: int | None = None) -> Violation:
    """Clause 七: the sanction of a violation was applied (criticism given, apology made,
    efficiency warning issued)."""
    row = _violation(act, violation, lambda v: v.sanction_applied_at is None)
    row.sanction_applied_at, row.sanction_applied_by = act.now, act.actor.label
    record(act.case, "sanction_applied", actor=act.actor.label, at=act.now,
           details={"violation": row.id, "tier": row.sanction_tier, "note": _reason(note)})
    return row


def compensation_paid(act: Acting, note: str, violation: int | None = None) -> Violation:
    """Clause 七 "按承诺的标准予以赔偿": the compensation owed was paid."""
    row = _violation(act, violation,
                     lambda v: v.compensation > 0 and v.compensation_paid_at is None)
    row.compensation_paid_at, row.compensation_paid_by = act.now, act.actor.label
    record(act.case, "compensation_paid", actor=act.actor.label, at=act.now,
           details={"violation": row.id, "amount": str(row.compensation),
                    "note": _reason(note)})
    return row


def _violation(act: Acting, wanted: int | None, still_open: Callable[[Violation], bool],
               ) -> Violation:
    rows = [v for v in act.session.scalars(
        select(Violation).where(Violation.case_id == act.case.id).order_by(Violation.id))
        if still_open(v) and (wanted is None or v.id == wanted)]
    if len(rows) != 1:
        found = "没有" if not rows else "多条"
        raise ActionRefused(f"本案{found}待落实的违诺记录，请写明编号 / case "
                            f"{act.case.reference} has {len(rows)} matching open violations; "
                            "name one by its number (complaintd violations list --open)")
    return rows[0]
