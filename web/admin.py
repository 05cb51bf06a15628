"""The administration pages: the mailboxes' health, the settings in effect (no secret
value, ever) with a summary of the routing rules, and the administrator's accounts page.

Each page reads through a port of the composition root (``Console.mailboxes``,
``Console.settings_view``) or ``web.account_admin``; every change of an account is audited.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from sqlalchemy import func, select
from starlette.responses import Response

from web import account_admin, accounts
from web import admin_words as _words  # noqa: F401  (the pages' words)
from web.models import ROLES, StaffUser, WebSession
from web.pages import redirect
from web.plumbing import Ctx, Missing, Refused

# Who reads the settings (the effective configuration and the routing rules).
SETTINGS_READERS = frozenset({"administrator", "director"})


def _roles(ctx: Ctx) -> frozenset[str]:
    return ctx.user.role_set if ctx.user is not None else frozenset()


# -- mailboxes ----------------------------------------------------------------------------


def mailboxes(ctx: Ctx) -> Response:
    """Each configured mailbox: last poll, last success, last error, mails waiting (a
    Maildir's; an IMAP server is asked only by the daemon), being retried, quarantined."""
    if ctx.user is None or not ctx.user.operates:
        raise Refused
    return ctx.render("mailboxes.html", boxes=ctx.console.mailboxes(ctx.db))


# -- settings -----------------------------------------------------------------------------


def settings(ctx: Ctx) -> Response:
    if not _roles(ctx) & SETTINGS_READERS:
        raise Refused
    lines = ctx.console.settings_view()
    sections: dict[str, list[object]] = {}
    for line in lines:
        sections.setdefault(line.section or "—", []).append(line)
    desk = ctx.console.desk()
    return ctx.render("settings.html", sections=sections,
                      routing=desk.config if desk is not None else None)


# -- accounts -----------------------------------------------------------------------------


def _administrator(ctx: Ctx) -> str:
    if "administrator" not in _roles(ctx):
        raise Refused
    return f"web:{ctx.staff}"


def accounts_page(ctx: Ctx, *, error: str = "", status: int = 200) -> Response:
    _administrator(ctx)
    users = accounts.list_users(ctx.db)
    desk = ctx.console.desk()
    directory = desk.config.staff if desk is not None else {}
    have = {u.staff_id for u in users}
    sessions = {user_id: int(n) for user_id, n in ctx.db.execute(
        select(WebSession.user_id, func.count(WebSession.id))
        .where(WebSession.ended_at.is_(None), WebSession.expires_at > ctx.now)
        .group_by(WebSession.user_id))}
    done = ctx.request.query_params.get("done", "")
    notice = ""
    if done in _DONE:
        notice = ctx.t(f"done_{done}", staff=ctx.request.query_params.get("staff", "")[:64],
                       hours=int(ctx.console.config.sign_in_link_age.total_seconds() // 3600))
    return ctx.render(
        "accounts.html", status=status, users=users, roles=ROLES, sessions=sessions,
        newcomers=sorted((k, p.name) for k, p in directory.items() if k not in have),
        events=account_admin.recent_events(ctx.db), error=error, notice=notice,
        state_of=_state)


_DONE = ("created", "roles", "locked", "unlocked", "link_sent", "signed_out")


def _state(user: StaffUser) -> str:
    if user.locked_at is not None:
        return "state_locked"
    return "state_no_password" if not user.password_hash else "state_active"


def _chosen_roles(ctx: Ctx) -> list[str]:
    chosen = ctx.form.getlist("roles") if ctx.form is not None else []
    return [r for r in chosen if isinstance(r, str)]


def account_create(ctx: Ctx) -> Response:
    actor = _administrator(ctx)
    desk = ctx.console.desk()
    staff_id = ctx.text("staff_id").strip()[:64]
    try:
        with ctx.db.begin_nested():
            account_admin.create(ctx.db, desk.config if desk else None, actor=actor,
                                 staff_id=staff_id, roles=_chosen_roles(ctx), now=ctx.now)
    except accounts.AccountError as exc:
        return accounts_page(ctx, error=ctx.t(exc.key, **exc.facts), status=400)
    return _done("created", staff_id)


def account_change(ctx: Ctx) -> Response:
    """One change of one account: roles, lock, unlock, link, sign-out."""
    actor = _administrator(ctx)
    what = ctx.request.path_params["what"]
    user = accounts.user_by_staff_id(ctx.db, str(ctx.request.path_params["staff_id"])[:64])
    if user is None or what not in _CHANGES:
        raise Missing
    try:
        with ctx.db.begin_nested():
            done = _CHANGES[what](ctx, user, actor)
    except accounts.AccountError as exc:
        return accounts_page(ctx, error=ctx.t(exc.key, **exc.facts), status=400)
    return _done(done, user.staff_id)


def _roles_change(ctx: Ctx, user: StaffUser, actor: str) -> str:
    account_admin.change_roles(ctx.db, user, actor=actor, roles=_chosen_roles(ctx),
                               now=ctx.now)
    return "roles"


def _lock(ctx: Ctx, user: StaffUser, actor: str) -> str:
    account_admin.lock(ctx.db, user, actor=actor, now=ctx.now)
    return "locked"


def _unlock(ctx: Ctx, user: StaffUser, actor: str) -> str:
    account_admin.unlock(ctx.db, user, actor=actor, now=ctx.now)
    return "unlocked"


def _link(ctx: Ctx, user: StaffUser, actor: str) -> str:
    config = ctx.console.config
    account_admin.send_link(ctx.db, user, actor=actor, secret=config.secret,
                            base_url=config.base_url, identity=ctx.console.identity,
                            organisation=config.organisation, age=config.sign_in_link_age,
                            now=ctx.now)
    return "link_sent"


def _sign_out(ctx: Ctx, user: StaffUser, actor: str) -> str:
    account_admin.sign_out_everywhere(ctx.db, user, actor=actor, now=ctx.now)
    return "signed_out"


_CHANGES = {"roles": _roles_change, "lock": _lock, "unlock": _unlock, "link": _link,
            "sign-out": _sign_out}


def _done(what: str, staff_id: str) -> Response:
    return redirect(f"/admin/accounts?{urlencode({'done': what, 'staff': staff_id})}"
                    f"#account-{quote(staff_id)}")
