"""The public pages over HTTP (issue 15): the rate limits of the progress page, a hotline
caller's last four digits, links that expire or are forged, no staff session on a public
page, and the CSRF check. The browser tests are in test_web_public_browser.py."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from casework.inbound import Inbound
from casework.models import ActivityFeedback, Case, PublicAttempt
from casework.progress import issue_code, link_key, make_link_token
from complaintd.settings import thread_key
from tests.fixtures.web import Site, csrf_of


def look(client: TestClient, reference: str, code: str) -> tuple[int, str]:
    token = csrf_of(client.get("/public/progress").text)
    answer = client.post("/public/progress", data={"reference": reference, "code": code,
                                                   "csrf_token": token})
    return answer.status_code, answer.text


def _main(html: str) -> str:
    found = re.search(r"<main.*?</main>", html, re.S)
    assert found is not None
    return found.group(0)


def coded_case(site: Site) -> tuple[str, str]:
    ref = site.mail("医院收费不合理，多收了检查费。")
    with site.app.session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        return ref, issue_code(session, case)  # a new code (the mail's is not read here)


def test_wrong_code_and_unknown_reference_are_the_same_answer(console_site: Site) -> None:
    ref, code = coded_case(console_site)
    client = console_site.client()
    status_wrong, wrong = look(client, ref, "ZZZZZ-ZZZZZ")
    status_unknown, unknown = look(client, "LO-2099-000001", "ZZZZZ-ZZZZZ")
    assert status_wrong == status_unknown == 200
    assert _main(wrong).replace(ref, "R") == _main(unknown).replace("LO-2099-000001", "R")
    status, right = look(client, ref, code)
    assert status == 200 and 'id="progress-status"' in right


def test_wrong_look_ups_are_capped_per_reference_then_per_address(console_site: Site) -> None:
    ref, code = coded_case(console_site)
    client = console_site.client()
    for _ in range(5):  # [public] attempts_per_reference_per_hour
        assert look(client, ref, "ZZZZZ-ZZZZZ")[0] == 200
    status, text = look(client, ref, code)  # the right code is refused too, for the hour
    assert status == 429 and "尝试次数过多" in text and 'id="progress-status"' not in text
    console_site.clock.advance(timedelta(hours=1, minutes=1))
    assert 'id="progress-status"' in look(client, ref, code)[1]
    for n in range(20):  # per address, on references that do not exist
        look(client, f"LO-2099-{n + 1:06d}", "ZZZZZ-ZZZZZ")
    assert look(client, ref, code)[0] == 429
    with console_site.app.session_factory() as session:
        assert (session.scalar(select(func.count(PublicAttempt.id))) or 0) >= 27


def test_a_hotline_caller_uses_the_last_four_digits(console_site: Site) -> None:
    app = console_site.app
    with app.session_factory.begin() as session:
        receipt = app.pipeline(session, Inbound(
            channel="hotline", received_at=app.clock.now(), subject="来电投诉",
            text="接线员态度不好。", sender_phone="13800138000", sender_name="钱七"))
        ref = receipt.reference
    client = console_site.client()
    assert 'id="progress-status"' in look(client, ref, "8000")[1]
    assert 'id="progress-status"' not in look(client, ref, "8001")[1]
    assert "钱七" not in look(client, ref, "8000")[1]


def test_survey_links_expire_and_cannot_be_forged(console_site: Site) -> None:
    ref, _ = coded_case(console_site)
    app = console_site.app
    with app.session_factory() as session:
        case_id = session.scalars(select(Case.id).where(Case.reference == ref)).one()
    link = app.survey_link(case_id, app.clock.now())
    assert link is not None and link.startswith("http://console.test/public/survey/")
    path = link.removeprefix("http://console.test")
    client = console_site.client()
    assert client.get(path).status_code == 200
    key = link_key(thread_key(app.settings))
    other = make_link_token(key, case_id, "progress", app.clock.now().date())
    assert client.get(f"/public/survey/{other}").status_code == 404  # another purpose
    assert client.get(path[:-2] + "xx").status_code == 404
    console_site.clock.advance(timedelta(days=31))  # [public] survey_link_days = 30
    gone = client.get(path)
    assert gone.status_code == 404 and "已过期" in gone.text


def test_public_pages_read_no_staff_session_and_check_csrf(console_site: Site) -> None:
    console_site.add_people({"zhangwei": ["handler"]})
    staff = console_site.signed_in("zhangwei")
    page = staff.get("/public/feedback")
    assert page.status_code == 200
    assert "退出" not in page.text and "张伟" not in page.text  # no sign-out, no name
    refused = staff.post("/public/feedback", data={"activity": "x", "level": "5"})
    assert refused.status_code == 403
    with console_site.app.session_factory() as session:
        assert session.scalar(select(func.count(ActivityFeedback.id))) == 0


def test_feedback_honeypot_and_cap(console_site: Site) -> None:
    client = console_site.client()
    token = csrf_of(client.get("/public/feedback").text)
    form = {"activity": "探访", "level": "4", "csrf_token": token}
    assert "感谢" in client.post("/public/feedback", data={**form, "website": "x"}).text
    for _ in range(9):  # [public] forms_per_address_per_hour = 10, the honeypot counted
        assert client.post("/public/feedback", data=form).status_code == 200
    assert client.post("/public/feedback", data=form).status_code == 429
    with console_site.app.session_factory() as session:
        assert session.scalar(select(func.count(ActivityFeedback.id))) == 9


def test_a_survey_link_made_before_a_key_rotation_still_opens(
        console_site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from complaintd.app import App
    from complaintd.settings import load_settings

    ref, _ = coded_case(console_site)
    app = console_site.app
    with app.session_factory() as session:
        case_id = session.scalars(select(Case.id).where(Case.reference == ref)).one()
    link = app.survey_link(case_id, app.clock.now())
    assert link is not None
    path = link.removeprefix("http://console.test")
    old = thread_key(app.settings).decode()

    def console_with(previous: str) -> TestClient:
        monkeypatch.setenv("COMPLAINTD_THREAD_KEY", "rotated-thread-key-" + "r" * 40)
        monkeypatch.setenv("COMPLAINTD_PREVIOUS_THREAD_KEYS", previous)
        rotated = App.build(load_settings(console_site.config), console_site.clock)
        built.append(rotated)
        return TestClient(rotated.web_console(), base_url="http://console.test")

    built: list[App] = []
    try:
        assert console_with(old).get(path).status_code == 200
        assert console_with("another-retired-key-" + "z" * 32).get(path).status_code == 404
    finally:
        for made in built:
            made.close()
