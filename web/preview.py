"""Previews: what an action would write (the referral letter, the interim reply, the
notice of missing material …) shown before it goes.

A preview is the action itself, run by the same code with the same values, in a savepoint
that is then rolled back: the mails are the ones the real run queues (rendered by the same
templates, with exactly the personal fields the authority's rule lets out), read back from
the outbox rows before those vanish with the savepoint. Nothing of it remains but the
record that the person looked (``case_view``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from notifications.models import OutboxMail
from routing import commands
from routing.actions import Acting
from routing.commands import StaffAction
from routing.ports import Notice
from web.acting import REFUSALS, acting_for, case_action_named, visible_case
from web.forms import form_of, given_of, texts_from
from web.models import CaseView
from web.plumbing import Ctx


@dataclass(frozen=True)
class Mail:
    kind: str
    recipient: str
    subject: str
    text: str


@dataclass(frozen=True)
class Preview:
    mails: tuple[Mail, ...]
    refused: str  # the action's refusal ("" when it would run)


def preview_of(acting: Acting, action: StaffAction, texts: Mapping[str, str | None]) -> Preview:
    """The mails ``action`` would queue with ``texts``; nothing is kept."""
    queued: list[str] = []
    mailer = acting.desk.mailer

    def recording(session: Session, notice: Notice, now: datetime) -> str | None:
        message_id = mailer(session, notice, now)
        if message_id is not None:
            queued.append(message_id)
        return message_id

    spied = replace(acting, desk=replace(acting.desk, mailer=recording))
    session = acting.session
    savepoint = session.begin_nested()
    try:
        commands.run(action, spied, action.values_from_text(texts))
        session.flush()
        rows = session.scalars(select(OutboxMail).where(OutboxMail.message_id.in_(queued))
                               .order_by(OutboxMail.id))
        return Preview(tuple(_mail(row) for row in rows), "")
    except REFUSALS as exc:
        return Preview((), str(exc) or type(exc).__name__)
    finally:
        savepoint.rollback()


def _mail(row: OutboxMail) -> Mail:
    message = message_from_bytes(row.raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return Mail(row.kind, row.recipient, str(message["subject"] or ""), str(text))


def preview_page(ctx: Ctx) -> Response:
    """POST /cases/{reference}/preview/{action}: the preview of the form's values; under
    htmx only the mails (swapped in below the form), else a page with a button that sends
    exactly the values previewed and a way back to change them."""
    case = visible_case(ctx)
    action = case_action_named(ctx.request.path_params["action"])
    acting = acting_for(ctx, case, action)
    given = given_of(ctx.form)
    given.pop("csrf_token", None)
    shown = preview_of(acting, action, texts_from(action, given))
    ctx.db.add(CaseView(case_id=case.id, staff=ctx.staff, at=ctx.now,
                        what=f"preview:{action.name}"))
    values: dict[str, Any] = {"case": case, "action": action, "preview": shown, "given": given,
              "form": form_of(action)}
    if ctx.request.headers.get("hx-request") == "true":
        # 200 even when refused: htmx swaps in no 4xx answer, and the refusal is the news.
        return ctx.render("_preview.html", **values)
    return ctx.render("preview.html", status=400 if shown.refused else 200,
                      back=f"/cases/{quote(case.reference)}#action-{action.name}", **values)
