"""Where a complaint stands, in plain words, for the complainant (issue 15).

* ``plain``: the public facts of a case (``casework.progress.Progress``) in Chinese and
  English — the stage, the deciding body (our department, or the authority a case was
  referred to with its committed working days), the committed date and what we wait for.
  The progress answer by mail and the public progress page say the same thing from here.
* ``ProgressQueries``: a mail that asks ``查询`` / ``进度`` / ``progress`` with a reference
  (or in a reply to one of our mails) from a verified party of the case gets the answer at
  once; a stranger learns nothing (a ``progress_query_refused`` event on the case, no
  mail). Machine mail is never answered, and the answers are capped per case a day and
  with every other automatic answer an hour (``handling.backscatter``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from casework.inbound import Inbound, Receipt
from casework.models import Case
from casework.progress import Progress, open_material_items, progress_of
from casework.quotes import strip_quoted
from casework.references import find_references
from casework.services import ACTOR_INTAKE, add_follow_up, find_thread, is_party
from casework.transitions import record
from handling.backscatter import PROGRESS_ANSWER, Caps, automatic_answers_withheld, counted
from notifications.notices import OrganisationInfo
from notifications.notices.progress import Plain, queue_progress_answer
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer
from routing.directory import RoutingConfig

STAGE_WORDS: dict[str, tuple[str, str]] = {
    "registered": ("已受理登记，正在确定承办部门", "Registered; a department is being chosen"),
    "material": ("等待您补充材料", "Waiting for material from you"),
    "handling": ("正在办理", "Being handled"),
    "authority": ("已报告有关行政机关，等待其处理结果",
                  "Reported to the administrative authority; waiting for its answer"),
    "finished": ("已办结", "Finished"),
    "withdrawn": ("已撤回", "Withdrawn"),
    "rejected": ("不予受理（不属于受理范围）", "Not accepted (outside what we handle)"),
}
QUERY_WORDS = frozenset({"查询", "进度", "查询进度", "进度查询", "办理进度", "查进度",
                         "查询办理进度", "progress", "status", "progressquery",
                         "checkprogress", "whatistheprogress"})
_NOISE = re.compile(r"(?i)\b(re|fw|fwd|aw|sv)\s*[:：]|回复\s*[:：]|答复\s*[:：]|转发\s*[:：]"
                    r"|\[?ct-[a-z2-7]{28}\]?|[\W_]+")
_SIGNATURE = re.compile(r"(?m)^-- ?$")
_MAX_QUERY_CHARS = 200


def plain(progress: Progress, config: RoutingConfig | None, org_zh: str,
          org_en: str) -> Plain:
    """``progress`` in words; ``config`` names departments and authorities (None: keys)."""
    return Plain(
        reference=progress.reference, stage=progress.stage,
        status=STAGE_WORDS[progress.stage], body=_body(progress, config, org_zh, org_en),
        committed=_committed(progress, config), waiting_for=_waiting(progress),
        steps=tuple((s.on, *STAGE_WORDS[s.stage]) for s in progress.steps),
        received_on=progress.received_on)


def _body(p: Progress, config: RoutingConfig | None, org_zh: str,
          org_en: str) -> tuple[str, str]:
    if p.authority:
        found = config.authorities.get(p.authority) if config else None
        name = found.name if found else p.authority
        return (f"{name}（行政机关，由本中心依规报告）",
                f"{name} (administrative authority; reported by us)")
    dept = config.departments.get(p.department or "") if config and p.department else None
    if dept is not None:
        return f"{org_zh} {dept.label_zh}", f"{org_en}, {dept.label_en}"
    return org_zh, org_en


def _committed(p: Progress, config: RoutingConfig | None) -> tuple[str, str] | None:
    if p.authority_answer_due is not None and p.authority:
        found = config.authorities.get(p.authority) if config else None
        days = found.expected_response_days if found else None
        within = (f"承诺 {days} 个工作日内答复，", f"committed to answer within {days} working "
                  "days, ") if days else ("", "")
        due = p.authority_answer_due
        return (f"{within[0]}预计 {_zh(due)} 前", f"{within[1]}expected by {_en(due)}")
    if p.resolve_due is None:
        return None
    extended = ("（已依规延期）", " (extended under the policy)") if p.extended else ("", "")
    return (f"不晚于 {_zh(p.resolve_due)} 办结{extended[0]}",
            f"finished by {_en(p.resolve_due)}{extended[1]}")


def _waiting(p: Progress) -> tuple[str, str] | None:
    if p.stage == "material":
        items = "、".join(p.material_items) or "所需材料"
        return (f"您补充材料：{items}（材料齐全之日起计算办理时限）",
                f"material from you: {', '.join(p.material_items) or 'the material asked for'}"
                " (the time limit runs from the day it is complete)")
    if p.stage == "authority":
        return "行政机关的处理结果", "the administrative authority's answer"
    if p.stage == "registered":
        return "确定承办部门", "a department to be chosen"
    return None


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _en(day: date) -> str:
    return day.strftime("%d %B %Y").lstrip("0")


# -- the progress query by mail -----------------------------------------------------------


def is_progress_query(inbound: Inbound, prefix: str) -> bool:
    """A mail that only asks where its case stands: its new text (or, when that is empty,
    its subject) is one of the query words, once references, reply prefixes, tokens,
    spaces and punctuation are taken out. A mail with anything more is news for the
    handler, not a query."""
    text = _SIGNATURE.split(strip_quoted(inbound.text[:20_000]), maxsplit=1)[0]
    body = _bare(text, prefix)
    if body:
        return len(text) <= _MAX_QUERY_CHARS and body in QUERY_WORDS
    return _bare(inbound.subject, prefix) in QUERY_WORDS


def _bare(text: str, prefix: str) -> str:
    for ref in find_references(text, prefix):
        text = re.sub(re.escape(ref), " ", text, flags=re.IGNORECASE)
    return _NOISE.sub("", text).lower()


@dataclass(frozen=True)
class ProgressQueries:
    """Answers ``查询`` / ``进度`` / ``progress`` mail (the pipeline asks it first)."""

    identity: MailIdentity
    renderer: TemplateRenderer
    org: OrganisationInfo
    caps: Caps
    reference_prefix: str
    # The routing file in use (it may be reloaded): names departments and authorities.
    names: Callable[[], RoutingConfig | None] = lambda: None
    per_case_per_day: int = 3
    progress_url: str | None = None
    language_override: str | None = None

    def __call__(self, session: Session, inbound: Inbound, now: datetime) -> Receipt | None:
        """None: not a progress query on a case we know (the item goes on as usual)."""
        if inbound.channel != "email" or not is_progress_query(inbound, self.reference_prefix):
            return None
        case = self._case(session, inbound)
        if case is None:
            return None
        if not is_party(case, inbound):
            # The stranger learns nothing, not even that the reference exists; staff see
            # who asked (the address as written, the Message-ID).
            record(case, "progress_query_refused", actor=ACTOR_INTAKE, at=now,
                   details={"sender": (inbound.sender_email or "")[:320],
                            "message_id": (inbound.message_id or "")[:998],
                            "why": "sender is not a verified party of the case"})
            return Receipt(case.id, case.reference, "progress_refused", case)
        add_follow_up(session, case, inbound)
        self._answer(session, case, inbound, now)
        return Receipt(case.id, case.reference, "follow_up", case)

    def _case(self, session: Session, inbound: Inbound) -> Case | None:
        found = find_thread(session, inbound, self.reference_prefix)
        if found is not None:
            return found
        refs = find_references(strip_quoted(inbound.text[:20_000]), self.reference_prefix)
        if not refs:
            return None
        hinted = Inbound(channel=inbound.channel, received_at=inbound.received_at,
                         subject=inbound.subject, text="", reference_hint=refs[0])
        return find_thread(session, hinted, self.reference_prefix)

    def _answer(self, session: Session, case: Case, inbound: Inbound, now: datetime) -> None:
        withheld = self._withheld(session, case, inbound, now)
        if withheld:
            record(case, "progress_answer_withheld", actor=ACTOR_INTAKE, at=now,
                   details={"why": withheld})
            return
        words = plain(progress_of(case, open_material_items(session, case)), self.names(),
                      self.org.name, self.org.name_en)
        mail = queue_progress_answer(
            session, case, progress=words, inbound_message_id=inbound.message_id,
            references=inbound.references, identity=self.identity, renderer=self.renderer,
            org=self.org, now=now, progress_url=self.progress_url,
            language=self.language_override)
        record(case, "progress_query_answered", actor=ACTOR_INTAKE, at=now,
               details={"stage": words.stage, "queued": mail is not None})
        if mail is not None:
            counted(session, inbound.sender_email, PROGRESS_ANSWER)

    def _withheld(self, session: Session, case: Case, inbound: Inbound,
                  now: datetime) -> str | None:
        if inbound.extra.get("no_auto_reply"):
            return inbound.extra["no_auto_reply"]  # machine mail is never answered
        since = now - timedelta(days=1)
        today = sum(1 for e in case.events
                    if e.kind == "progress_query_answered" and e.at >= since)
        if today >= self.per_case_per_day:
            return f"daily cap of {self.per_case_per_day} progress answers on this case reached"
        return automatic_answers_withheld(session, now, self.caps)
