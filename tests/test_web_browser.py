"""The staff console in a real browser: Playwright drives Debian's Chromium against the
console served by uvicorn (a live server on a free port, in a thread), over the test
database, with mail delivered to the aiosmtpd server.

The browser is the session's (``tests.fixtures.browser``: Debian's Chromium, no download).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest

from casework.status import CaseStatus
from tests.fixtures.web import PASSWORD, SECRET, Site
from web.serve import Background

pytestmark = pytest.mark.browser

T = TypeVar("T")
RUDE = "12月2日接线员态度粗暴，和我争吵。"


class Live:
    def __init__(self, site: Site, url: str, browser: Any) -> None:
        self.site, self.url, self.browser = site, url, browser
        self.dialogs: list[str] = []

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn`` in a thread of its own: the daemon's jobs send mail with asyncio.run, which
        cannot run inside Playwright's event loop on this thread."""
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(fn, *args, **kwargs).result()

    def page(self, staff: str | None = None, width: int = 1280) -> Any:
        context = self.browser.new_context(viewport={"width": width, "height": 900},
                                           locale="zh-CN")
        page = context.new_page()
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        if staff is not None:
            page.goto(f"{self.url}/sign-in")
            page.get_by_label("工号或邮箱").fill(staff)
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url(f"{self.url}/")
        return page


@pytest.fixture
def live(tmp_path: Path, db_url: str, smtp_server: Any, browser: Any,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    site = Site(tmp_path, db_url, smtp=smtp_server)
    server = Background(site.asgi, "127.0.0.1", 0).start()
    try:
        yield Live(site, f"http://127.0.0.1:{server.port}", browser)
    finally:
        server.stop()
        site.app.close()


def mails_to(smtp: Any, address: str) -> list[Any]:
    return [m for m in smtp.messages if address in m.rcpt_tos]


def test_sign_in_and_work_a_case_from_assignment_to_resolution(live: Live,
                                                                smtp_server: Any) -> None:
    ref = live.run(live.site.mail, RUDE, name="赵六")
    live.site.add_people()
    handler = live.site.case(ref).assignments[-1].handler
    assert handler is not None
    person = live.site.app.desk.config.staff[handler]  # type: ignore[union-attr]
    (assignment,) = mails_to(smtp_server, person.email)
    assert ref in str(assignment.message["Subject"])

    page = live.page(handler)
    assert page.get_by_role("heading", name="我的工作").is_visible()
    page.get_by_role("link", name=ref).first.click()
    page.wait_for_url(f"**/cases/{ref}")
    page.locator("#action-accept summary").click()
    page.get_by_role("button", name="执行：受理").click()
    page.wait_for_url(f"**/cases/{ref}?done=accept*")
    assert "调查中" in page.locator("#h-summary + dl").inner_text()

    page.locator("#action-resolve summary").click()
    page.locator("#resolve-finding").select_option("substantiated")
    page.locator("#resolve-outcome").fill("经核实，已责令当事接线员赔礼道歉。")
    page.get_by_role("button", name="执行：办结").click()
    page.wait_for_url(f"**/cases/{ref}?done=resolve*")
    assert "已办结" in page.locator("#h-summary + dl").inner_text()
    timeline = page.locator("ol.timeline").inner_text()
    assert f"web:{handler}" in timeline

    live.run(live.site.app.send_outbox)
    outcome = [m for m in mails_to(smtp_server, "patient@example.cn")
               if "已责令当事接线员赔礼道歉" in m.message.get_body().get_content()]
    assert len(outcome) == 1
    assert live.site.case(ref).status is CaseStatus.RESOLVED
    page.context.close()


def test_an_excluded_person_cannot_find_the_case_by_any_page_or_url(live: Live) -> None:
    ref = live.run(live.site.mail, "12月2日李娜态度粗暴，和我争吵。", name="赵六")
    live.site.add_people()
    page = live.page("lina")
    assert ref not in page.content()
    page.goto(f"{live.url}/cases")
    for query in (ref, ref.rsplit("-", 1)[-1], "赵六", "态度粗暴"):
        page.get_by_label("搜索", exact=True).fill(query)
        page.get_by_role("button", name="筛选", exact=True).click()
        page.wait_for_load_state("networkidle")
        assert page.get_by_role("status").inner_text() == "共 0 件", query
        assert page.get_by_role("link", name=ref).count() == 0
    answer = page.goto(f"{live.url}/cases/{ref}")
    assert answer is not None and answer.status == 404
    assert page.get_by_role("heading", name="未找到").is_visible()
    assert page.goto(f"{live.url}/cases/{ref}/files/1").status == 404  # type: ignore[union-attr]
    other = live.page("zhangwei")
    other.goto(f"{live.url}/cases/{ref}")
    assert ref in other.get_by_role("heading", level=1).inner_text()
    page.context.close()
    other.context.close()


def test_a_post_without_the_csrf_token_is_refused(live: Live) -> None:
    ref = live.run(live.site.mail, RUDE)
    live.site.add_people()
    handler = live.site.case(ref).assignments[-1].handler
    assert handler is not None
    page = live.page(handler)
    # The browser's own cookies go along (signed in), but no token: refused.
    answer = page.request.post(f"{live.url}/cases/{ref}/act/accept", form={"x": "1"},
                               max_redirects=0)
    assert answer.status == 403 and "表单已失效" in answer.text()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(f"{live.url}/cases/{ref}/act/accept",
                               form={"csrf_token": token}, max_redirects=0)
    assert answer.status == 303  # the same request with the page's token is done
    page.context.close()


def test_a_hostile_complaint_renders_inert(live: Live) -> None:
    payload = '<script>alert("text")</script><img src=x onerror="alert(1)">'
    msg = EmailMessage()
    msg["From"] = '"<img src=y onerror=alert(2)>" <patient@example.cn>'
    msg["Subject"] = '<script>alert("subject")</script>接线员态度'
    msg["Message-ID"] = "<xss-1@example.cn>"
    msg.set_content(f"接线员态度粗暴 {payload}", charset="utf-8")
    msg.add_alternative(f"<p>接线员态度粗暴</p>{payload}<iframe src='javascript:alert(3)'>"
                        "</iframe><a href='javascript:alert(4)'>看</a>", subtype="html")
    (live.site.tmp / "mail" / "new" / "x.M1.host").write_bytes(bytes(msg))
    live.run(live.site.app.run_once)
    live.site.add_people()
    ref = live.run(live.site.mail, "另一件投诉：态度粗暴。")  # the hostile one is the first case
    first = ref[:-1] + "1"
    page = live.page("wangfang")
    for path in ("/", "/cases", f"/cases?q={payload}", f"/cases/{first}"):
        page.goto(f"{live.url}{path}")
        page.wait_for_load_state("networkidle")
    page.locator("details:has(iframe) summary").first.click()
    page.wait_for_timeout(300)
    assert live.dialogs == []
    assert '<script>alert("text")</script>' in page.locator(".message .body").first.inner_text()
    assert page.get_by_role("heading", level=1).inner_text().count("<script>") == 1
    frame = page.frame_locator("iframe.mail-html")
    assert "接线员态度粗暴" in frame.locator("body").inner_text()
    page.context.close()


def test_pages_are_labelled_keyboard_reachable_and_fit_a_phone(live: Live) -> None:
    ref = live.run(live.site.mail, RUDE, name="赵六")
    live.site.add_people()
    handler = live.site.case(ref).assignments[-1].handler
    assert handler is not None
    page = live.page(handler, width=390)
    unlabelled = """() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && !e.hidden)
        .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
        .map(e => e.name)"""
    for path in ("/", "/cases", f"/cases/{ref}", "/new"):
        page.goto(f"{live.url}{path}")
        assert page.evaluate(unlabelled) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        assert page.locator("main#main").count() == 1 and page.locator("nav").count() >= 1
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip", path
    page.context.close()
