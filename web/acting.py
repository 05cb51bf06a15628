"""Acting on a case from the console: the one role rule and the one way an action runs,
shared by the case page, its previews and the bulk actions of the list.

The role is exactly a mail command's (``routing.staffmail.role_of``: the case's handler,
the deputy standing in, the supervisor); an action runs only when its declared ``roles``
hold it, and in a savepoint, so a refusal leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping

from casework import queries
from casework.models import Case
from routing import commands
from routing.actions import Acting, Actor
from routing.commands import CommandError, StaffAction
from routing.conflicts import excluded
from routing.errors import ActionRefused
from routing.staffmail import role_of
from web.plumbing import Ctx, Missing, Refused

# What an action may refuse with: the reason is for the person who asked.
REFUSALS = (ActionRefused, CommandError, ValueError)


def case_of(ctx: Ctx, reference: str) -> Case | None:
    """The case of ``reference``, or None: no such case and one the person may not see
    alike (a person the case is about never finds it)."""
    return queries.case_by_reference(ctx.db, reference[:32], hidden_from=ctx.staff)


def visible_case(ctx: Ctx) -> Case:
    """The case of the URL, or Missing: no such case and a case one may not see alike."""
    case = case_of(ctx, str(ctx.request.path_params["reference"]))
    if case is None:
        raise Missing
    return case


def case_role(ctx: Ctx, case: Case) -> str:
    """The person's role on the case exactly as for a mail command ("" for none); an
    account that only reads (an auditor) has none."""
    desk = ctx.console.desk()
    if desk is None or ctx.user is None or ctx.user.read_only:
        return ""
    return role_of(ctx.db, desk, case, ctx.staff)


def case_action_named(name: str) -> StaffAction:
    """The declared action on a case called ``name`` (Missing: none)."""
    action = next((a for a in commands.ACTIONS if a.name == name and not a.creates_case), None)
    if action is None:
        raise Missing
    return action


def acting_for(ctx: Ctx, case: Case, action: StaffAction) -> Acting:
    """The signed-in person acting on ``case`` with their role on it; Refused when the
    action's roles do not hold that role (or they hold none)."""
    role = case_role(ctx, case)
    desk = ctx.console.desk()
    if not role or desk is None or ctx.staff in excluded(ctx.db, case.id) or \
            not action.may(role):
        raise Refused
    return Acting(ctx.db, desk, case, Actor(ctx.staff, role, via="web"), ctx.now)


def run_action(acting: Acting, action: StaffAction, texts: Mapping[str, str | None]) -> str:
    """Run ``action`` in a savepoint; "" when done, else the reason it was refused (the
    savepoint rolled back: nothing of it remains)."""
    try:
        values = action.values_from_text(texts)
        with acting.session.begin_nested():
            commands.run(action, acting, values)
    except REFUSALS as exc:
        return str(exc) or type(exc).__name__
    return ""
