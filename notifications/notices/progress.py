"""The answer to a complainant's progress query (``查询`` / ``进度`` / ``progress``, issue 15).

``handling.progress`` decides who is answered and puts the case's public facts into words
(``Plain``); this module only renders them into the outbox, once per query mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from casework.models import Case
from notifications.contexts import Context, OrganisationInfo, Plain, progress_answer_context
from notifications.models import OutboxMail
from notifications.notices.common import Thread
from notifications.notices.complainant import _to_complainant
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer

PROGRESS_ANSWER = "progress_answer"
__all__ = ["PROGRESS_ANSWER", "Plain", "progress_answer_context", "queue_progress_answer"]


def queue_progress_answer(
    session: Session,
    case: Case,
    *,
    progress: Plain,
    inbound_message_id: str | None,
    references: Sequence[str],
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    progress_url: str | None = None,
    language: str | None = None,
) -> OutboxMail | None:
    """Queue the answer to one progress query (keyed by the query's Message-ID), as a
    direct ``auto-replied`` answer to it."""
    def context(name: str | None) -> Context:
        return progress_answer_context(
            reference=case.reference, complainant_name=name, progress=progress,
            progress_url=progress_url, reply_address=identity.reply_to, org=org)

    key = inbound_message_id or now.isoformat()
    return _to_complainant(
        session, case, notice=PROGRESS_ANSWER, dedup_key=f"progress:{case.reference}:{key}"[:255],
        context_for=context, identity=identity, renderer=renderer, now=now,
        language=language, thread=Thread(in_reply_to=inbound_message_id,
                                         references=tuple(references)),
        phone_instead=False, keep_on_case=True, auto_submitted="auto-replied")
