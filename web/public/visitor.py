"""How a request to a public page becomes a page: no staff session (a staff cookie is not
even read), the CSRF token checked on POST (the console's Guard sets the cookie), small
form limits, one database session, the visitor's language and address, and the attempt
counts the rate limits read (``public_attempt``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jinja2 import Environment
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from casework.models import PublicAttempt
from web.context import Console
from web.security import CSRF_COOKIE, CSRF_FIELD, LANG_COOKIE, csrf_ok, csrf_token

HOUR = timedelta(hours=1)
MAX_FIELDS = 20
MAX_PART_BYTES = 16 * 1024

WORDS: dict[str, tuple[str, str]] = {
    "site": ("投诉服务", "Complaint services"),
    "skip": ("跳到正文", "Skip to content"),
    "switch_lang": ("English", "中文"),
    "progress": ("查询办理进度", "Where does my complaint stand?"),
    "progress_intro": ("请输入受理编号和受理回执邮件中的查询码（匿名投诉为回执码）；热线来电的，"
                       "可输入来电号码的后四位。",
                       "Enter the reference and the verification code from our "
                       "acknowledgement (the receipt code if you complained anonymously); "
                       "hotline callers may give the last four digits of the phone number "
                       "they called from."),
    "reference": ("受理编号", "Reference"),
    "code": ("查询码 / 回执码 / 来电号码后四位",
             "Verification code, receipt code or last four digits"),
    "look": ("查询", "Look up"),
    "no_match": ("受理编号或查询码不正确。请核对受理回执邮件后重试。",
                 "The reference or the code is not right. Check our acknowledgement and "
                 "try again."),
    "rate_limited": ("尝试次数过多，请一小时后再试，或拨打投诉热线。",
                     "Too many attempts; try again in an hour, or call our hotline."),
    "status": ("当前状态", "Status"),
    "body": ("办理单位", "Handled by"),
    "committed": ("承诺时限", "Time limit"),
    "waiting_for": ("正在等待", "Waiting for"),
    "steps": ("办理经过", "So far"),
    "received": ("收到日期", "Received"),
    "privacy": ("本页不显示个人信息、工作人员姓名或投诉内容。",
                "This page shows no personal data, no staff names and no text of the complaint."),
    "csrf_refused": ("表单已失效，请刷新页面后重试。",
                     "The form has expired; reload the page and try again."),
    "survey": ("满意度评价", "Satisfaction survey"),
    "survey_intro": ("您的投诉（受理编号 {reference}）已办结。请告诉我们办理情况。",
                     "Your complaint (reference {reference}) has been finished. Please tell us "
                     "how it went."),
    "solved": ("您反映的问题解决了吗？", "Was the problem solved?"),
    "solved_yes": ("已解决", "Yes"),
    "solved_partly": ("部分解决", "Partly"),
    "solved_no": ("未解决", "No"),
    "level": ("您对办理工作满意吗？", "How satisfied are you with how we handled it?"),
    "comment": ("意见和建议（选填）", "Comments (optional)"),
    "send": ("提交", "Send"),
    "choose_both": ("请选择问题是否解决以及满意程度。",
                    "Please say whether the problem was solved and how satisfied you are."),
    "survey_thanks": ("感谢您的评价！我们已收到。", "Thank you: we have your answer."),
    "survey_review": ("我们会复核本案，并与您联系回访。",
                      "We will review the case and get back to you."),
    "survey_done": ("本案的满意度评价已经收到，每件投诉只评价一次。",
                    "We already have the survey answer for this case; there is one per case."),
    "link_gone": ("链接无效或已过期。如需评价，请直接回复办结邮件，或拨打投诉热线。",
                  "This link is not valid or has expired. Reply to the outcome mail or call "
                  "our hotline instead."),
    "feedback": ("活动意见函", "Activity feedback form"),
    "feedback_intro": ("欢迎对我们的活动、探访和服务提出意见。本表不收集姓名和联系方式；"
                       "如需我们答复，请提出投诉。",
                       "Tell us about our events, visits and services. This form collects no "
                       "name or contact; to get an answer, make a complaint instead."),
    "activity": ("活动或服务名称", "Event or service"),
    "attended_on": ("参加日期（选填）", "Date (optional)"),
    "feedback_level": ("总体满意程度", "Overall satisfaction"),
    "feedback_missing": ("请填写活动名称并选择满意程度。",
                         "Please name the event and choose how satisfied you are."),
    "bad_date": ("日期格式应为 2026-12-02。", "The date should look like 2026-12-02."),
    "feedback_thanks": ("感谢您的意见！", "Thank you for your feedback."),
    "forms_limited": ("提交次数过多，请一小时后再试。",
                      "Too many forms sent; try again in an hour."),
    "level_5": ("非常满意", "Very satisfied"),
    "level_4": ("满意", "Satisfied"),
    "level_3": ("基本满意", "Fairly satisfied"),
    "level_2": ("不满意", "Dissatisfied"),
    "level_1": ("非常不满意", "Very dissatisfied"),
    "website": ("网址（请留空）", "Website (leave empty)"),
}


class PublicWords:
    """``w("key", **facts)`` in the visitor's language; ``w.pick((zh, en))``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in ("zh", "en") else "zh"
        self._i = 0 if self.lang == "zh" else 1

    def __call__(self, key: str, **facts: object) -> str:
        text = WORDS[key][self._i]
        return text.format(**facts) if facts else text

    def pick(self, pair: tuple[str, str] | None) -> str:
        return pair[self._i] if pair else ""


@dataclass(frozen=True)
class PublicConfig:
    """What the public pages are given by the composition root (``[public]``)."""

    attempts_per_address: int = 20
    attempts_per_reference: int = 5
    forms_per_address: int = 10
    # Signs and checks the links sent by mail (casework.progress.make_link_token); None:
    # no routing desk, so no survey links.
    link_key: bytes | None = None
    # Link keys of the thread keys before a rotation: links already mailed still work.
    previous_link_keys: tuple[bytes, ...] = ()
    org_zh: str = "投诉受理中心"
    org_en: str = "Complaints office"


@dataclass
class Visit:
    request: Request
    db: Session
    console: Console
    env: Environment
    w: PublicWords
    now: datetime
    address: str
    public: PublicConfig
    form: FormData | None = None

    def text(self, name: str, limit: int = 2000) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip()[:limit] if isinstance(value, str) else ""

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        cookie = self.request.state.csrf_cookie
        page = self.env.get_template(template).render(
            w=self.w, lang=self.w.lang, path=self.request.url.path,
            csrf=csrf_token(self.console.config.secret, cookie), csrf_field=CSRF_FIELD,
            org=self.console.config.organisation, **values)
        return HTMLResponse(page, status_code=status)

    # -- the rate limits -------------------------------------------------------------

    def attempts(self, what: str, *, failed_only: bool, reference: str | None = None) -> int:
        """Attempts of the last hour on ``what`` from this address (or on ``reference``)."""
        who = PublicAttempt.address == self.address if reference is None \
            else PublicAttempt.reference == reference
        query = select(func.count(PublicAttempt.id)).where(
            PublicAttempt.what == what, PublicAttempt.at > self.now - HOUR, who)
        if failed_only:
            query = query.where(PublicAttempt.succeeded.is_(False))
        return int(self.db.scalar(query) or 0)

    def note(self, what: str, *, succeeded: bool, reference: str | None = None) -> None:
        self.db.add(PublicAttempt(what=what, address=self.address,
                                  reference=(reference or None) and reference[:32],
                                  at=self.now, succeeded=succeeded))


VisitFn = Callable[[Visit], Response]


def public_page(console: Console, env: Environment, fn: VisitFn,
                public: PublicConfig) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of a public page ``fn``: never a staff session."""

    async def endpoint(request: Request) -> Response:
        form = None
        if request.method == "POST":
            form = await request.form(max_files=0, max_fields=MAX_FIELDS,
                                      max_part_size=MAX_PART_BYTES)
            if not csrf_ok(console.config.secret, request.cookies.get(CSRF_COOKIE),
                           form.get(CSRF_FIELD)):
                await form.close()
                words = PublicWords(request.cookies.get(LANG_COOKIE, "zh"))
                return HTMLResponse(env.get_template("public/notice.html").render(
                    w=words, lang=words.lang, path=request.url.path, csrf="",
                    csrf_field=CSRF_FIELD, org=console.config.organisation,
                    title=words("site"), text=words("csrf_refused")), status_code=403)
        try:
            return await run_in_threadpool(_run, console, env, fn, request, form, public)
        finally:
            if form is not None:
                await form.close()

    return endpoint


def _run(console: Console, env: Environment, fn: VisitFn, request: Request,
         form: FormData | None, public: PublicConfig) -> Response:
    words = PublicWords(request.cookies.get(LANG_COOKIE, "zh"))
    client = request.client
    address = (client.host if client else "-")[:64]
    with console.session_factory() as db:
        visit = Visit(request, db, console, env, words, console.clock.now(), address, public,
                      form)
        response = fn(visit)
        db.commit()
        return response
