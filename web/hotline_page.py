"""Hotline: a call log uploaded from the browser, imported by the drop folder's importer.

The upload is checked (a call log's name, at most ``max_bytes``), then imported in a
worker thread (``web.uploads.UploadJobs``) while the job's page shows the rows read so
far, asking again every second with htmx (a plain link without JavaScript). A job, not a
synchronous import: a month's log of tens of thousands of rows takes longer than a proxy
waits for an answer, and the person sees it move. The summary (calls imported, cases
opened, follow-ups, duplicates, rows rejected) and the error report (file, row, column,
reason) come from the importer's own report, the same as ``complaintd hotline import``.
"""

from __future__ import annotations

from pathlib import PurePath
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.responses import Response

from web import admin_words as _words  # noqa: F401  (the pages' words)
from web.pages import redirect
from web.plumbing import Ctx, Missing, Refused
from web.uploads import UploadJob, UploadRefused

# Who imports call logs: hotline staff, and those who stand in for them.
IMPORTERS = frozenset({"hotline", "supervisor", "director", "administrator"})
MB = 1024 * 1024


def _importer(ctx: Ctx) -> int:
    if ctx.user is None or not ctx.user.role_set & IMPORTERS:
        raise Refused
    return ctx.user.id


def hotline(ctx: Ctx) -> Response:
    """The upload form (GET) and the upload (POST), which starts the import's job."""
    owner = _importer(ctx)
    door = ctx.console.hotline
    if ctx.request.method == "GET" or door is None:
        return _form(ctx, owner, "hotline_off" if door is None else "", 200)
    upload = ctx.form.get("file") if ctx.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _form(ctx, owner, "upload_missing", 400)
    if (upload.size or 0) > door.max_bytes:
        return _form(ctx, owner, "upload_too_big", 413)
    data = upload.file.read(door.max_bytes + 1)
    try:
        door.check(upload.filename, len(data))
    except UploadRefused as exc:
        return _form(ctx, owner, exc.key, 413 if exc.key == "upload_too_big" else 400)
    job = ctx.console.uploads.start(door, owner=owner, name=upload.filename, data=data,
                                    now=ctx.now)
    return redirect(f"/hotline/jobs/{quote(job.id)}")


def _form(ctx: Ctx, owner: int, error: str, status: int) -> Response:
    door = ctx.console.hotline
    mb = (door.max_bytes if door else 0) // MB
    return ctx.render("hotline.html", status=status, error=ctx.t(error, mb=mb) if error else "",
                      enabled=door is not None, mb=mb, jobs=ctx.console.uploads.of(owner))


def _job(ctx: Ctx) -> UploadJob:
    owner = _importer(ctx)
    job = ctx.console.uploads.get(str(ctx.request.path_params["job_id"])[:64], owner)
    if job is None:
        raise Missing
    return job


def upload_job(ctx: Ctx) -> Response:
    """The job's progress, then its summary; htmx asks for the part alone."""
    job = _job(ctx)
    partial = ctx.request.headers.get("hx-request") == "true"
    door = ctx.console.hotline
    return ctx.render("_upload_job.html" if partial else "hotline_job.html", job=job,
                      mb=(door.max_bytes if door else 0) // MB)


def upload_report(ctx: Ctx) -> Response:
    """The error report of a finished job, as the drop folder writes it beside the file."""
    job = _job(ctx)
    if job.summary is None or job.summary.report_csv is None:
        raise Missing
    stem = PurePath(job.summary.file).stem or "call-log"
    ascii_stem = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_"
                         for c in stem)
    name = f"{stem}.errors.csv"
    return Response(job.summary.report_csv, media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f"attachment; filename=\"{ascii_stem}.errors.csv\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}"})
