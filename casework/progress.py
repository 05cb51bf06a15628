"""The complainant's second factor for the public progress page: the verification code.

The acknowledgement prints a code beside the reference (an anonymous complainant is asked
to keep it as a receipt code, as whistleblowing systems do); the reference plus the code
shows the case's progress on the public page. Hotline callers may use the last four digits
of the phone number they called from instead.

* The code is 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L), made with
  ``secrets``: 50 bits, shown as ``ABCDE-FGHJK``. What is typed back is read leniently
  (case, spaces, hyphens, full-width characters).
* Only a hash is stored (``cases.verify_hash``): SHA-256 over the reference and the code.
  No key is needed: the code guards what the database itself holds, so a pepper would add
  nothing, and intake pays one hash per case and no extra row or flush.
* ``check_code`` and ``check_phone_tail`` do the same hash work whether or not the case
  exists (a dummy is hashed for an unknown reference), so a wrong code and an unknown
  reference take the same time as well as giving the same page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.clock import SHANGHAI
from casework.models import Case, MaterialRequest, Party
from casework.status import CaseStatus

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 signs: no 0 O 1 I L
CODE_LENGTH = 10
_SESSION_KEY = "complaintd.progress_codes"
_DUMMY_HASH = "0" * 64
_PHONE_TAIL = 4
_NO_PHONE = "00000000000"  # walked like a mobile number, then never matched


def new_code() -> str:
    """A fresh code, formatted for reading (``ABCDE-FGHJK``): one draw from ``secrets``
    below 31¹⁰, written in the alphabet (uniform, and cheaper than ten draws)."""
    number = secrets.randbelow(len(ALPHABET) ** CODE_LENGTH)
    signs = []
    for _ in range(CODE_LENGTH):
        number, sign = divmod(number, len(ALPHABET))
        signs.append(ALPHABET[sign])
    raw = "".join(signs)
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(text: str) -> str:
    """What a person typed, as the code: full-width folded, upper case, separators out."""
    folded = unicodedata.normalize("NFKC", text[:64]).upper()
    return "".join(ch for ch in folded if ch.isalnum())


def code_hash(reference: str, code: str) -> str:
    """The stored form of ``code`` for the case ``reference`` (hex SHA-256)."""
    bound = "\x00".join(("complaintd-code-v1", reference.strip().upper(),
                         normalise_code(code)))
    return hashlib.sha256(bound.encode("utf-8")).hexdigest()


def issue_code(session: Session, case: Case) -> str:
    """The case's verification code, for the acknowledgement and the web form's receipt.

    Within one session (one transaction of the pipeline) the same code comes back for the
    same case, so the code the web form shows on screen after a submission is the one its
    acknowledgement mail prints: call this after the pipeline, in the same session. Called
    in a later session it issues a NEW code (the old one stops working): only the hash is
    kept, nobody can read a code back.

    Sets ``case.verify_hash`` only: no row, no flush, one hash.
    """
    issued: dict[Case, str] = session.info.setdefault(_SESSION_KEY, {})
    code = issued.get(case)
    if code is None:
        code = issued[case] = new_code()
        case.verify_hash = code_hash(case.reference, code)
    return code


def check_code(case: Case | None, reference: str, given: str) -> bool:
    """True when ``given`` is the code of ``case``; the same work when there is no case
    (``reference`` as typed is hashed against a dummy)."""
    subject = case if case is not None else _stand_in()
    stored = subject.verify_hash or _DUMMY_HASH
    stored_reference = subject.reference
    typed = code_hash(stored_reference if case is not None else reference, given)
    same = hmac.compare_digest(stored.encode("ascii"), typed.encode("ascii"))
    return same and case is not None and case.verify_hash is not None


_STAND_IN: list[Case] = []


def _stand_in() -> Case:
    """A case never stored, for an unknown reference: the checks then read the same
    attributes of the same kind of object as for a real case (the same work and time).
    Made once (building an ORM object costs more than the checks); never changed."""
    if not _STAND_IN:
        _STAND_IN.append(Case(reference="", channel="", verify_hash=None,
                              complainant=Party(phone=None)))
    return _STAND_IN[0]


def phone_tail(phone: str | None) -> str:
    """The last four digits of a phone number ('' when it has fewer)."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone or "") if ch.isdigit())
    return digits[-_PHONE_TAIL:] if len(digits) >= _PHONE_TAIL else ""


def check_phone_tail(case: Case | None, given: str) -> bool:
    """True for a hotline case whose caller's number ends in ``given`` (four digits).

    Only hotline cases: a mail complainant's phone (if they wrote one) is not a factor
    they were told of. Compared in constant time; the same work without a case."""
    typed = phone_tail(given)
    subject = case if case is not None else _stand_in()
    party = subject.complainant
    hotline = case is not None and subject.channel == "hotline"
    # The same digit walk for every case: a phone that may not be used is replaced, not
    # skipped (load the complainant with the case, so no case costs a query more).
    phone = party.phone if party is not None and party.phone and hotline else _NO_PHONE
    walked = phone_tail(phone)
    known = walked if phone is not _NO_PHONE and walked else "----"
    same = hmac.compare_digest(known.encode("ascii"), (typed or "xxxx").encode("ascii"))
    return same and phone is not _NO_PHONE and len(normalise_code(given)) == _PHONE_TAIL


# -- links sent by mail: signed, bound to a case and a purpose, and they expire ----------


def link_key(secret: bytes) -> bytes:
    """The key of public links, derived from the installation's thread key (one secret to
    keep; a link key cannot be turned back into a reply-token key)."""
    return hmac.new(secret, b"complaintd-public-links-v1", hashlib.sha256).digest()


def make_link_token(key: bytes, case_id: int, purpose: str, expires: date) -> str:
    """``<case>.<expiry day>.<tag>``: the case and the last day the link works, with an
    HMAC-SHA256 tag (80 bits) over both and the purpose ("survey", "progress")."""
    body = f"{case_id}.{expires.strftime('%Y%m%d')}"
    return f"{body}.{_link_tag(key, body, purpose)}"


def read_link_token(key: bytes, token: str, purpose: str, today: date) -> int | None:
    """The case a link was made for, or None: forged, for another purpose, or expired."""
    parts = token[:80].split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2].encode("ascii", "replace"),
                               _link_tag(key, body, purpose).encode("ascii")):
        return None
    try:
        expires = datetime.strptime(parts[1], "%Y%m%d").date()
    except ValueError:
        return None
    return int(parts[0]) if today <= expires else None


def _link_tag(key: bytes, body: str, purpose: str) -> str:
    bound = "\x00".join(("complaintd-link-v1", purpose, body)).encode("utf-8")
    digest = hmac.new(key, bound, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:10]).decode("ascii").rstrip("=")


# -- what the public may know of a case ---------------------------------------------------

# A case's status as the public reads it: one of a few stages (no internal step names).
STAGE_OF: dict[CaseStatus, str] = {
    CaseStatus.RECEIVED: "registered",
    CaseStatus.ACKNOWLEDGED: "registered",
    CaseStatus.AWAITING_MATERIAL: "material",
    CaseStatus.ROUTED: "handling",
    CaseStatus.INVESTIGATING: "handling",
    CaseStatus.REOPENED: "handling",
    CaseStatus.EXTENDED: "handling",
    CaseStatus.REFERRED: "authority",
    CaseStatus.RESOLVED: "finished",
    CaseStatus.CLOSED: "finished",
    CaseStatus.WITHDRAWN: "withdrawn",
    CaseStatus.REJECTED: "rejected",
}


@dataclass(frozen=True)
class Step:
    """A stage the case reached, and the (Shanghai) day it did."""

    on: date
    stage: str


@dataclass(frozen=True)
class Progress:
    """What the progress page and the progress answer by mail may say of a case: no
    personal data, no staff names, no text of the complaint. ``department`` and
    ``authority`` are keys of the routing file (a surface turns them into names)."""

    reference: str
    stage: str
    received_on: date
    resolve_due: date | None  # None while material is missing, or once finished
    department: str | None
    authority: str | None  # the latest referral's authority
    authority_answer_due: date | None
    material_items: tuple[str, ...]  # what the open material request asks for
    extended: bool
    steps: tuple[Step, ...]


def progress_of(case: Case, open_material: tuple[str, ...] = ()) -> Progress:
    """The public facts of ``case``; ``open_material``: the items of its open material
    request (``open_material_items``)."""
    stage = _stage(case.status)
    referral = case.referrals[-1] if case.referrals else None
    done = stage in {"finished", "withdrawn", "rejected"}
    return Progress(
        reference=case.reference, stage=stage, received_on=_day(case.received_at),
        resolve_due=None if done or stage == "material" else case.resolve_due,
        department=case.department, authority=referral.authority if referral else None,
        authority_answer_due=referral.answer_due if referral and stage == "authority"
        else None,
        material_items=open_material if stage == "material" else (),
        extended=any(e.kind == "extension_approved" for e in case.events),
        steps=_steps(case))


def open_material_items(session: Session, case: Case) -> tuple[str, ...]:
    request = session.scalar(select(MaterialRequest).where(
        MaterialRequest.case_id == case.id, MaterialRequest.completed_at.is_(None))
        .order_by(MaterialRequest.id.desc()).limit(1))
    return tuple(request.items) if request is not None else ()


def _steps(case: Case) -> tuple[Step, ...]:
    steps = [Step(_day(case.received_at), "registered")]
    for event in case.events:
        if event.kind != "status_changed":
            continue
        stage = _stage(str(event.details.get("to", "")))
        if stage != steps[-1].stage:
            steps.append(Step(_day(event.at), stage))
    return tuple(steps)


def _stage(status: str) -> str:
    try:
        return STAGE_OF[CaseStatus(status)]
    except (ValueError, KeyError):  # an unknown word: the public only learns "in hand"
        return "handling"


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()
