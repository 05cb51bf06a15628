"""The complaint form (``/public/complain``): Chinese first, works on a phone and without
JavaScript. Filed through the web door of intake, so a complaint on the web becomes a
case exactly as a mail does; a double submit or a browser retry sends the same one-time
token and finds the same case.

Bad input re-shows the form with what was typed and every problem at once (files must be
chosen again: a browser cannot be given them back). A filled honeypot field, a token that
is not ours and an address over its hourly limit are refused with a page that says what
to do instead (hotline, mailbox); no CAPTCHA (none is reliably reachable from mainland
China).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from casework.inbound import guess_language
from casework.submissions import Filed, Submission, SubmittedFile
from routing.context import Desk
from web.public import formtoken, limits
from web.public.site import PublicSite, human_size, render, say_for
from web.public.words import Say
from web.security import CSRF_COOKIE

TEXT_MAX = 20_000
NAME_MAX = 100
HONEYPOT = "homepage"
TOKEN = "form_token"
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{4,24}$")


@dataclass(frozen=True)
class Entered:
    """What the person typed, kept to show the form again."""

    name: str = ""
    anonymous: bool = False
    email: str = ""
    phone: str = ""
    category: str = ""
    text: str = ""
    consent_health: bool = False
    privacy_read: bool = False


def entered_of(form: FormData) -> Entered:
    def text(key: str, limit: int = 500) -> str:
        value = form.get(key)
        return value.strip()[:limit] if isinstance(value, str) else ""

    return Entered(name=text("name"), anonymous=form.get("anonymous") == "yes",
                   email=text("email"), phone=text("phone"), category=text("category"),
                   text=text("text", TEXT_MAX + 1), consent_health=form.get("consent") == "yes",
                   privacy_read=form.get("privacy") == "yes")


def problems(entered: Entered, categories: set[str], say: Say) -> list[str]:
    """Everything wrong with the fields, in the order of the form."""
    found = []
    if len(entered.name) > NAME_MAX:
        found.append(say("err_name"))
    if not entered.anonymous and not (entered.email or entered.phone):
        found.append(say("err_contact"))
    if entered.email and not EMAIL.match(entered.email):
        found.append(say("err_email"))
    if entered.phone and not PHONE.match(entered.phone):
        found.append(say("err_phone"))
    if entered.category and entered.category not in categories:
        found.append(say("err_category"))
    if not entered.text:
        found.append(say("err_text"))
    elif len(entered.text) > TEXT_MAX:
        found.append(say("err_text_long", n=TEXT_MAX))
    if not entered.privacy_read:
        found.append(say("err_privacy"))
    return found


async def files_of(form: FormData, site: PublicSite, say: Say) -> tuple[list[SubmittedFile],
                                                                        list[str]]:
    """The chosen files within the limits of mail intake, or what is wrong with them."""
    config = site.config
    uploads = [u for u in form.getlist("files") if isinstance(u, UploadFile) and u.filename]
    if len(uploads) > config.max_files:
        return [], [say("err_files_count", n=config.max_files)]
    files: list[SubmittedFile] = []
    for upload in uploads:
        data = await upload.read(config.max_file_bytes + 1)
        name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:255] or "file"
        if len(data) > config.max_file_bytes:
            return [], [say("err_file_size", name=name, each=human_size(config.max_file_bytes))]
        files.append(SubmittedFile(name, (upload.content_type or "application/octet-stream")
                                   [:255], data))
    if sum(len(f.data) for f in files) > config.max_total_bytes:
        return [], [say("err_files_total", total=human_size(config.max_total_bytes))]
    return files, []


def categories_of(desk: Desk | None, say: Say) -> list[tuple[str, str]]:
    if desk is None:
        return []
    return [(key, say.pick(c.label_zh, c.label_en))
            for key, c in desk.config.categories.items()]


def _contacts(site: PublicSite, say: Say) -> dict[str, str]:
    """Where else to complain, for a page that refuses the form."""
    return {"hotline": site.config.hotline_phone or say("not_set"),
            "mailbox": site.config.mailbox or say("not_set")}


class ComplaintForm:
    def __init__(self, site: PublicSite, env: Environment) -> None:
        self.site = site
        self.env = env

    def page(self, request: Request, entered: Entered, *, status: int = 200,
             errors: tuple[str, ...] = (), notice: str = "", files_again: bool = False,
             ) -> Response:
        say = say_for(request)
        config = self.site.config
        return render(self.env, self.site, request, "public/complain.html", status,
                      entered=entered, errors=errors, notice=notice, files_again=files_again,
                      categories=categories_of(self.site.desk(), say), token_field=TOKEN,
                      token=formtoken.issue(config.secret, request.state.csrf_cookie),
                      honeypot=HONEYPOT, files_hint=say(
                          "files_hint", count=config.max_files,
                          each=human_size(config.max_file_bytes),
                          total=human_size(config.max_total_bytes)))

    async def show(self, request: Request) -> Response:
        return self.page(request, Entered())

    async def send(self, request: Request) -> Response:
        say = say_for(request)
        config = self.site.config
        length = request.headers.get("content-length", "")
        if not length.isdigit() or int(length) > config.max_body_bytes:
            return render(self.env, self.site, request, "public/message.html", 413,
                          title=say("too_big"), text=say(
                              "too_big_text", total=human_size(config.max_total_bytes),
                              mailbox=_contacts(self.site, say)["mailbox"]))
        try:
            form = await request.form(max_files=config.max_files + 1, max_fields=30,
                                      max_part_size=(TEXT_MAX + 100) * 4)
        except HTTPException:  # a broken multipart body, or more parts than a form has
            return render(self.env, self.site, request, "public/message.html", 400,
                          title=say("not_accepted"), text=say(
                              "err_files_count", n=config.max_files))
        try:
            return await self._send(request, form, say)
        finally:
            await form.close()

    async def _send(self, request: Request, form: FormData, say: Say) -> Response:
        config = self.site.config
        entered = entered_of(form)
        address = request.client.host if request.client else "unknown"
        whom = limits.who(config.secret, address)
        if form.get(HONEYPOT):
            await run_in_threadpool(self._count, "honeypot", whom)
            return render(self.env, self.site, request, "public/message.html", 400,
                          title=say("not_accepted"), text=say(
                              "not_accepted_text", **_contacts(self.site, say)))
        place = formtoken.place_of(config.secret, request.cookies.get(CSRF_COOKIE),
                                   form.get(TOKEN), config.form_hours * 3600)
        chose_files = any(isinstance(u, UploadFile) and u.filename
                          for u in form.getlist("files"))
        if place is None:
            return self.page(request, entered, status=400, errors=(say("err_token"),),
                             files_again=chose_files)
        categories = {key for key, _ in categories_of(self.site.desk(), say)}
        wrong = problems(entered, categories, say)
        files, file_wrong = await files_of(form, self.site, say)
        if wrong or file_wrong:
            return self.page(request, entered, status=400, errors=tuple(wrong + file_wrong),
                             files_again=chose_files)
        filed = await run_in_threadpool(self._file, entered, files, place, whom)
        if filed is None:
            return self.page(request, entered, status=429, files_again=chose_files,
                             notice=say("rate_limited_text", **_contacts(self.site, say)))
        return render(self.env, self.site, request, "public/filed.html",
                      filed=filed, mailed=bool(entered.email),
                      code=filed.code)

    def _count(self, kind: str, whom: str) -> None:
        with self.site.session_factory.begin() as db:
            limits.hit(db, kind, whom, self.site.clock.now())

    def _file(self, entered: Entered, files: list[SubmittedFile], place: str,
              whom: str) -> Filed | None:
        """File the complaint, or None when the address is over its hourly limit."""
        config = self.site.config
        with self.site.session_factory() as db:
            if limits.over(db, "complaint", whom, self.site.clock.now(),
                           config.complaints_per_address_per_hour):
                return None
        filed = self.site.file_complaint(self._submission(entered, files), via="form",
                                         place=place)
        if filed.kind == "new":
            self._count("complaint", whom)
        return filed

    def _submission(self, entered: Entered, files: list[SubmittedFile]) -> Submission:
        desk = self.site.desk()
        category = desk.config.categories.get(entered.category) if desk else None
        subject = f"网上投诉：{category.label_zh}" if category else "网上投诉"
        return Submission(text=entered.text, category=entered.category, subject=subject,
                          name="" if entered.anonymous else entered.name,
                          anonymous=entered.anonymous, email=entered.email,
                          phone=entered.phone, consent_health_data=entered.consent_health,
                          language=guess_language(entered.text), files=tuple(files))
