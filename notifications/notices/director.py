"""The monthly summary to the director (``[reports] director_to``): last month's figures
against the month before, and the cases overdue on the day it is written. Counted by
``casework.figures`` (the annual report's functions), never by SQL of its own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from notifications.contexts import OrganisationInfo
from notifications.models import OutboxMail
from notifications.monthly import MonthSummary, monthly_summary_context
from notifications.notices.common import NO_THREAD, Delivery, Recipient, queue_notice
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer

__all__ = ["MonthSummary", "queue_monthly_summary"]


def queue_monthly_summary(
    session: Session,
    *,
    recipient_email: str,
    summary: MonthSummary,
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str = "zh",
) -> OutboxMail | None:
    """Once per recipient and month (key ``monthly-summary:EMAIL:YYYY-MM``), so a job that
    runs again the same month queues nothing more."""
    address = recipient_email.strip().lower()
    context = monthly_summary_context(summary=summary, director_to=address, org=org)
    return queue_notice(
        session, notice="monthly_summary", language=language, context=context,
        dedup_key=f"monthly-summary:{address}:{summary.month:%Y-%m}", case=None,
        delivery=Delivery(Recipient(recipient_email, None), NO_THREAD, "auto-generated",
                          identity),
        renderer=renderer, now=now)  # fmt: skip
