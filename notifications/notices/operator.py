"""Notices to whoever runs the installation (``[operator] alert_to``): what no member of
staff can act on, such as next year's holidays missing from the working-day calendar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from notifications import contexts as c
from notifications.contexts import MissingYear, OrganisationInfo
from notifications.models import OutboxMail
from notifications.notices.common import NO_THREAD, Delivery, Recipient, queue_notice
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer


def queue_calendar_missing(
    session: Session,
    *,
    recipient_email: str,
    today: date,
    years: Sequence[MissingYear],
    identity: MailIdentity,
    renderer: TemplateRenderer,
    org: OrganisationInfo,
    now: datetime,
    language: str = "zh",
) -> OutboxMail | None:
    """The holidays of ``years`` are missing from the calendar: once per recipient and day
    (key ``calendar-missing:EMAIL:DATE``), so a daemon checking every hour mails once."""
    address = recipient_email.strip().lower()
    context = c.calendar_missing_context(today=today, years=list(years), alert_to=address,
                                         org=org)
    return queue_notice(
        session, notice="calendar_missing", language=language, context=context,
        dedup_key=f"calendar-missing:{address}:{today.isoformat()}", case=None,
        delivery=Delivery(Recipient(recipient_email, None), NO_THREAD, "auto-generated",
                          identity),
        renderer=renderer, now=now)  # fmt: skip
