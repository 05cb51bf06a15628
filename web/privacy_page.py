"""The privacy page: a person's rights (PIPL art. 44–47) in the console, and the register
of privacy actions (``privacy_action``).

The same functions as ``complaintd privacy export|correct|erase`` (``privacy.person``),
written to the register with ``web:<staff>`` and to the account log (``account_event``).
Each request has two steps: the form, then a page saying what will happen (the person's
cases found; for an erasure, its dry run: what goes, what the legal hold keeps), then the
confirmed action. Directors and administrators act; an auditor reads the register.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.responses import Response

from privacy.models import PrivacyAction
from privacy.person import (
    CORRECTABLE,
    PersonNotFound,
    Who,
    correct_person,
    erase_person,
    erasure_summary,
    export_person,
    find_person,
    log_action,
)
from web import account_admin
from web import privacy_words as _words  # noqa: F401  (the page's words)
from web.i18n import TEXT
from web.pages import redirect
from web.plumbing import Ctx, Missing, Refused

# Who answers a person's requests (the organisation's head and the system's keeper), and
# who may read the register (it names nobody: a keyed hash of the address).
ACTORS = frozenset({"director", "administrator"})
READERS = ACTORS | {"auditor"}
ACTIONS = ("export", "correct", "erase")
_REGISTER_ROWS = 100


def _roles(ctx: Ctx) -> frozenset[str]:
    return ctx.user.role_set if ctx.user is not None else frozenset()


def _actor(ctx: Ctx) -> str:
    if not _roles(ctx) & ACTORS:
        raise Refused
    return f"web:{ctx.staff}"


def register_page(ctx: Ctx, *, error: str = "", status: int = 200) -> Response:
    if not _roles(ctx) & READERS:
        raise Refused
    rows = list(ctx.db.scalars(select(PrivacyAction)
                               .order_by(PrivacyAction.at.desc(), PrivacyAction.id.desc())
                               .limit(_REGISTER_ROWS)))
    done = ctx.request.query_params.get("done", "")
    notice = ctx.t(f"privacy_done_{done}") if done in ACTIONS else ""
    return ctx.render("privacy.html", status=status, known=TEXT, rows=rows, error=error,
                      notice=notice, acts=bool(_roles(ctx) & ACTORS), fields=CORRECTABLE,
                      outcome=_outcome)


def _outcome(row: PrivacyAction) -> dict[str, Any]:
    """What the register row says happened, for the table (counts and references)."""
    details = row.details or {}
    held = details.get("held") or []
    return {"cases": details.get("cases") or [], "held": [h.get("reference") for h in held],
            "fields": details.get("fields") or [], "files": details.get("files"),
            "bytes": details.get("bytes")}


def request_page(ctx: Ctx) -> Response:
    """A request's two steps: without ``confirm``, what will happen; with it, do it."""
    actor = _actor(ctx)
    action = str(ctx.request.path_params["action"])
    if action not in ACTIONS:
        raise Missing
    try:
        who = Who(email=ctx.text("email").strip()[:320], phone=ctx.text("phone").strip()[:40])
        changes = _changes(ctx) if action == "correct" else {}
    except ValueError:
        return register_page(ctx, error=ctx.t("privacy_who_needed"), status=400)
    try:
        if ctx.text("confirm") != "yes":
            return _confirm(ctx, action, who, changes, actor)
        return _RUN[action](ctx, who, changes, actor)
    except PersonNotFound:
        return register_page(ctx, error=ctx.t("privacy_not_found"), status=404)


def _changes(ctx: Ctx) -> dict[str, str]:
    changes = {f: ctx.text(f"new_{f}").strip()[:320] for f in CORRECTABLE
               if ctx.text(f"new_{f}").strip()}
    if not changes:
        raise ValueError("nothing to correct")
    return changes


def _confirm(ctx: Ctx, action: str, who: Who, changes: dict[str, str],
             actor: str) -> Response:
    held = find_person(ctx.db, who)
    if not held.parties and not held.other_messages:
        raise PersonNotFound(who.key)
    erasure = None
    if action == "erase":
        # The dry run, registered as the CLI's --dry-run is; it changes nothing.
        erasure = erase_person(ctx.db, ctx.console.raw_store, who, now=ctx.now, actor=actor,
                               dry_run=True)
        _log(ctx, actor, "erase", who, erasure_summary(erasure), dry_run=True)
    return ctx.render("privacy_confirm.html", known=TEXT, action=action, who=who, changes=changes,
                      cases=[c.reference for c in held.cases], erasure=erasure,
                      other_messages=len(held.other_messages))


def _export(ctx: Ctx, who: Who, _changes: dict[str, str], actor: str) -> Response:
    data = export_person(ctx.db, ctx.console.raw_store, who)
    _log(ctx, actor, "export", who, {"bytes": len(data)})
    name = f"privacy-export-{ctx.now:%Y%m%d-%H%M%S}.zip"
    # Health information: never kept by a cache on the way.
    return Response(data, media_type="application/zip", headers={
        "content-disposition": f'attachment; filename="{name}"',
        "cache-control": "no-store"})


def _correct(ctx: Ctx, who: Who, changes: dict[str, str], actor: str) -> Response:
    refs = correct_person(ctx.db, who, changes, now=ctx.now, actor=actor)
    _log(ctx, actor, "correct", who, {"cases": refs, "fields": sorted(changes)})
    return _done("correct")


def _erase(ctx: Ctx, who: Who, _changes: dict[str, str], actor: str) -> Response:
    report = erase_person(ctx.db, ctx.console.raw_store, who, now=ctx.now, actor=actor)
    _log(ctx, actor, "erase", who, erasure_summary(report))
    return _done("erase")


_RUN = {"export": _export, "correct": _correct, "erase": _erase}


def _log(ctx: Ctx, actor: str, action: str, who: Who, details: dict[str, Any], *,
         dry_run: bool = False) -> None:
    subject = ctx.console.privacy_subject(who) if ctx.console.privacy_subject else None
    row = log_action(ctx.db, at=ctx.now, actor=actor, action=action, subject=subject,
                     dry_run=dry_run, details=details)
    ctx.db.flush()
    kind = f"privacy_{action}{'_dry_run' if dry_run else ''}"
    account_admin.record(ctx.db, actor=actor, staff_id=ctx.staff, action=kind, now=ctx.now,
                         detail=f"privacy_action #{row.id}")


def _done(action: str) -> Response:
    return redirect(f"/privacy?{urlencode({'done': action})}")
