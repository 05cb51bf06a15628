"""A complaint filed on the web (the public form or a partner's API call), as plain values.

The web side builds a ``Submission``; the web door of intake (``intake.webdoor``) takes
it through the same ledger and pipeline as a mail, exactly once per ``place`` (the form's
one-time token, a partner's Idempotency-Key), and answers with a ``Filed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class SubmittedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Submission:
    text: str
    # A category key of routing.toml, or "" (routing decides from the text).
    category: str = ""
    # The case's subject: written by the door from the category, never by the sender (a
    # reference typed into a subject would thread the complaint onto someone's case).
    subject: str = ""
    name: str = ""
    anonymous: bool = False
    email: str = ""
    phone: str = ""
    # The separate consent to share health information (PIPL art. 29), never pre-ticked.
    consent_health_data: bool = False
    language: str = "zh"
    files: tuple[SubmittedFile, ...] = ()


@dataclass(frozen=True)
class Filed:
    """What became of a submission: ``new`` (a case opened now), ``again`` (this place
    was taken before: the same case, nothing new), ``changed`` (this place was taken
    before with other content: nothing new) or ``held`` (kept in the quarantine for staff,
    no reference yet)."""

    kind: Literal["new", "again", "changed", "held"]
    reference: str | None = None
    case_id: int | None = None
    # The verification code (``casework.progress``), on ``new`` only: it is printed in the
    # acknowledgement too, and nobody can read it back later (only its hash is kept).
    code: str | None = None


class FileComplaint(Protocol):
    def __call__(self, submission: Submission, *, via: str, place: str) -> Filed:
        """Take ``submission`` in once per (``via``, ``place``); ``via`` is ``form`` or
        ``api:<partner>``."""
        ...
