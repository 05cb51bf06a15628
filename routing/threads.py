"""Reply tokens bound to cases: which thread of ours a staff or authority mail answers.

Every mail that invites an answer (assignment, reminder, escalation, a referral letter …)
carries a token (``casework.tokens``) made for its case, recipient and purpose; it rides in
the Reply-To plus-address, the subject tag and our Message-ID, so that it comes back in
whichever of them a mail program keeps. A mail is taken as an answer only through a token
whose tag matches and whose thread is still open.

A thread closes when the case ends (a move to resolved, closed, withdrawn or rejected after
the mail was sent), when the case moves away from the handler it was sent to, or when the
authority's answer was taken on it: an old mail cannot be replayed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import tokens
from casework.inbound import Inbound
from casework.models import Case, StaffThread
from casework.status import OPEN_STATUSES

# The problems a token can have, as the refusal states them.
NO_TOKEN = ("这封邮件不带本案的回复码（请直接回复我们发给您的邮件）/ the mail carries no reply "
            "code of ours (answer the mail we sent you)")
WRONG_TOKEN = "回复码无效 / the reply code is not valid"
CLOSED = {
    "case_ended": ("本案已结束，旧邮件不能再用于操作 / "
                   "the case has ended; an old mail cannot act on it"),
    "moved_away": "本案已不由您承办 / the case is no longer assigned to you",
    "answered": "该函件的答复已收到，不能重复答复 / an answer to this letter was already taken",
}


@dataclass(frozen=True)
class ThreadCheck:
    """What the tokens of a mail prove: the thread they name (a valid tag), and why it may
    not be answered (None: it may)."""

    thread: StaffThread | None
    problem: str | None
    # A case a token was made for even when the token is no good (for the refusal's record).
    case_id: int | None = None

    @property
    def open(self) -> bool:
        return self.thread is not None and self.problem is None


def new_token(key: bytes, case_id: int, recipient: str, purpose: str) -> tuple[str, str]:
    """(nonce, token) for a new thread."""
    nonce = tokens.new_nonce()
    return nonce, tokens.make_token(key, nonce, case_id, recipient, purpose)


def candidates(inbound: Inbound) -> list[str]:
    """The tokens a mail carries, most telling first: the mail it answers, its subject, the
    address it was sent to (Reply-To's plus-address), then the older mails it references."""
    return tokens.find_tokens([inbound.in_reply_to or "", inbound.subject,
                               *inbound.addressed_to, *reversed(inbound.references)])


def read_thread(session: Session, keys: Sequence[bytes], inbound: Inbound,
                staff_id_of: dict[str, str], now: datetime) -> ThreadCheck:
    """The open thread a mail's tokens name; else the best reason why there is none.

    ``staff_id_of``: staff address (lower case) → staff id, to tell whether a handler's
    thread closed when the case moved away from them."""
    first_problem: ThreadCheck | None = None
    for thread, problem in _threads(session, keys, candidates(inbound), staff_id_of, now):
        if thread is not None and problem is None:
            return ThreadCheck(thread, None, thread.case_id)
        if first_problem is None:
            first_problem = ThreadCheck(thread, problem, thread.case_id if thread else None)
    return first_problem or ThreadCheck(None, NO_TOKEN)


def _threads(session: Session, keys: Sequence[bytes], found: list[str],
             staff_id_of: dict[str, str],
             now: datetime) -> Iterator[tuple[StaffThread | None, str | None]]:
    for token in found:
        thread = session.scalar(select(StaffThread).where(
            StaffThread.nonce == tokens.nonce_of(token)))
        if thread is None or not tokens.matches_any(keys, token, thread.case_id,
                                                    thread.recipient, thread.kind):
            yield None, WRONG_TOKEN
            continue
        why = closed_why(session.get_one(Case, thread.case_id), thread, staff_id_of)
        if why is not None and thread.closed_at is None:
            close(thread, why, now)  # recorded, so the thread's state is plain to see
        yield thread, CLOSED.get(why, why) if why is not None else None


def closed_why(case: Case, thread: StaffThread, staff_id_of: dict[str, str]) -> str | None:
    """Why ``thread`` takes no answer any more, or None."""
    if thread.closed_why:
        return thread.closed_why
    if case.status not in OPEN_STATUSES or any(
            e.kind == "status_changed" and e.details.get("to") not in OPEN_STATUSES
            and e.at >= thread.sent_at for e in case.events):
        return "case_ended"
    staff = staff_id_of.get(thread.recipient.lower())
    if staff is not None and _moved_away(case, staff, thread.sent_at):
        return "moved_away"
    return None


def _moved_away(case: Case, staff: str, sent_at: datetime) -> bool:
    """True when ``staff`` handled the case when the mail went out and a later assignment
    gave it to someone else (a supervisor's mail stays open through reassignments)."""
    handler_then: str | None = None
    for event in sorted((e for e in case.events if e.kind == "assigned"), key=lambda e: e.at):
        details = event.details
        if event.at <= sent_at:
            handler_then = staff if staff in (details.get("handler"),
                                              details.get("covers_for")) else None
        elif handler_then == staff and details.get("handler") != staff:
            return True
    return False


def close(thread: StaffThread, why: str, now: datetime) -> None:
    thread.closed_at = now
    thread.closed_why = why


def close_answered(session: Session, case: Case, recipient: str, kinds: frozenset[str],
                   now: datetime) -> None:
    """The authority answered: every open letter of this case to that address closes."""
    for thread in session.scalars(select(StaffThread).where(
            StaffThread.case_id == case.id, StaffThread.kind.in_(kinds),
            StaffThread.closed_at.is_(None))):
        if thread.recipient.lower() == recipient.lower():
            close(thread, "answered", now)
