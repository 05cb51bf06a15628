"""The public pages in Chromium (Playwright, Debian's /usr/bin/chromium) against a live
server, mail delivered to aiosmtpd: a complaint filed with a file on a phone without
JavaScript becomes a case and an acknowledgement; a double submit and a browser retry give
one case; the commitments page shows a calendar-day limit as calendar days and fits a
phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from casework.models import Attachment, Case, Message
from tests.fixtures.web import SECRET, Site
from tests.test_web_browser import Live, mails_to
from web.serve import Background

pytestmark = pytest.mark.browser
RUDE = "12月1日在药品援助窗口，工作人员态度粗暴，和我争吵。"
RECEIPT = b"\xff\xd8\xff\xe0 a photo of the receipt"


@pytest.fixture
def pub(tmp_path: Path, db_url: str, smtp_server: Any, browser: Any,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """The console and its public pages served pub, mail to aiosmtpd."""
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    site = Site(tmp_path, db_url, smtp=smtp_server)
    server = Background(site.asgi, "127.0.0.1", 0).start()
    try:
        yield Live(site, f"http://127.0.0.1:{server.port}", browser)
    finally:
        server.stop()
        site.app.close()


def phone_page(pub: Live, *, javascript: bool = True) -> Any:
    context = pub.browser.new_context(viewport={"width": 390, "height": 844},
                                       locale="zh-CN", java_script_enabled=javascript)
    return context.new_page()


def fill(page: Any, pub: Live) -> None:
    page.goto(f"{pub.url}/public/complain")
    page.get_by_label("姓名", exact=True).fill("赵六")
    page.get_by_label("电话", exact=True).fill("13800000000")
    page.get_by_label("电子邮箱").fill("zhao@example.cn")
    page.get_by_label("投诉类别").select_option("staff_conduct")
    page.get_by_label("事情经过 *").fill(RUDE)
    page.locator("#f-consent").check()
    page.locator("#f-privacy").check()


def acknowledgements(smtp: Any, reference: str) -> list[Any]:
    return [m for m in mails_to(smtp, "zhao@example.cn")
            if str(m.message["Subject"]) == f"您的投诉已受理 [{reference}]"]


def cases(pub: Live) -> int:
    with pub.site.app.session_factory() as db:
        return db.scalar(select(func.count()).select_from(Case)) or 0


def test_a_complaint_filed_with_a_file_on_a_phone_without_javascript_becomes_a_case(
        pub: Live, smtp_server: Any) -> None:
    page = phone_page(pub, javascript=False)
    fill(page, pub)
    page.get_by_label("附件（可选）").set_input_files(
        files=[{"name": "收据.jpg", "mimeType": "image/jpeg", "buffer": RECEIPT}])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="提交投诉").click()
    reference = page.locator("#reference").inner_text()
    assert page.get_by_role("heading", name="投诉已收到").is_visible()
    assert "受理回执将发送到您填写的邮箱" in page.content()

    pub.run(pub.site.app.send_outbox)
    (ack,) = acknowledgements(smtp_server, reference)
    assert reference in ack.message.get_body(("plain",)).get_content()
    with pub.site.app.session_factory() as db:
        case = db.scalars(select(Case).where(Case.reference == reference)).one()
        assert case.channel == "web" and case.category == "staff_conduct"
        (file,) = db.scalars(select(Attachment).join(Message)
                             .where(Message.case_id == case.id)).all()
        assert file.filename == "收据.jpg"
        assert pub.site.app.raw_store.get(file.sha256) == RECEIPT
    page.context.close()


def test_a_double_submit_and_a_browser_retry_give_one_case(pub: Live,
                                                            smtp_server: Any) -> None:
    page = phone_page(pub)
    fill(page, pub)
    token = page.locator("input[name=form_token]").get_attribute("value")
    page.get_by_role("button", name="提交投诉").dblclick()
    reference = page.locator("#reference").inner_text()
    # The browser sends the very same form again (a retry after a lost answer).
    again = page.request.post(f"{pub.url}/public/complain", form={
        "form_token": token, "name": "赵六", "phone": "13800000000",
        "email": "zhao@example.cn", "category": "staff_conduct", "text": RUDE,
        "consent": "yes", "privacy": "yes"})
    assert again.status == 200 and f'id="reference">{reference}<' in again.text()
    assert "已经提交过" in again.text()
    assert cases(pub) == 1
    pub.run(pub.site.app.send_outbox)
    assert len(acknowledgements(smtp_server, reference)) == 1
    page.context.close()


def test_the_commitments_page_shows_calendar_days_as_calendar_days_and_fits_a_phone(
        pub: Live) -> None:
    page = phone_page(pub)
    page.goto(f"{pub.url}/public/commitments")
    row = page.get_by_role("row").filter(has_text="医疗机构诊疗行为")
    assert row.locator("td.resolve").inner_text() == "30 个自然日"
    row = page.get_by_role("row").filter(has_text="工作人员服务态度")
    assert row.locator("td.resolve").inner_text() == "15 个工作日"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.get_by_role("heading", name="违反承诺怎么办").is_visible()
    page.get_by_role("link", name="English").click()
    row = page.get_by_role("row").filter(has_text="conduct of a medical institution")
    assert row.locator("td.resolve").inner_text() == "30 calendar days"
    page.context.close()


def test_the_form_is_labelled_and_keyboard_reachable(pub: Live) -> None:
    page = phone_page(pub)
    page.goto(f"{pub.url}/public/complain")
    unlabelled = """() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && !e.hidden)
        .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
        .map(e => e.name)"""
    assert page.evaluate(unlabelled) == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.locator("main#main").count() == 1
    # The honeypot is out of sight and out of the tab order.
    assert page.locator("#f-homepage").get_attribute("tabindex") == "-1"
    assert not page.locator("#f-homepage").is_visible() or page.evaluate(
        "document.getElementById('f-homepage').getBoundingClientRect().right") < 0
    page.context.close()
