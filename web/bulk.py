"""Bulk actions on the cases selected in the list: one declared action of the command table
(reassign, note, a change of status, merge …) run on each case in turn, each with the same
role rule as on its own page, each in its own savepoint; the page then says, case by case,
what was done and what was refused and why.

A case the person is excluded from is never listed, so it cannot be selected; a reference
sent by hand for such a case gets the same "not found" as one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from casework.models import Case
from routing import commands
from routing.commands import StaffAction
from web.acting import acting_for, case_action_named, case_of, run_action
from web.forms import form_of, given_of, texts_from
from web.plumbing import Ctx, Missing, Refused

# At most one page of the list; a form also carries at most plumbing.MAX_FIELDS values.
MOST = 50


@dataclass(frozen=True)
class Result:
    reference: str
    case: Case | None
    done: bool
    why: str  # the refusal ("" when done)


def bulk_actions() -> list[StaffAction]:
    """The actions a selection may be given: every declared action on a case."""
    return [a for a in commands.ACTIONS if not a.creates_case]


def _references(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        for reference in value.split():
            seen.setdefault(reference.strip()[:32], None)
    return [r for r in seen if r][:MOST]


def _acts(ctx: Ctx) -> None:
    if ctx.user is None or ctx.user.read_only:
        raise Refused


def bulk_form(ctx: Ctx) -> Response:
    """GET /cases/bulk?action=…&ref=…: the chosen action's form for the selected cases."""
    _acts(ctx)
    params = ctx.request.query_params
    references = _references(params.getlist("ref"))
    name = params.get("action", "")
    if not name:
        return ctx.render("bulk.html", status=400, stage="choose", error=ctx.t("bulk_no_action"),
                          cases=[], missing=0, action=None, form=None, results=[])
    action = case_action_named(name)
    cases = [c for c in (case_of(ctx, r) for r in references) if c is not None]
    if not cases:
        return ctx.render("bulk.html", status=400, stage="choose", error=ctx.t("bulk_none"),
                          cases=[], missing=len(references), action=action, form=None,
                          results=[])
    return ctx.render("bulk.html", stage="form", error="", cases=cases,
                      missing=len(references) - len(cases), action=action,
                      form=form_of(action), results=[])


def bulk_run(ctx: Ctx) -> Response:
    """POST /cases/bulk: run the action on each selected case; the summary case by case."""
    _acts(ctx)
    try:
        action = case_action_named(ctx.text("action"))
    except Missing:
        return ctx.render("bulk.html", status=400, stage="choose", error=ctx.t("bulk_no_action"),
                          cases=[], missing=0, action=None, form=None, results=[])
    sent = ctx.form.getlist("ref") if ctx.form else []
    references = _references([v for v in sent if isinstance(v, str)])
    texts = texts_from(action, given_of(ctx.form))
    results = [_one(ctx, reference, action, texts) for reference in references]
    ctx.db.commit()
    refused = sum(1 for r in results if not r.done)
    return ctx.render("bulk.html", status=200, stage="done", error="", cases=[], missing=0,
                      action=action, form=None, results=results,
                      done_count=len(results) - refused, refused_count=refused)


def _one(ctx: Ctx, reference: str, action: StaffAction,
         texts: dict[str, str | None]) -> Result:
    case = case_of(ctx, reference)
    if case is None:
        return Result(reference, None, False, ctx.t("bulk_not_found"))
    shown = case.reference
    try:
        acting = acting_for(ctx, case, action)
    except Refused:
        return Result(shown, case, False, ctx.t("bulk_not_yours"))
    refused = run_action(acting, action, texts)
    return Result(shown, case, not refused, refused)
