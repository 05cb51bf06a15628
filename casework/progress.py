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

import hashlib
import hmac
import secrets
import unicodedata

from sqlalchemy.orm import Session

from casework.models import Case

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 signs: no 0 O 1 I L
CODE_LENGTH = 10
_SESSION_KEY = "complaintd.progress_codes"
_DUMMY_HASH = "0" * 64
_PHONE_TAIL = 4


def new_code() -> str:
    """A fresh code, formatted for reading (``ABCDE-FGHJK``)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
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
    stored = case.verify_hash if case is not None and case.verify_hash else _DUMMY_HASH
    typed = code_hash(case.reference if case is not None else reference, given)
    same = hmac.compare_digest(stored.encode("ascii"), typed.encode("ascii"))
    return same and case is not None and case.verify_hash is not None


def phone_tail(phone: str | None) -> str:
    """The last four digits of a phone number ('' when it has fewer)."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone or "") if ch.isdigit())
    return digits[-_PHONE_TAIL:] if len(digits) >= _PHONE_TAIL else ""


def check_phone_tail(case: Case | None, given: str) -> bool:
    """True for a hotline case whose caller's number ends in ``given`` (four digits).

    Only hotline cases: a mail complainant's phone (if they wrote one) is not a factor
    they were told of. Compared in constant time; the same work without a case."""
    typed = phone_tail(given)
    party = case.complainant if case is not None else None
    known = phone_tail(party.phone) if party is not None and case is not None \
        and case.channel == "hotline" else ""
    same = hmac.compare_digest((known or "----").encode("ascii"), (typed or "xxxx").encode("ascii"))
    return same and bool(known) and len(normalise_code(given)) == _PHONE_TAIL
