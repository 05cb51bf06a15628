"""``complaintd users …``: console accounts for the people of the staff directory.

add (with roles), set-password (unlocks and ends every session), invite (a one-time link
by mail through the outbox, or printed), lock (and end every session), list.
"""

from __future__ import annotations

import getpass
import sys
from datetime import datetime, timedelta

import click
from rich.markup import escape
from sqlalchemy.orm import Session

from complaintd.cli.context import Context, console, fail
from complaintd.settings import ConfigError, check_web_secret
from web import accounts
from web.account_admin import record
from web.mail import queue_sign_in_link, sign_in_link
from web.models import ROLES


@click.group()
def users() -> None:
    """员工工作台账户 / staff console accounts."""


@users.command("add")
@click.argument("staff_id")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="角色（可多次）/ role (repeatable)")
@click.option("--email", default=None, help="无分派规则时 / without routing rules")
@click.option("--name", default=None, help="无分派规则时 / without routing rules")
@click.pass_obj
def add(obj: Context, staff_id: str, roles: tuple[str, ...], email: str | None,
        name: str | None) -> None:
    """添加账户 / add an account for a person of the staff directory."""
    app, t = obj.app()
    if app.desk is not None:
        person = app.desk.config.staff.get(staff_id)
        if person is None:
            fail(t("staff_not_in_directory", staff=staff_id))
            return
        email, name = email or person.email, name or person.name
    if not email or not name:
        fail(t("user_needs_email"))
        return
    with app.session_factory.begin() as session:
        try:
            added = accounts.add_user(session, staff_id=staff_id, email=email, name=name,
                                      roles=list(roles), now=app.clock.now())
        except accounts.AccountError as exc:
            fail(t(exc.key, **exc.facts))
            return
        _audit(session, staff_id, "created", app.clock.now(), added.roles)
    console.print(escape(t("user_added", staff=staff_id, roles=",".join(roles))))


@users.command("set-password")
@click.argument("staff_id")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取 / read it from stdin")
@click.pass_obj
def set_password(obj: Context, staff_id: str, password_stdin: bool) -> None:
    """设置密码（并解锁）/ set the password (and unlock)."""
    app, t = obj.app()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    with app.session_factory.begin() as session:
        user = accounts.user_by_staff_id(session, staff_id)
        if user is None:
            fail(t("user_unknown", staff=staff_id))
            return
        try:
            accounts.set_password(session, user, password, app.clock.now())
        except accounts.AccountError as exc:
            fail(t(exc.key, **exc.facts))
            return
        _audit(session, staff_id, "password_set", app.clock.now())
    console.print(escape(t("password_set", staff=staff_id)))


@users.command("invite")
@click.argument("staff_id")
@click.option("--print", "print_link", is_flag=True,
              help="只显示链接，不发邮件 / print the link instead of mailing it")
@click.pass_obj
def invite(obj: Context, staff_id: str, print_link: bool) -> None:
    """发送设置密码的一次性链接 / send the one-time link to set a password."""
    app, t = obj.app()
    try:
        secret = check_web_secret(app.settings)
    except ConfigError as exc:
        fail(t("config_error", detail=exc))
        return
    web = app.settings.web
    age = timedelta(hours=web.sign_in_link_hours)
    with app.session_factory.begin() as session:
        user = accounts.user_by_staff_id(session, staff_id)
        if user is None:
            fail(t("user_unknown", staff=staff_id))
            return
        if print_link:
            link = sign_in_link(user, secret=secret, base_url=web.base_url)
            console.print(escape(t("invite_link", link=link, hours=web.sign_in_link_hours)))
            return
        queue_sign_in_link(session, user, secret=secret, base_url=web.base_url,
                           identity=app.identity, organisation=app.settings.organisation.name,
                           age=age, now=app.clock.now())
        _audit(session, staff_id, "link_sent", app.clock.now(), user.email)
        email = user.email
    console.print(escape(t("invite_queued", email=email, hours=web.sign_in_link_hours)))


@users.command("lock")
@click.argument("staff_id")
@click.pass_obj
def lock(obj: Context, staff_id: str) -> None:
    """锁定账户并结束其所有会话 / lock the account and end all its sessions."""
    app, t = obj.app()
    with app.session_factory.begin() as session:
        user = accounts.user_by_staff_id(session, staff_id)
        if user is None:
            fail(t("user_unknown", staff=staff_id))
            return
        accounts.lock(session, user, app.clock.now())
        _audit(session, staff_id, "locked", app.clock.now())
    console.print(escape(t("user_locked", staff=staff_id)))


def _audit(session: Session, staff_id: str, action: str, now: datetime,
           detail: str = "") -> None:
    """The change in the accounts' audit (``account_event``), as the console records it;
    the actor is the operator's login on the server."""
    record(session, actor=f"cli:{getpass.getuser()}", staff_id=staff_id, action=action,
           now=now, detail=detail)


@users.command("list")
@click.pass_obj
def list_users(obj: Context) -> None:
    """列出账户 / list the accounts."""
    app, t = obj.app()
    with app.session_factory() as session:
        found = accounts.list_users(session)
        if not found:
            console.print(t("users_none"))
        for user in found:
            state = ("user_state_locked" if user.locked_at else
                     "user_state_no_password" if not user.password_hash else "user_state_active")
            console.print(escape(t("user_row", staff=user.staff_id, name=user.display_name,
                                   email=user.email, roles=user.roles, state=t(state))))
