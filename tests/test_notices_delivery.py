"""Every notice queued through its own function, sent to a real aiosmtpd, and read back
there in Chinese and in English: the facts (reference, dates, items) arrive intact."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any, cast

import pytest
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import SHANGHAI, FixedClock
from casework.models import Case, Message, Party
from casework.status import CaseStatus
from notifications import notices as n
from notifications.contexts import CallbackRow, DigestRow, OrganisationInfo
from notifications.models import OutboxMail
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer
from notifications.retry import RetryPolicy
from notifications.sender import OutboxSender, SendReport
from notifications.transports import SmtpTransport
from tests.fixtures.smtp import SmtpServer

NOW = datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)
REF = "LO-2026-000301"
ORG = OrganisationInfo("上海生命绿洲公益服务中心",
                       "Shanghai Life Oasis Public Welfare Service Center", "021-6123 4567", 15)
IDENTITY = MailIdentity("noreply@lifeoasis.example", "上海生命绿洲公益服务中心",
                        "tousu@lifeoasis.example", "lifeoasis.example")  # fmt: skip
Queue = Callable[[Session, Case, str], OutboxMail | None]


def common(lang: str) -> dict[str, Any]:
    return {"identity": IDENTITY, "renderer": TemplateRenderer(), "org": ORG, "now": NOW,
            "language": lang}  # fmt: skip


def _staff(email: str) -> dict[str, Any]:
    return {"handler_email": email, "handler_name": "李娜", "commands_help": ["#接受"]}


# notice -> (queue it, facts in Chinese, facts in English)
NOTICES: dict[str, tuple[Queue, list[str], list[str]]] = {
    "missing_material": (
        lambda s, c, lang: n.queue_missing_material(
            s, c, items=["收费票据", "就诊日期"], reply_by=date(2026, 3, 16), limit=n.Limit(15),
            **common(lang)),
        ["1. 收费票据", "2. 就诊日期", "2026年3月16日"],
        ["1. 收费票据", "2. 就诊日期", "16 March 2026"]),
    "routed_internally": (
        lambda s, c, lang: n.queue_routed_internally(
            s, c, department="患者服务部", resolve_due=date(2026, 3, 27), limit=n.Limit(15),
            **common(lang)),
        ["患者服务部", "2026年3月27日"], ["患者服务部", "27 March 2026"]),
    "referred_to_authority": (
        lambda s, c, lang: n.queue_referred_to_authority(
            s, c, authority="上海市民政局", referred_on=date(2026, 3, 9),
            answer_due=date(2026, 4, 7), answer_limit=n.Limit(20), **common(lang)),
        ["上海市民政局", "2026年3月9日", "2026年4月7日"],
        ["上海市民政局", "9 March 2026", "7 April 2026"]),
    "extension": (
        lambda s, c, lang: n.queue_extension(
            s, c, reason="需调取记录", previous_due=date(2026, 3, 27), new_due=date(2026, 4, 17),
            extension=n.Limit(15), **common(lang)),
        ["需调取记录", "2026年3月27日", "2026年4月17日"],
        ["需调取记录", "27 March 2026", "17 April 2026"]),
    "outcome": (
        lambda s, c, lang: n.queue_outcome(
            s, c, outcome="已退费 200 元", resolved_on=date(2026, 3, 20), authority=None,
            **common(lang)),
        ["已退费 200 元", "2026年3月20日"], ["已退费 200 元", "20 March 2026"]),
    "satisfaction_survey": (
        lambda s, c, lang: n.queue_satisfaction_survey(
            s, c, resolved_on=date(2026, 3, 20), survey_url="https://lifeoasis.example/s",
            **common(lang)),
        ["5 非常满意", "https://lifeoasis.example/s"], ["5 very satisfied", "https://lifeoasis.example/s"]),
    "assignment": (
        lambda s, c, lang: n.queue_assignment(
            s, c, deadline=date(2026, 3, 27), **_staff("li@lifeoasis.example"), **common(lang)),
        ["2026年3月27日", "#接受"], ["27 March 2026", "#接受"]),
    "handler_reminder": (
        lambda s, c, lang: n.queue_handler_reminder(
            s, c, working_days_left=3, **_staff("li2@lifeoasis.example"), **common(lang)),
        ["剩余工作日：3", "2026年3月27日"], ["Working days left: 3", "27 March 2026"]),
    "supervisor_escalation": (
        lambda s, c, lang: n.queue_supervisor_escalation(
            s, c, supervisor_email="chen@lifeoasis.example", supervisor_name="陈主任",
            handler_name="李娜", reason="已逾期", days_overdue=2, **common(lang)),
        ["已逾期2天（自然日）", "李娜"], ["2 calendar days overdue", "李娜"]),
    "supervisor_digest": (
        lambda s, c, lang: n.queue_supervisor_digest(
            s, supervisor_email="chen@lifeoasis.example", supervisor_name="陈主任",
            digest_date=date(2026, 3, 9), new_count=4, due_soon_count=1,
            rows=[DigestRow(REF, "investigating", "李娜", date(2026, 3, 27), False)],
            **common(lang)),
        ["新案件 4 件", REF, "2026年3月27日"], ["4 new", REF, "27 March 2026"]),
    "authority_referral": (
        lambda s, c, lang: n.queue_authority_referral(
            s, c, authority_name="上海市民政局", authority_email="xf@mzj.example",
            matter="义诊收取挂号费", personal_fields=(), health_allowed=False,
            health_details=None, answer_due=date(2026, 4, 7), **common(lang)),
        ["义诊收取挂号费", "2026年4月7日"], ["义诊收取挂号费", "7 April 2026"]),
    "authority_follow_up": (
        lambda s, c, lang: n.queue_authority_follow_up(
            s, c, authority_name="上海市民政局", authority_email="xf2@mzj.example",
            referred_on=date(2026, 3, 9), answer_due=date(2026, 4, 7), **common(lang)),
        ["2026年3月9日", "2026年4月7日"], ["9 March 2026", "7 April 2026"]),
    "hotline_callback_list": (
        lambda s, c, lang: n.queue_hotline_callback_list(
            s, recipient_email="hotline@lifeoasis.example", list_date=date(2026, 3, 9),
            rows=[CallbackRow(REF, "张三", "13900001111", "邮件被拒收", date(2026, 3, 10))],
            **common(lang)),
        [REF, "13900001111", "2026年3月10日"], [REF, "13900001111", "10 March 2026"]),
    "command_refusal": (
        lambda s, c, lang: n.queue_command_refusal(
            s, staff_email="li@lifeoasis.example", command_message_id="<c1@lifeoasis.example>",
            command="#办结", reason="缺少结果", case=c, commands_help=[], **common(lang)),
        ["#办结", "缺少结果"], ["#办结", "缺少结果"]),
    "command_done": (
        lambda s, c, lang: n.queue_command_done(
            s, staff_email="li@lifeoasis.example", command_message_id="<c2@lifeoasis.example>",
            command="#接受", result="已由您承办", case=c, **common(lang)),
        ["#接受", "已由您承办"], ["#接受", "已由您承办"]),
    "message_refused": (
        lambda s, c, lang: n.queue_message_refused(
            s, recipient_email="zhang@example.com", recipient_name="张三",
            original_subject="材料", original_message_id="<big@x.example>", reason="超过 50 MB",
            source_key="k", **common(lang)),
        ["超过 50 MB", "材料"], ["超过 50 MB", "材料"]),
}  # fmt: skip
WITHOUT_REFERENCE = {"supervisor_digest", "hotline_callback_list", "message_refused"}


def make_case(session: Session) -> Case:
    party = Party(name="张三", email="zhang@example.com", phone="13900001111", created_at=NOW)
    case = Case(reference=REF, status=CaseStatus.INVESTIGATING, channel="email", subject="收费",
                summary="s", language="zh", category="收费", received_at=NOW,
                resolve_due=date(2026, 3, 27), complainant=party, created_at=NOW,
                updated_at=NOW)  # fmt: skip
    case.messages.append(Message(direction="in", channel="email", message_id="<in@x.example>",
                                 received_at=NOW))  # fmt: skip
    session.add(case)
    session.flush()
    return case


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return cast(str, plain.get_content()), cast(str, html.get_content())


def html_fact(fact: str) -> str:
    """The fact as the HTML shows it: list numbers are <li>, "label: value" is a table row."""
    value = re.sub(r"^\d+\. ", "", fact)
    return value.split("：")[-1].split(": ")[-1]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_notice_arrives_with_its_facts(
    session_factory: sessionmaker[Session], smtp_server: SmtpServer, lang: str
) -> None:
    with session_factory() as session:
        case = make_case(session)
        kinds = {}
        for notice, (queue, _, _) in NOTICES.items():
            row = queue(session, case, lang)
            assert row is not None, notice
            kinds[row.message_id] = notice
        session.commit()
    transport = SmtpTransport("127.0.0.1", smtp_server.port, security="plain", timeout=5)
    clock = FixedClock(NOW + timedelta(minutes=1))
    sender = OutboxSender(session_factory, transport, clock, RetryPolicy())

    assert sender.drain() == SendReport(sent=len(NOTICES))

    arrived = {kinds[str(m.message["Message-ID"])]: m for m in smtp_server.wait_for(len(NOTICES))}
    assert sorted(arrived) == sorted(NOTICES)
    for notice, mail in arrived.items():
        text, html = text_and_html(mail.message)
        _, zh_facts, en_facts = NOTICES[notice]
        facts = zh_facts if lang == "zh" else en_facts
        for fact in facts:
            assert fact in text, f"{notice}/{lang}: {fact!r} not in the text part"
            assert html_fact(fact) in html, f"{notice}/{lang}: {fact!r} not in the HTML part"
        if notice not in WITHOUT_REFERENCE:
            assert f"[{REF}]" in str(mail.message["Subject"]), notice
        signature = ORG.name if lang == "zh" else ORG.name_en
        assert text.rstrip().endswith(signature), notice
