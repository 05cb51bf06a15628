"""The public complaint form over HTTP (starlette's TestClient) on SQLite and PostgreSQL:
a complaint with a file becomes a case through the ledger and the pipeline, once however
often it is sent; bad input is refused with what was typed kept; the honeypot, the form
token and the hourly limit; the commitments page follows routing.toml."""

from __future__ import annotations

import email
import email.policy
import os
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from casework.inbound import Inbound, Receipt
from casework.models import Attachment, Case, IngestedItem, Message, QuarantineItem
from casework.progress import check_code
from casework.submissions import Filed, Submission, SubmittedFile
from complaintd.cli.quarantine import parse_any
from intake.ledger import retry_quarantined
from intake.webdoor import WebDoor
from notifications.models import OutboxMail
from tests.fixtures.web import SECRET, Site
from web.public.models import PublicHit

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
RUDE = "12月1日在药品援助窗口，工作人员态度粗暴，和我争吵。"


@pytest.fixture
def site(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    made = Site(tmp_path, db_url, web_extra="[public]\ncomplaints_per_address_per_hour = 3\n"
                                           'mailbox = "complaints@oasis.example"')
    try:
        yield made
    finally:
        made.app.close()


def token_of(client: TestClient) -> str:
    found = TOKEN.search(client.get("/public/complain").text)
    assert found is not None
    return found.group(1)


def fields(token: str, **changes: str) -> dict[str, str]:
    base = {"form_token": token, "name": "赵六", "email": "zhao@example.cn",
            "phone": "13800000000", "category": "staff_conduct", "text": RUDE,
            "consent": "yes", "privacy": "yes", "homepage": ""}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def count(site: Site, model: type) -> int:
    with site.app.session_factory() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_the_form_is_chinese_first_with_categories_consent_privacy_and_a_token(
        site: Site) -> None:
    page = site.client().get("/public/complain")
    assert page.status_code == 200
    html = page.text
    assert "网上投诉" in html and "工作人员服务态度" in html and "医疗机构诊疗行为" in html
    assert "第二十九条" in html and "个人信息处理告知" in html
    assert 'name="homepage"' in html and TOKEN.search(html)
    assert "complaints@oasis.example" in html
    assert "default-src 'none'" in page.headers["content-security-policy"]
    english = site.client()
    english.cookies.set("cx_lang", "en")
    assert "Complain online" in english.get("/public/complain").text


def test_a_complaint_with_a_file_becomes_a_web_case_with_an_acknowledgement(site: Site) -> None:
    client = site.client()
    answer = client.post("/public/complain", data=fields(token_of(client)),
                         files=[("files", ("收据.jpg", b"\xff\xd8 a receipt", "image/jpeg"))])
    assert answer.status_code == 200, answer.text
    reference = re.search(r'id="reference">([^<]+)<', answer.text)
    assert reference is not None
    with site.app.session_factory() as db:
        case = db.scalars(select(Case).where(Case.reference == reference.group(1))).one()
        assert case.channel == "web" and case.category == "staff_conduct"
        party = case.complainant
        assert party is not None and party.email == "zhao@example.cn"
        assert party.consent_health_data is True and party.consent_source == "web"
        (attachment,) = db.scalars(select(Attachment).join(Message)
                                   .where(Message.case_id == case.id)).all()
        assert attachment.filename == "收据.jpg" and attachment.size == len(b"\xff\xd8 a receipt")
        assert site.app.raw_store.get(attachment.sha256) == b"\xff\xd8 a receipt"
        (item,) = db.scalars(select(IngestedItem).where(IngestedItem.source == "web")).all()
        assert item.folder == "form" and item.case_id == case.id and item.outcome == "case"
        ack = db.scalars(select(OutboxMail).where(OutboxMail.case_id == case.id,
                                                  OutboxMail.kind == "acknowledgement")).one()
        assert ack.recipient == "zhao@example.cn" and reference.group(1) in ack.subject
        # The code on screen is the case's, and the one its acknowledgement prints.
        code = re.search(r'id="code">([^<]+)<', answer.text)
        assert code is not None and check_code(case, case.reference, code.group(1))
        assert not check_code(case, case.reference, "ABCDE-FGHJK")
        mail = email.message_from_bytes(ack.raw, policy=email.policy.default)
        text = mail.get_body(("plain",))
        assert text is not None and code.group(1) in text.get_content()


def test_the_same_form_sent_twice_is_one_case(site: Site) -> None:
    client = site.client()
    data = fields(token_of(client))
    first = client.post("/public/complain", data=data)
    again = client.post("/public/complain", data=data)
    edited = client.post("/public/complain", data={**data, "text": RUDE + "补充一句。"})
    refs = [re.search(r'id="reference">([^<]+)<', a.text) for a in (first, again, edited)]
    assert all(refs) and len({r.group(1) for r in refs if r}) == 1
    assert "已经提交过" in again.text and "已经提交过" not in first.text
    # Only the answer that opened the case shows its code: a replay cannot read it back.
    assert 'id="code"' in first.text and 'id="code"' not in again.text
    assert count(site, Case) == 1
    assert count(site, OutboxMail) == 1 + count_staff_mail(site)


def count_staff_mail(site: Site) -> int:
    with site.app.session_factory() as db:
        return db.scalar(select(func.count()).select_from(OutboxMail).where(
            OutboxMail.kind != "acknowledgement")) or 0


@pytest.mark.parametrize("changes, error", [
    ({"email": "", "phone": ""}, "请至少留一种联系方式"),
    ({"email": "not-an-address"}, "邮箱地址格式不正确"),
    ({"text": "   "}, "请写明投诉内容"),
    ({"category": "no_such"}, "请从列表中选择类别"),
    ({"privacy": ""}, "请阅读并勾选个人信息处理告知"),
])
def test_bad_input_is_refused_with_the_text_kept(site: Site, changes: dict[str, str],
                                                 error: str) -> None:
    client = site.client()
    answer = client.post("/public/complain", data=fields(token_of(client), **changes))
    assert answer.status_code == 400 and error in answer.text
    if changes.get("text") is None:
        assert RUDE in answer.text
    assert count(site, Case) == 0


def test_anonymous_without_contact_is_taken_and_no_mail_is_sent(site: Site) -> None:
    client = site.client()
    answer = client.post("/public/complain", data=fields(
        token_of(client), anonymous="yes", email="", phone="", name="赵六"))
    assert answer.status_code == 200 and 'id="reference"' in answer.text
    with site.app.session_factory() as db:
        case = db.scalars(select(Case)).one()
        assert case.complainant is not None and case.complainant.anonymous
        assert case.complainant.name is None
        assert db.scalar(select(func.count()).select_from(OutboxMail).where(
            OutboxMail.kind == "acknowledgement")) == 0


def test_a_filled_honeypot_opens_nothing_and_is_counted(site: Site) -> None:
    client = site.client()
    answer = client.post("/public/complain", data=fields(token_of(client),
                                                         homepage="http://spam.example"))
    assert answer.status_code == 400 and "未能受理" in answer.text
    assert count(site, Case) == 0
    with site.app.session_factory() as db:
        assert db.scalars(select(PublicHit.kind)).all() == ["honeypot"]


def test_a_token_not_ours_or_from_another_browser_is_refused_with_the_text_kept(
        site: Site) -> None:
    token = token_of(site.client())  # another browser's token (its own csrf cookie)
    client = site.client()
    client.get("/public/complain")
    for sent in (token, "forged.token.value", ""):
        answer = client.post("/public/complain", data=fields(sent))
        assert answer.status_code == 400 and "表单已过期" in answer.text and RUDE in answer.text
    assert count(site, Case) == 0


def test_an_address_over_its_hourly_limit_is_refused_with_the_text_kept(site: Site) -> None:
    client = site.client()
    for _ in range(3):
        assert client.post("/public/complain", data=fields(token_of(client))).status_code == 200
    answer = client.post("/public/complain", data=fields(token_of(client)))
    assert answer.status_code == 429 and "提交次数过多" in answer.text and RUDE in answer.text
    assert count(site, Case) == 3
    site.clock.advance(timedelta(hours=1, minutes=1))
    assert client.post("/public/complain", data=fields(token_of(client))).status_code == 200


def test_too_large_a_request_is_refused_before_it_is_read(site: Site) -> None:
    client = site.client()
    limit = site.app.settings.intake.max_attachments_total_bytes + 1024 * 1024
    answer = client.post("/public/complain", data=fields(token_of(client)),
                         headers={"content-length": str(limit + 1)})
    assert answer.status_code == 413 and "提交的内容过大" in answer.text
    assert count(site, Case) == 0


def test_commitments_show_each_limit_in_its_unit_and_follow_routing_toml(site: Site) -> None:
    client = site.client()
    html = client.get("/public/commitments").text
    assert resolve_cell(html, "医疗机构诊疗行为") == "30 个自然日"
    assert resolve_cell(html, "工作人员服务态度") == "15 个工作日"
    row = re.search(r"工作人员服务态度</th>(.*?)</tr>", html, re.S)
    assert row is not None and "15 个工作日" in row.group(1)
    assert "事件发生的日期" in row.group(1) and "报告" not in row.group(1)
    assert "七(二)" in html and "需补充的内容没有一次性告知" in html and "200.00" in html
    assert "complaints@oasis.example" in html and "个人信息处理告知" in html
    english = site.client()
    english.cookies.set("cx_lang", "en")
    assert "30 calendar days" in english.get("/public/commitments").text

    path = site.tmp / "routing.toml"
    text = path.read_text("utf-8").replace(
        "resolve = { days = 15 } }\n\n[categories.assistance_project]",
        'resolve = { days = 12, kind = "calendar" } }\n\n[categories.assistance_project]')
    path.write_text(text, "utf-8")
    os.utime(path, (path.stat().st_atime + 5, path.stat().st_mtime + 5))
    html = client.get("/public/commitments").text
    assert resolve_cell(html, "工作人员服务态度") == "12 个自然日"


def resolve_cell(html: str, category: str) -> str:
    found = re.search(category + r'</th>.*?class="[^"]*resolve">([^<]*)<', html, re.S)
    assert found is not None, category
    return found.group(1)


def test_two_requests_racing_with_one_token_open_one_case(site: Site) -> None:
    door = site.app.public_site().file_complaint
    submission = Submission(text=RUDE, email="zhao@example.cn", subject="网上投诉")
    start = threading.Barrier(2)

    def send() -> Filed:
        start.wait()
        return door(submission, via="form", place="one-token")

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: send(), range(2)))
    assert {a.reference for a in answers} != {None}
    assert len({a.reference for a in answers}) == 1
    assert sorted(a.kind for a in answers) == ["again", "new"]
    assert count(site, Case) == 1


def test_a_submission_the_pipeline_fails_on_is_held_and_retried_from_the_quarantine(
        site: Site) -> None:
    def failing(_session: Session, _inbound: Inbound) -> Receipt:
        raise RuntimeError("the pipeline broke")

    app = site.app
    broken = WebDoor(app.session_factory, app.raw_store, app.clock, failing)
    submission = Submission(text=RUDE, phone="13800000000", subject="网上投诉",
                            files=(SubmittedFile("a.txt", "text/plain", b"material"),))
    assert broken(submission, via="form", place="p-1") == Filed("held")
    assert broken(submission, via="form", place="p-1") == Filed("held")  # still one item
    with app.session_factory() as db:
        (held,) = db.scalars(select(QuarantineItem)).all()
        assert held.source == "web" and "the pipeline broke" in held.reason
        held_id = held.id
    outcome = retry_quarantined(app.ledger, held_id, parse_any)
    assert outcome.kind == "case"
    with app.session_factory() as db:
        case = db.scalars(select(Case)).one()
        assert case.channel == "web" and case.complainant is not None
        assert case.complainant.phone == "13800000000"


def test_more_files_than_allowed_are_refused_and_nothing_is_opened(site: Site) -> None:
    client = site.client()
    limit = site.app.settings.intake.max_attachments
    for extra in (1, 5):  # one more (the form's own check), many more (the parser's)
        files = [("files", (f"{n}.txt", b"x", "text/plain")) for n in range(limit + extra)]
        answer = client.post("/public/complain", data=fields(token_of(client)), files=files)
        assert answer.status_code == 400 and f"附件最多 {limit} 个" in answer.text
    assert count(site, Case) == 0
