"""The web door: a complaint from the public form or a partner's API call goes through
the same ledger and pipeline as a mail.

The submission is written as one JSON document (its attachments by their hash) — the raw
item of the ledger — after its files are in the raw store. Its place in the ledger is
(``web``, ``form`` or ``api:<partner>``, 0, the form's one-time token or the partner's
Idempotency-Key): a double submit, a browser retry or a partner's retry finds the place
taken and opens nothing. Two requests racing with one token meet at the ledger's unique
key; the loser is rolled back whole and reads the winner's case.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import Clock
from casework.inbound import Inbound, InboundAttachment, Receipt
from casework.models import Case
from casework.progress import issue_code
from casework.rawstore import RawStore
from casework.submissions import Filed, Submission
from intake.ledger import Door, Handler, Ledger, Outcome, SourceItem, Understood

SOURCE = "web"
FORMAT = 1
# The JSON names the door writes; nothing else in a raw item is read.
_FIELDS = ("text", "category", "subject", "name", "anonymous", "email", "phone",
           "consent_health_data", "language")
# A place used again with other content is a conflict, not a plain duplicate (an API
# partner reusing an Idempotency-Key for another complaint); the place is part of the
# raw item, so the "same bytes elsewhere" rule of mail never joins two submissions.
WEB = Door(place_conflict=True, note_new_place=False, count_attempts=False)


def raw_item(submission: Submission, *, via: str, place: str, hashes: list[str],
             received_at: datetime) -> bytes:
    """The submission as the ledger's raw item (its files named by their SHA-256)."""
    body: dict[str, object] = {f: getattr(submission, f) for f in _FIELDS}
    body.update(format=FORMAT, via=via, place=place, received_at=received_at.isoformat(),
                files=[{"filename": f.filename, "content_type": f.content_type,
                        "size": len(f.data), "sha256": h}
                       for f, h in zip(submission.files, hashes, strict=True)])
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def read_item(item: SourceItem, digest: str, _now: datetime) -> Understood:
    """The ledger's parser for the web door: the raw JSON back into an ``Inbound``."""
    body = json.loads(item.raw)
    via = str(body["via"])
    anonymous = bool(body["anonymous"])
    by = "网页表单（投诉人本人）/ web form (the complainant)" if via == "form" else \
        f"合作机构 / partner {via.removeprefix('api:')}"
    inbound = Inbound(
        channel="web", received_at=datetime.fromisoformat(body["received_at"]),
        subject=str(body["subject"])[:998], text=str(body["text"]),
        language="en" if body["language"] == "en" else "zh",
        sender_name=None if anonymous else (str(body["name"]) or None),
        sender_email=str(body["email"]) or None, sender_phone=str(body["phone"]) or None,
        anonymous=anonymous, raw_sha256=digest, raw_size=len(item.raw),
        attachments=tuple(InboundAttachment(str(f["filename"]), str(f["content_type"]),
                                            int(f["size"]), str(f["sha256"]))
                          for f in body["files"]),
        category_hint=str(body["category"]) or None,
        origin=f"web {via}", extra={
            "consent_health_data": "yes" if body["consent_health_data"] else "no",
            "consent_recorded_by": by, "consent_source": "web"})
    return Understood(inbound)


class WebDoor:
    """``casework.submissions.FileComplaint`` over the ledger and the pipeline."""

    def __init__(self, session_factory: sessionmaker[Session], raw_store: RawStore,
                 clock: Clock, handler: Handler) -> None:
        self.session_factory = session_factory
        self.raw_store = raw_store
        self.clock = clock
        self.handler = handler
        # The verification code of each case opened, by reference, until its answer page
        # shows it: only its hash is stored, so it is read in the pipeline's own session
        # (the code the acknowledgement prints; casework.progress.issue_code).
        self._codes: dict[str, str] = {}
        self._lock = threading.Lock()
        self.ledger = Ledger(session_factory, raw_store, clock, self._handle, door=WEB)

    def _handle(self, session: Session, inbound: Inbound) -> Receipt:
        receipt = self.handler(session, inbound)
        if receipt.outcome == "case" and receipt.case is not None:
            code = issue_code(session, receipt.case)
            with self._lock:
                self._codes[receipt.reference] = code
        return receipt

    def __call__(self, submission: Submission, *, via: str, place: str) -> Filed:
        # The files first, durable before the commit that refers to them (as a mail's).
        hashes = self.raw_store.put_all([f.data for f in submission.files]) \
            if submission.files else []
        raw = raw_item(submission, via=via, place=place, hashes=hashes,
                       received_at=self.clock.now())
        item = SourceItem(SOURCE, via[:255], 0, place[:255], raw)
        try:
            outcome = self.ledger.take(item, read_item)
        except IntegrityError:  # the same place taken by a request racing this one
            outcome = self.ledger.take(item, read_item)
        return self._filed(outcome)

    def _filed(self, outcome: Outcome) -> Filed:
        if outcome.kind in ("case", "follow_up"):  # follow_up: not from a door without threads
            with self._lock:
                code = self._codes.pop(outcome.reference or "", None)
            return Filed("new", outcome.reference, outcome.case_id, code)
        if outcome.kind in ("duplicate", "conflict") and outcome.case_id is not None:
            with self.session_factory() as session:
                reference = session.scalar(select(Case.reference).where(
                    Case.id == outcome.case_id))
            if outcome.kind == "duplicate":
                return Filed("again", reference, outcome.case_id)
            return Filed("changed", reference, outcome.case_id)
        return Filed("held")
