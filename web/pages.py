"""The console's pages. What they show comes from ``casework.queries``; what they do, from
``routing.commands.ACTIONS`` with the same role rule as a mail command
(``routing.staffmail.role_of``): the case's handler, deputy or supervisor, never a person
the case is about (``CaseExclusion``), who cannot even find it (404, as for no case)."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

from openpyxl import Workbook
from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from casework import queries, search
from casework.calendar import WorkCalendar
from casework.clock import SHANGHAI
from casework.models import Attachment, Case, CaseExclusion
from casework.status import CHANNEL_LABELS, OPEN_STATUSES, CaseStatus
from casework.tasks import CallTask, TaskAlreadyDone, complete_task
from notifications import review
from notifications.models import OutboxMail
from routing import commands
from routing.actions import Actor
from routing.case_life import Opening
from routing.commands import CommandError, StaffAction
from routing.errors import ActionRefused
from web import accounts
from web.acting import acting_for, case_action_named, case_role, run_action, visible_case
from web.bulk import bulk_actions
from web.checklist import checklist_of
from web.forms import case_forms, form_of, given_of, opening_forms, texts_from
from web.models import CaseView, SavedView
from web.plumbing import Ctx, Missing, Names, Refused, local_path, local_time
from web.security import LANG_COOKIE, SESSION_COOKIE, cookie_line

PAGE_SIZE = 50
SEARCH_CATCH_UP = 200  # cases a search indexes before it runs, at most
CASE_ROLES = frozenset({"handler", "delegate", "supervisor"})
FILTER_KEYS = ("q", "status", "channel", "category", "department", "handler", "received_from",
               "received_until", "due_from", "due_until", "overdue")


def today_of(ctx: Ctx) -> date:
    return ctx.now.astimezone(SHANGHAI).date()


def days_left(ctx: Ctx, due: date | None) -> int | None:
    if due is None:
        return None
    return ctx.console.calendar.working_days_between(today_of(ctx), due)


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


# -- signing in and out -----------------------------------------------------------------


def sign_in_page(ctx: Ctx) -> Response:
    target = local_path(ctx.request.query_params.get("next"))
    if ctx.request.method == "GET":
        notice = ctx.t("password_set") if ctx.request.query_params.get("set") else ""
        return ctx.render("sign_in.html", next=target, error="", notice=notice)
    client = ctx.request.client
    address = client.host if client else "-"
    config = ctx.console.config
    try:
        signed = accounts.sign_in(ctx.db, login=ctx.text("login"), password=ctx.text("password"),
                                  address=address[:64], now=ctx.now, lifetime=config.session_max)
    except accounts.AccountError as exc:
        ctx.db.commit()  # the attempt is recorded even though it failed
        return ctx.render("sign_in.html", status=401 if exc.key != "rate_limited" else 429,
                          next=target, error=ctx.t(exc.key, **exc.facts), notice="")
    response = redirect(local_path(ctx.text("next")))
    response.headers.append("set-cookie", cookie_line(
        SESSION_COOKIE, signed.token, secure=config.secure_cookies,
        max_age=int(config.session_max.total_seconds())))
    return response


def sign_out(ctx: Ctx) -> Response:
    token = ctx.request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_session(ctx.db, token, ctx.now)
    return _signed_out("/sign-in", ctx)


def sign_out_everywhere(ctx: Ctx) -> Response:
    assert ctx.user is not None
    accounts.end_sessions(ctx.db, ctx.user, ctx.now)
    return _signed_out("/sign-in", ctx)


def _signed_out(target: str, ctx: Ctx) -> Response:
    response = redirect(target)
    response.headers.append("set-cookie", cookie_line(
        SESSION_COOKIE, "", secure=ctx.console.config.secure_cookies, max_age=0))
    return response


def set_password_page(ctx: Ctx) -> Response:
    token = ctx.request.path_params["token"]
    config = ctx.console.config
    try:
        user = accounts.user_for_link(ctx.db, token, config.secret, config.sign_in_link_age)
    except accounts.AccountError as exc:
        return ctx.render("message.html", status=400, title=ctx.t("set_password"),
                          text=ctx.t(exc.key))
    if ctx.request.method == "GET":
        return ctx.render("set_password.html", person=user, error="")
    password = ctx.text("password")
    if password != ctx.text("password_again"):
        return ctx.render("set_password.html", status=400, person=user,
                          error=ctx.t("password_mismatch"))
    try:
        accounts.set_password(ctx.db, user, password, ctx.now)
    except accounts.AccountError as exc:
        return ctx.render("set_password.html", status=400, person=user,
                          error=ctx.t(exc.key, **exc.facts))
    return redirect("/sign-in?set=1")


def language(ctx: Ctx) -> Response:
    lang = ctx.request.path_params["lang"]
    response = redirect(local_path(ctx.request.query_params.get("next")))
    if lang in {"zh", "en"}:
        response.headers.append("set-cookie", cookie_line(
            LANG_COOKIE, lang, secure=ctx.console.config.secure_cookies, max_age=365 * 86400))
    return response


# -- my work ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    case: Case
    left: int | None
    overdue: bool


def rows(ctx: Ctx, cases: list[Case]) -> list[Row]:
    today = today_of(ctx)
    return [Row(c, days_left(ctx, c.resolve_due), queries.is_overdue(c, today)) for c in cases]


def my_work(ctx: Ctx) -> Response:
    me, today = ctx.staff, today_of(ctx)
    mine = rows(ctx, queries.handled_by(ctx.db, me))
    soon = ctx.console.config.due_soon_working_days
    desk = ctx.console.desk()
    hidden = _excluded_ids(ctx)
    mine_ids = {r.case.id for r in mine}
    waiting = [w for w in queries.awaiting_material(ctx.db, hidden_from=me)
               if w.case.id in mine_ids]
    roles = ctx.user.role_set if ctx.user else frozenset()
    extensions: list[tuple[object, Case]] = []
    if "supervisor" in roles or "director" in roles:
        departments = None
        if desk is not None and "director" not in roles and \
                me not in {desk.config.top, desk.config.triage_supervisor}:
            departments = [k for k, d in desk.config.departments.items() if d.supervisor == me]
        extensions = list(queries.pending_extensions(ctx.db, departments=departments,
                                                     hidden_from=me))
    callbacks = []
    if "hotline" in roles:
        callbacks = [task for task in queries.due_tasks(ctx.db, today)
                     if task.case_id not in hidden]
    referrals = [r for r in queries.referral_answers_due(ctx.db, due_by=today, hidden_from=me)
                 if r.case_id in mine_ids or roles & {"supervisor", "director"}]
    counts = queries.count_by_status(ctx.db, hidden_from=me) \
        if roles & {"supervisor", "director", "auditor"} else None
    return ctx.render(
        "work.html", overdue=[r for r in mine if r.overdue],
        due_soon=[r for r in mine if not r.overdue and r.left is not None and r.left <= soon],
        later=[r for r in mine if not r.overdue and (r.left is None or r.left > soon)],
        waiting=waiting, extensions=extensions, callbacks=callbacks, referrals=referrals,
        counts=counts, roles=roles)


def _excluded_ids(ctx: Ctx) -> set[int]:
    return set(ctx.db.scalars(select(CaseExclusion.case_id)
                              .where(CaseExclusion.staff == ctx.staff)))


# -- the list of cases ------------------------------------------------------------------


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _start(day: date | None, plus: int = 0) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=plus), time.min, SHANGHAI)


def _given(ctx: Ctx) -> dict[str, str]:
    params = ctx.request.query_params
    return {k: params.get(k, "").strip()[:200] for k in FILTER_KEYS}


def _found(ctx: Ctx, given: dict[str, str], limit: int, offset: int) -> tuple[list[Case], int]:
    """The cases of the list's filters, never one the person is excluded from."""
    status = given["status"] if given["status"] in {s.value for s in CaseStatus} else ""
    if given["q"]:  # index what came in since the daemon's last run (bounded; the rest is
        search.catch_up(ctx.db, limit=SEARCH_CATCH_UP)  # read by substring meanwhile)
    return queries.find_cases(
        ctx.db, text=given["q"], due_from=_day(given["due_from"]),
        due_until=_day(given["due_until"]), limit=limit, offset=offset,
        hidden_from=ctx.staff, status=CaseStatus(status) if status else None,
        channel=given["channel"] or None, category=given["category"] or None,
        department=given["department"] or None, handler=given["handler"] or None,
        received_from=_start(_day(given["received_from"])),
        received_before=_start(_day(given["received_until"]), 1),
        overdue_on=today_of(ctx) if given["overdue"] else None)


def case_list(ctx: Ctx) -> Response:
    given = _given(ctx)
    try:
        page_no = max(1, min(int(ctx.request.query_params.get("page", "1")), 10_000))
    except ValueError:
        page_no = 1
    found, total = _found(ctx, given, PAGE_SIZE, (page_no - 1) * PAGE_SIZE)
    query = urlencode({k: v for k, v in given.items() if v})
    views = list(ctx.db.scalars(select(SavedView).where(SavedView.user_id == ctx.user.id)
                                .order_by(SavedView.name))) if ctx.user else []
    desk = ctx.console.desk()
    return ctx.render(
        "cases.html", rows=rows(ctx, found), total=total, given=given, query=query,
        page_no=page_no, pages=max(1, -(-total // PAGE_SIZE)), views=views,
        statuses=list(CaseStatus), channels=_channels(),
        categories=sorted(desk.config.categories) if desk else [],
        departments=sorted(desk.config.departments) if desk else [],
        staff=sorted(desk.config.staff) if desk else [],
        bulk=bulk_actions() if ctx.user is not None and not ctx.user.read_only else [])


EXPORT_ROWS = 10_000
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA) else text


def _export_rows(ctx: Ctx) -> list[list[str]]:
    """The current list (its filters, at most EXPORT_ROWS), as the list shows it: no contact
    details, no case the person is excluded from."""
    found, _ = _found(ctx, _given(ctx), EXPORT_ROWS, 0)
    names = Names(ctx.console.desk(), ctx.t)
    head = [ctx.t(k) for k in ("reference", "subject", "status", "channel", "category",
                                "department", "received", "due", "days_left")]
    body = [[_cell(v) for v in (
        r.case.reference, r.case.subject, ctx.t.status(r.case.status),
        ctx.t.channel(r.case.channel), names.category(r.case.category),
        names.department(r.case.department), local_time(r.case.received_at),
        r.case.resolve_due.isoformat() if r.case.resolve_due else "",
        "" if r.left is None else r.left)] for r in rows(ctx, found)]
    return [head, *body]


def export_csv(ctx: Ctx) -> Response:
    out = io.StringIO()
    csv.writer(out).writerows(_export_rows(ctx))
    # A byte-order mark: Excel opens UTF-8 CSV with Chinese correctly only with it.
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="cases.csv"'})


def export_xlsx(ctx: Ctx) -> Response:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("cases")
    for row in _export_rows(ctx):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), media_type="application/vnd.openxmlformats-officedocument"
                    ".spreadsheetml.sheet",
                    headers={"content-disposition": 'attachment; filename="cases.xlsx"'})


def _channels() -> list[str]:
    return list(CHANNEL_LABELS)


def save_view(ctx: Ctx) -> Response:
    assert ctx.user is not None
    name = ctx.text("name").strip()[:100]
    query = urlencode({k: v for k, v in _parsed(ctx.text("query")).items() if k in FILTER_KEYS})
    if name:
        existing = ctx.db.scalar(select(SavedView).where(SavedView.user_id == ctx.user.id,
                                                          SavedView.name == name))
        if existing is not None:
            existing.query = query
        else:
            ctx.db.add(SavedView(user_id=ctx.user.id, name=name, query=query,
                                 created_at=ctx.now))
    return redirect(f"/cases?{query}")


def _parsed(query: str) -> dict[str, str]:
    return {k: v[:200] for k, v in parse_qsl(query)}


def delete_view(ctx: Ctx) -> Response:
    assert ctx.user is not None
    view = ctx.db.get(SavedView, _int(ctx.request.path_params["view_id"]))
    if view is None or view.user_id != ctx.user.id:
        raise Missing
    ctx.db.delete(view)
    return redirect("/cases")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise Missing from None


# -- a case -----------------------------------------------------------------------------


def case_page(ctx: Ctx, *, outcome: str = "", status: int = 200) -> Response:
    case = visible_case(ctx)
    ctx.db.add(CaseView(case_id=case.id, staff=ctx.staff, at=ctx.now, what="case"))
    role = case_role(ctx, case)
    messages = queries.case_messages(ctx.db, case)
    files = {m.id: list(m.attachments) for m in messages}
    merged_into = ctx.db.get(Case, case.merged_into_id) if case.merged_into_id else None
    current = next((a for a in reversed(case.assignments) if a.ended_at is None), None)
    return ctx.render(
        "case.html", status=status, case=case, role=role,
        contacts=role in CASE_ROLES, messages=messages, files=files, current=current,
        left=days_left(ctx, case.resolve_due),
        overdue=queries.is_overdue(case, today_of(ctx)), merged_into=merged_into,
        forms=case_forms(frozenset({role})) if role else [], outcome=outcome,
        read_only=ctx.user is not None and ctx.user.read_only,
        srcdoc=_srcdoc, is_open=case.status in OPEN_STATUSES,
        shown=str if role in CASE_ROLES else _masked,
        checklist=checklist_of(ctx.db, ctx.console.desk(), case) if role else None)


_CONTACT = re.compile(r"[^\s;,<>]+@[^\s;,<>]+|\+?\d[\d\s-]{6,}\d")


def _masked(value: object) -> str:
    """A timeline detail as shown to someone without the contact details: addresses and
    phone numbers (a mail's recipient, a call's number) masked."""
    return _CONTACT.sub("•••", str(value))


def _srcdoc(html: str) -> str:
    """A message's sanitised HTML as a document of its own: its policy loads nothing (no
    remote image, font or style); the frame is also sandboxed (no script, no same origin)."""
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return (f'<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy"'
            f' content="{policy}"><base target="_blank">{html}')


def case_action(ctx: Ctx) -> Response:
    case = visible_case(ctx)
    action = case_action_named(ctx.request.path_params["action"])
    acting = acting_for(ctx, case, action)
    refused = run_action(acting, action, texts_from(action, given_of(ctx.form)))
    if refused:
        return case_page(ctx, outcome=ctx.t("refused", why=refused), status=400)
    ctx.db.commit()
    return redirect(f"/cases/{quote(case.reference)}?done={quote(action.name)}#actions")


def attachment(ctx: Ctx) -> Response:
    case = visible_case(ctx)
    file_id = _int(ctx.request.path_params["file_id"])
    found = ctx.db.get(Attachment, file_id)
    ids = {m.id for m in queries.case_messages(ctx.db, case)}
    if found is None or found.message_pk not in ids or found.refused or not found.sha256:
        raise Missing
    try:
        data = ctx.console.raw_store.get(found.sha256)
    except (OSError, KeyError):
        raise Missing from None
    ctx.db.add(CaseView(case_id=case.id, staff=ctx.staff, at=ctx.now,
                        what=f"attachment:{found.id}"))
    # Never rendered by the browser: a download of opaque bytes, whatever the sender said.
    name = found.filename or f"attachment-{found.id}"
    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in ".-_" else "_" for c in name)
    return Response(data, media_type="application/octet-stream", headers={
        "content-disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}",
        "content-security-policy": "default-src 'none'; sandbox"})


# -- a case opened by hand --------------------------------------------------------------


def _opening_action() -> StaffAction:
    return next(a for a in commands.ACTIONS if a.creates_case)


def new_case(ctx: Ctx) -> Response:
    if ctx.user is None or not ctx.user.may_open_cases:
        raise Refused
    action = _opening_action()
    if ctx.request.method == "GET":
        return ctx.render("new.html", forms=opening_forms(), error="", given={})
    given = {k: v for k, v in ctx.form.items() if isinstance(v, str)} if ctx.form else {}
    uploads = [f for f in (ctx.form.getlist("attachments") if ctx.form else [])
               if isinstance(f, UploadFile) and f.filename]
    desk = ctx.console.desk()
    staff = ctx.staff
    with tempfile.TemporaryDirectory(prefix="complaintd-upload-") as folder:
        paths = []
        for index, upload in enumerate(uploads):
            # The file keeps its name (the case shows it); the folder is ours alone.
            safe = Path(upload.filename or "file").name.replace("\x00", "")[:200] or "file"
            path = Path(folder) / str(index) / safe
            path.parent.mkdir()
            path.write_bytes(upload.file.read())
            paths.append(str(path))
        texts = texts_from(action, given)
        texts["attachments"] = "\n".join(paths) or None
        opening = Opening(ctx.db, desk, Actor(staff, "staff", via="web"), ctx.now,
                          ctx.console.intake, ctx.console.raw_store)
        try:
            values = action.values_from_text(texts)
            with ctx.db.begin_nested():
                case = action.run(opening, **values)
        except (ActionRefused, CommandError, ValueError) as exc:
            return ctx.render("new.html", status=400, forms=[form_of(action, uploads=True)],
                              error=ctx.t("refused", why=exc), given=given)
    assert isinstance(case, Case)
    ctx.db.commit()
    return redirect(f"/cases/{quote(case.reference)}?opened=1")


# -- hotline: a follow-up call done -----------------------------------------------------


def call_done(ctx: Ctx) -> Response:
    """A hotline member closes a follow-up call with what came of it (on the timeline, the
    signed-in person as the one who called)."""
    if ctx.user is None or "hotline" not in ctx.user.role_set:
        raise Refused
    task_id = _int(ctx.request.path_params["task_id"])
    task = ctx.db.get(CallTask, task_id)
    if task is None or task.case_id in _excluded_ids(ctx):
        raise Missing
    outcome = ctx.text("outcome").strip()[:2000]
    if not outcome:
        return redirect("/#h-calls")
    # Done twice (two tabs): the first outcome stands.
    with contextlib.suppress(TaskAlreadyDone):
        complete_task(ctx.db, task_id, outcome=outcome, by=f"web:{ctx.staff}", now=ctx.now)
    return redirect("/#h-calls")


# -- the register of commitment violations (clause 七) ----------------------------------


def violations(ctx: Ctx) -> Response:
    """The register in the order recorded (``open=1``: not yet carried out); a violation of
    a case the person is excluded from is left out like the case. Sanction applied and
    compensation paid are recorded on the case page (``#处分落实``, ``#赔偿到位``)."""
    if ctx.user is None or not ctx.user.reads_register:
        raise Refused
    open_only = bool(ctx.request.query_params.get("open"))
    hidden = _excluded_ids(ctx)
    entries = [e for e in queries.violation_register(ctx.db, open_only=open_only, limit=500)
               if e.violation.case_id not in hidden]
    return ctx.render("violations.html", entries=entries, open_only=open_only)


# -- the working-day calendar --------------------------------------------------------------


def calendar_page(ctx: Ctx) -> Response:
    """The calendar every deadline is counted in: the years it covers, what is missing
    (next year's holidays not yet published …) and the days ahead that are not what their
    weekday suggests — why a deadline falls later, or a Saturday counts."""
    if ctx.user is None or not (ctx.user.reads_register or ctx.user.operates):
        raise Refused
    calendar = ctx.console.calendar
    if not isinstance(calendar, WorkCalendar):
        raise Missing
    today = ctx.now.astimezone(SHANGHAI).date()
    ahead = (today + timedelta(days=n) for n in range(90))
    days = [(day, working) for day in ahead
            if (working := calendar.is_working_day(day)) == (day.weekday() >= 5)]
    years = calendar.years()
    warnings = [w.en if ctx.t.lang == "en" else w.zh for w in calendar.check(today)]
    return ctx.render("calendar.html", days=days, warnings=warnings,
                      years=f"{years[0]}–{years[-1]}" if years else "—")


# -- the outbox and the quarantine (director, administrator) -----------------------------


def _operator(ctx: Ctx) -> None:
    if ctx.user is None or not ctx.user.operates:
        raise Refused


def outbox(ctx: Ctx) -> Response:
    """Outgoing mail, newest first (``failed=1``: only failed ones); mail of a case the
    person is excluded from is left out like the case."""
    _operator(ctx)
    failed = bool(ctx.request.query_params.get("failed"))
    hidden = _excluded_ids(ctx)
    entries = [e for e in review.list_mail(ctx.db, failed_only=failed, limit=200)
               if e.mail.case_id not in hidden]
    return ctx.render("outbox.html", entries=entries, failed=failed, notice="")


def outbox_retry(ctx: Ctx) -> Response:
    _operator(ctx)
    mail_id = _int(ctx.request.path_params["mail_id"])
    row = ctx.db.get(OutboxMail, mail_id)
    if row is None or row.case_id in _excluded_ids(ctx):
        raise Missing
    try:
        review.retry_mail(ctx.db, mail_id, now=ctx.now, actor=f"web:{ctx.staff}")
    except (LookupError, review.AlreadySent):
        raise Missing from None
    return redirect("/outbox?failed=1")


def quarantine(ctx: Ctx) -> Response:
    _operator(ctx)
    every = bool(ctx.request.query_params.get("all"))
    items = queries.quarantine_items(ctx.db, include_resolved=every, limit=200)
    return ctx.render("quarantine.html", items=items, every=every)


# -- the keyboard shortcuts ----------------------------------------------------------------


def shortcuts_page(ctx: Ctx) -> Response:
    """The shortcuts as a page (the overlay's list, for a reader without JavaScript)."""
    return ctx.render("shortcuts.html")
