"""Progress by mail (issue 15): 查询 / 进度 / progress with a reference, or in a reply to our
mail, from a verified party of the case is answered at once; a stranger learns nothing and
the attempt is on the case's timeline. Real Maildir in, real aiosmtpd out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from casework.models import Case
from casework.progress import check_code
from tests.fixtures.web import SECRET, Site

PATIENT = "patient@example.cn"
CODE = re.compile(r"查询码：([2-9A-Z]{5}-[2-9A-Z]{5})")


@pytest.fixture
def site(tmp_path: Path, db_url: str, smtp_server: Any,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    made = Site(tmp_path, db_url, smtp=smtp_server)
    try:
        yield made
    finally:
        made.app.close()


def drop(site: Site, *, sender: str, subject: str, text: str, number: int,
         in_reply_to: str | None = None, auto: bool = False) -> None:
    msg = EmailMessage()
    msg["From"], msg["Subject"] = sender, subject
    msg["Message-ID"] = f"<query-{number}@example.cn>"
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    if auto:
        msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(text, charset="utf-8")
    (site.tmp / "mail" / "new" / f"q{number}.M1.host").write_bytes(bytes(msg))
    site.app.run_once()
    site.app.send_outbox()


def to(smtp: Any, address: str, words: str) -> list[Any]:
    return [m for m in smtp.messages if address in m.rcpt_tos
            and words in m.message.get_body(("plain",)).get_content()]


def acknowledgement(smtp: Any) -> Any:
    (ack,) = [m for m in smtp.messages if PATIENT in m.rcpt_tos
              and any(w in str(m.message["Subject"]) for w in ("已受理", "been received"))]
    return ack


def cases(site: Site) -> int:
    with site.app.session_factory() as session:
        return int(session.scalar(select(func.count(Case.id))) or 0)


def test_the_acknowledgement_prints_a_code_that_opens_the_case(site: Site,
                                                                smtp_server: Any) -> None:
    ref = site.mail("医院收费不合理，多收了检查费。")
    site.app.send_outbox()
    ack = acknowledgement(smtp_server)
    text = ack.message.get_body(("plain",)).get_content()
    found = CODE.search(text)
    assert found is not None, text
    assert "http://console.test/public/progress" in text
    with site.app.session_factory() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        assert check_code(case, ref, found.group(1))
        assert found.group(1) not in (case.verify_hash or "")


def test_a_party_asking_gets_the_progress_at_once(site: Site, smtp_server: Any) -> None:
    ref = site.mail("医院收费不合理，多收了检查费。")
    drop(site, sender=PATIENT, subject=f"查询 {ref}", text="进度\n", number=1)
    (answer,) = to(smtp_server, PATIENT, "目前的办理进度")
    text = answer.message.get_body(("plain",)).get_content()
    assert ref in str(answer.message["Subject"])
    assert "当前状态：" in text and "办理单位：" in text and "办理经过：" in text
    assert answer.message["Auto-Submitted"] == "auto-replied"
    assert answer.message["In-Reply-To"] == "<query-1@example.cn>"
    case = site.case(ref)
    assert [e.kind for e in case.events].count("progress_query_answered") == 1
    handler = case.assignments[-1].handler if case.assignments else None
    if handler is not None:  # a query is not news for the handler
        person = site.app.desk.config.staff[handler]  # type: ignore[union-attr]
        assert not to(smtp_server, person.email, "目前的办理进度")
        assert not [m for m in smtp_server.messages if person.email in m.rcpt_tos
                    and "进度" in m.message.get_body(("plain",)).get_content()
                    and "complainant" in str(m.message["Subject"]).lower()]
    assert cases(site) == 1


def test_a_reply_to_our_mail_with_the_word_is_answered_too(site: Site,
                                                           smtp_server: Any) -> None:
    ref = site.mail("Hospital overcharged me for a scan.", subject="complaint")
    site.app.send_outbox()
    ack = acknowledgement(smtp_server)
    drop(site, sender=PATIENT, subject=f"Re: {ack.message['Subject']}", text="progress?\n",
         number=2, in_reply_to=str(ack.message["Message-ID"]))
    assert to(smtp_server, PATIENT, "This is where your complaint")
    assert "progress_query_answered" in [e.kind for e in site.case(ref).events]
    assert cases(site) == 1


def test_a_stranger_learns_nothing_and_the_attempt_is_recorded(site: Site,
                                                               smtp_server: Any) -> None:
    ref = site.mail("医院收费不合理，多收了检查费。")
    site.app.send_outbox()
    before = len(smtp_server.messages)
    drop(site, sender="nosy@example.net", subject=f"查询进度 {ref}", text="", number=3)
    assert len(smtp_server.messages) == before  # no answer, no acknowledgement
    assert not [m for m in smtp_server.messages if "nosy@example.net" in m.rcpt_tos]
    assert cases(site) == 1  # no case of its own either
    refused = [e for e in site.case(ref).events if e.kind == "progress_query_refused"]
    assert len(refused) == 1
    assert refused[0].details["sender"] == "nosy@example.net"
    assert "progress_query_answered" not in [e.kind for e in site.case(ref).events]


def test_machine_mail_and_the_daily_cap_get_no_answer(site: Site, smtp_server: Any) -> None:
    ref = site.mail("医院收费不合理，多收了检查费。")
    drop(site, sender=PATIENT, subject=f"查询 {ref}", text="", number=4, auto=True)
    assert not to(smtp_server, PATIENT, "目前的办理进度")
    for n in range(5, 10):
        drop(site, sender=PATIENT, subject=f"进度 {ref}", text="", number=n)
    assert len(to(smtp_server, PATIENT, "目前的办理进度")) == 3  # [public] default cap
    kinds = [e.kind for e in site.case(ref).events]
    assert kinds.count("progress_query_answered") == 3
    assert kinds.count("progress_answer_withheld") >= 2  # (the machine mail may not get here)


def test_a_mail_with_more_than_the_question_is_news_for_the_handler(
        site: Site, smtp_server: Any) -> None:
    ref = site.mail("医院收费不合理，多收了检查费。")
    drop(site, sender=PATIENT, subject=f"查询 {ref}",
         text="进度如何？另外我找到了收费票据，附上说明：检查费重复收取了两次。", number=11)
    assert not to(smtp_server, PATIENT, "目前的办理进度")
    assert "progress_query_answered" not in [e.kind for e in site.case(ref).events]
