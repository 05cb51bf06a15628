"""The acknowledgement of a new case (clause 二(二)), and when none may be sent.

The acknowledgement prints the case's verification code (``casework.progress``), the second
factor of the public progress page. Acknowledgements are withheld when the mail asks for no
auto-reply, when the sender's address is a guess, and past the caps of
``handling.backscatter`` (per sender a day, per domain an hour, all automatic answers an
hour; one per case is the outbox's dedup key).
The answer is a value, ``Acknowledgement``: the Message-ID of the queued mail, or why none
was queued; a withheld one is also an event on the case's timeline. The case is kept
either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from casework.inbound import Inbound
from casework.models import Case
from casework.progress import issue_code
from casework.services import ACTOR_INTAKE
from casework.transitions import record
from handling.backscatter import (
    ACKNOWLEDGEMENT,
    Caps,
    acknowledgement_withheld,
    counted,
    mailbox_of,
    prefetch,
)
from notifications.notices import Limit, OrganisationInfo, queue_acknowledgement
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer

__all__ = ["ACKNOWLEDGEMENT", "Acknowledgement", "Acknowledger", "mailbox_of",
           "prefetch_acknowledged", "withheld_because"]


@dataclass(frozen=True)
class Acknowledgement:
    """What became of a case's acknowledgement: its Message-ID, or why there is none."""

    message_id: str | None
    reason: str


@dataclass(frozen=True)
class Acknowledger:
    identity: MailIdentity
    renderer: TemplateRenderer
    org: OrganisationInfo
    caps: Caps
    language_override: str | None = None  # None: the case's own language
    # The public progress page's address, printed with the verification code (None: the
    # public pages are not served; the code still works for a progress query by mail).
    progress_url: str | None = None

    def __call__(self, session: Session, case: Case, inbound: Inbound, now: datetime, *,
                 limit: Limit | None = None, awaiting_material: bool = False,
                 ) -> Acknowledgement:
        """Queue the acknowledgement; ``limit``: the limit its category gives, with its
        unit (None: the organisation's); ``awaiting_material``: no date is promised yet."""
        withheld = withheld_because(session, inbound, now, self.caps)
        if withheld:
            record(case, "acknowledgement_withheld", actor=ACTOR_INTAKE, at=now,
                   details={"why": withheld})
            return Acknowledgement(None, f"acknowledgement withheld: {withheld}")
        mail = queue_acknowledgement(
            session, case, inbound_message_id=inbound.message_id,
            references=inbound.references, identity=self.identity, renderer=self.renderer,
            org=self.org, now=now, language_override=self.language_override,
            limit=limit, awaiting_material=awaiting_material,
            # Issued only for a mail that goes: one hash, set on the case, no flush.
            verification_code=issue_code(session, case), progress_url=self.progress_url)
        if mail is None:
            return Acknowledgement(None, "no address to mail the acknowledgement to")
        counted(session, inbound.sender_email, ACKNOWLEDGEMENT)
        return Acknowledgement(mail.message_id, "acknowledgement queued")


def withheld_because(session: Session, inbound: Inbound, now: datetime,
                     caps: Caps) -> str | None:
    """Why no acknowledgement may go to this sender now, or None."""
    if inbound.extra.get("no_auto_reply"):
        return inbound.extra["no_auto_reply"]
    if inbound.sender_unverified:
        return f"the sender's address is a guess ({inbound.sender_unverified})"
    if not inbound.sender_email:
        return None
    return acknowledgement_withheld(session, inbound.sender_email, now, caps)


# The batch's one look-up, kept under its old name (the pipeline's ``prepare_batch``).
prefetch_acknowledged = prefetch
