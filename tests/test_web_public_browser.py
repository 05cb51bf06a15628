"""The public side in Chromium (issue 15): the progress page with a right code, a wrong
code and an unknown reference (the same page for both failures), the survey answered on
the web from the outcome mail's link, and the activity feedback form. Mail goes through
aiosmtpd; the codes and links are read from the mail as a complainant would.

Named to run after test_web_browser: while the session's Playwright browser is open, a test
that sends mail with asyncio.run on the main thread cannot (these tests send in a thread)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from casework.models import ActivityFeedback, Case, SurveyResponse
from casework.status import CaseStatus
from casework.tasks import CallTask
from casework.transitions import transition
from routing.actions import send_outcome
from tests import test_web_browser as staff_browser
from tests.test_web_browser import Live, mails_to

# The console's live server with aiosmtpd, reused (the browser is the session's,
# tests.fixtures.browser).
live = staff_browser.live

pytestmark = pytest.mark.browser
PATIENT = "patient@example.cn"
COMPLAINT = "12月2日接线员态度粗暴，和我争吵。"
CODE = re.compile(r"查询码：([2-9A-Z]{5}-[2-9A-Z]{5})")
SURVEY = re.compile(r"(http://console\.test/public/survey/\S+)")


def code_of(smtp: Any, ref: str) -> str:
    for mail in mails_to(smtp, PATIENT):
        found = CODE.search(mail.message.get_body(("plain",)).get_content())
        if found and ref in str(mail.message["Subject"]):
            return found.group(1)
    raise AssertionError("no acknowledgement with a code")


def look_up(live: Live, reference: str, code: str, width: int = 1280) -> Any:
    page = live.page(width=width)
    page.goto(f"{live.url}/public/progress")
    page.get_by_label("受理编号").fill(reference)
    page.get_by_label("查询码 / 回执码 / 来电号码后四位").fill(code)
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    return page


def test_progress_page_right_and_wrong_codes(live: Live, smtp_server: Any) -> None:
    ref = live.run(live.site.mail, COMPLAINT, name="赵六")
    live.run(live.site.app.send_outbox)
    code = code_of(smtp_server, ref)

    page = look_up(live, ref, code.lower().replace("-", " "))  # typed loosely
    assert page.locator("#progress-status").is_visible()
    shown = page.locator("main").inner_text()
    assert ref in shown and "办理经过" in shown
    case = live.site.case(ref)
    handler = case.assignments[-1].handler or ""
    person = live.site.app.desk.config.staff[handler]  # type: ignore[union-attr]
    for secret in ("赵六", PATIENT, COMPLAINT[:8], person.name, person.email):
        assert secret not in shown  # no personal data, no staff names, no complaint text

    wrong = look_up(live, ref, "ABCDE-FGHJK")
    unknown = look_up(live, "LO-2025-999999", code)
    assert wrong.locator("#progress-error").is_visible()
    assert wrong.locator("main").inner_text().replace(ref, "REF") == \
        unknown.locator("main").inner_text().replace("LO-2025-999999", "REF")
    assert wrong.title() == unknown.title()


def test_progress_page_on_a_phone(live: Live, smtp_server: Any) -> None:
    ref = live.run(live.site.mail, COMPLAINT)
    live.run(live.site.app.send_outbox)
    page = look_up(live, ref, code_of(smtp_server, ref), width=390)
    assert page.locator("#progress-status").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing wider than the phone


def test_survey_answered_on_the_web(live: Live, smtp_server: Any) -> None:
    ref = live.run(live.site.mail, COMPLAINT)
    app = live.site.app
    with app.session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        assert app.desk is not None
        for status in (CaseStatus.INVESTIGATING, CaseStatus.RESOLVED):
            transition(case, status, actor="test", at=app.clock.now())
        send_outcome(session, app.desk, case, app.clock.now(), finding="substantiated",
                     outcome="已责令当事接线员赔礼道歉。")
    live.run(app.send_outbox)
    links = [SURVEY.search(m.message.get_body(("plain",)).get_content())
             for m in mails_to(smtp_server, PATIENT)]
    (link,) = [found.group(1) for found in links if found]

    page = live.page()
    page.goto(link.replace("http://console.test", live.url))
    assert ref in page.locator("main").inner_text()
    page.get_by_label("部分解决").check()
    page.get_by_label("满意", exact=True).check()
    page.get_by_label("意见和建议（选填）").fill("态度好，但退费还没到账。")
    page.get_by_role("button", name="提交").click()
    page.wait_for_load_state()
    text = page.locator("main").inner_text()
    assert "感谢您的评价" in text and "复核" in text  # partly solved: review and a call

    with app.session_factory() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        (answer,) = session.scalars(select(SurveyResponse).where(
            SurveyResponse.case_id == case.id)).all()
        assert (answer.level, answer.solved, answer.channel) == (4, "partly", "web")
        assert answer.comment == "态度好，但退费还没到账。"
        assert case.status == CaseStatus.REOPENED
        kinds = [e.kind for e in case.events]
        assert "call_task_opened" in kinds and "survey_answered" in kinds
        # No phone on file (a mail complainant): staff are asked to find a way.
        assert case.needs_attention
        assert not session.scalars(select(CallTask).where(CallTask.case_id == case.id)).all()

    page.goto(link.replace("http://console.test", live.url))  # one answer per case
    assert "只评价一次" in page.locator("main").inner_text()


def test_activity_feedback_form(live: Live) -> None:
    page = live.page(width=390)
    page.goto(f"{live.url}/public/feedback")
    page.get_by_label("活动或服务名称").fill("12月病友交流会")
    page.get_by_label("参加日期（选填）").fill("2025-11-28")
    page.get_by_label("基本满意").check()
    page.get_by_label("意见和建议（选填）").fill("场地有点小。")
    page.get_by_role("button", name="提交").click()
    page.wait_for_load_state()
    assert "感谢您的意见" in page.locator("main").inner_text()
    with live.site.app.session_factory() as session:
        (row,) = session.scalars(select(ActivityFeedback)).all()
        assert (row.activity, row.level, row.comment) == ("12月病友交流会", 3, "场地有点小。")
        assert row.attended_on is not None and row.attended_on.isoformat() == "2025-11-28"
