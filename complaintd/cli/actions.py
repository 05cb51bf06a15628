"""CLI twins of every staff action, made from the declarations in ``routing.commands``.

Staff at the server act as themselves (``--as NAME``); the same rules apply as to a command
by mail: only the roles the action names (the case's handler, the deputy or the
supervisor), and nobody named in the complaint. Each command runs in one transaction and
queues the same mail. A group made with ``ActionGroup`` offers the twin of every action
declared for it (``StaffAction.cli_group``): an action in the table needs no code here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.orm import Session

from casework import queries
from casework.models import Case
from complaintd.cli.context import Context, console, fail
from complaintd.cli.i18n import MESSAGES, Translator
from routing import commands
from routing.actions import Acting, Actor
from routing.case_life import Opening
from routing.commands import CommandError, StaffAction, run
from routing.conflicts import excluded
from routing.errors import ActionRefused
from routing.staffmail import role_of

MESSAGES.update({
    "routing_off": ("未配置分派规则（[routing] rules_file）。",
                    "No routing rules configured ([routing] rules_file)."),
    "unknown_staff": ("没有名为 {name} 的工作人员。", "No staff member called {name}."),
    "not_allowed": ("{name} 不是本案承办人、代理人或主管，不能操作。",
                    "{name} is not the handler, deputy or supervisor of this case."),
    "action_refused": ("未执行：{why}", "Not done: {why}"),
    "action_done": ("已完成：{ref} 现为 {status}，办结期限 {due}。",
                    "Done: {ref} is now {status}, due {due}."),
    "case_opened": ("已立案：{ref}（{status}），办结期限 {due}。",
                    "Case opened: {ref} ({status}), due {due}."),
})


class ActionGroup(click.Group):
    """A group whose commands include the twin of every action declared for it, read from
    the table when the command line is read (a new entry needs no code here)."""

    def _declared(self) -> dict[str, StaffAction]:
        return {a.name: a for a in commands.ACTIONS if a.cli_group == self.name}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._declared()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        action = self._declared().get(cmd_name)
        return twin(action) if action is not None else super().get_command(ctx, cmd_name)


def open_case(obj: Context, as_name: str, action: StaffAction,
              given: dict[str, str | None]) -> None:
    """Run an action that creates a case (``creates_case``): any member of staff, through
    the same pipeline as mail and call logs, in one transaction."""
    app, t = obj.app()
    staff = as_name
    if app.desk is not None:
        found = app.desk.config.staff_by_name(as_name)
        if found is None:
            fail(t("unknown_staff", name=as_name))
            return
        staff = found
    with app.session_factory() as session:
        opening = Opening(session, app.desk, Actor(staff, "staff", via="cli"), app.clock.now(),
                          app.pipeline, app.raw_store)
        try:
            values = action.values_from_text(given)
            with session.begin_nested():
                case = action.run(opening, **values)
            assert isinstance(case, Case)
        except (ActionRefused, CommandError, ValueError) as exc:
            fail(t("action_refused", why=exc))
            return
        session.commit()
        console.print(t("case_opened", ref=case.reference, status=t.status(str(case.status)),
                        due=case.resolve_due or "-"))


def perform(obj: Context, reference: str, as_name: str, action: StaffAction,
            given: dict[str, str | None]) -> None:
    """Run ``action`` on the case as staff member ``as_name``, in one transaction."""
    app, t = obj.app()
    if app.desk is None:
        fail(t("routing_off"))
        return
    desk = app.desk
    now = app.clock.now()
    with _case(app.session_factory, reference, t) as (session, case):
        staff = desk.config.staff_by_name(as_name)
        if staff is None:
            fail(t("unknown_staff", name=as_name))
            return
        role = role_of(session, desk, case, staff)
        if not role or staff in excluded(session, case.id) or not action.may(role):
            fail(t("not_allowed", name=as_name))
        try:
            values = action.values_from_text(given)
            with session.begin_nested():
                run(action, Acting(session, desk, case, Actor(staff, role, via="cli"), now),
                    values)
        except (ActionRefused, CommandError, ValueError) as exc:
            fail(t("action_refused", why=exc))
        session.commit()
        console.print(t("action_done", ref=case.reference, status=t.status(str(case.status)),
                        due=case.resolve_due or "-"))


@contextmanager
def _case(factory: Callable[[], Session], reference: str,
          t: Translator) -> Iterator[tuple[Session, Case]]:
    with factory() as session:
        case = queries.case_by_reference(session, reference)
        if case is None:
            fail(t("case_not_found", ref=reference))
        assert case is not None
        yield session, case


def twin(action: StaffAction) -> click.Command:
    """The CLI command of one staff action: REFERENCE (none for an action that creates a
    case), its values, ``--as NAME``."""
    params: list[click.Parameter] = [] if action.creates_case else [click.Argument(["reference"])]
    for param in action.params:
        label = f"{param.label_zh} / {param.label_en}"
        if param.option:
            params.append(click.Option([f"--{param.name}"], required=param.required,
                                       default=None, help=label, multiple=param.multiple))
        else:
            params.append(click.Argument([param.name], required=param.required,
                                         metavar=param.label_en.upper().replace(" ", "-")))
    params.append(click.Option(["--as", "as_name"], required=True,
                               help="你的姓名或工号 / your name or staff id"))

    @click.pass_obj
    def callback(obj: Context, /, as_name: str, reference: str = "", **given: Any) -> None:
        # An option given several times reaches the action as one value a line.
        texts = {k: "\n".join(v) if isinstance(v, tuple) else v for k, v in given.items()}
        if action.creates_case:
            open_case(obj, as_name, action, texts)
        else:
            perform(obj, reference, as_name, action, texts)

    roles = "（主管 / supervisors only）" if action.roles == frozenset({"supervisor"}) else ""
    return click.Command(action.name, callback=callback, params=params,
                         help=f"{action.help_zh} / {action.help_en} "
                              f"(#{action.word_zh}){roles}")
