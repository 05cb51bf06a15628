"""Whole cases through the real daemon: Dovecot, aiosmtpd, SQLite and PostgreSQL.

Mail is APPENDed to Dovecot, ``App.run_once()`` runs every job, the clock (a FixedClock)
is moved between rounds, and what the organisation promised is read back from the mail
the SMTP server received. Staff answer by replying to the mail they got.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casework.clock import SHANGHAI, FixedClock
from casework.models import (
    Case,
    CaseExclusion,
    Extension,
    MaterialRequest,
    SurveyResponse,
    Violation,
)
from casework.status import CaseStatus
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from tests.configs import real_servers_toml

ROUTING = Path(__file__).resolve().parents[1] / "config" / "routing.toml"
ZHANG = "zhang.wei@oasis.example.org"
LINA = "li.na@oasis.example.org"
WANG = "wang.fang@oasis.example.org"
SUN = "sun.li@oasis.example.org"
HEALTH = "xinfang@wsjkw.example.gov.cn"
START = datetime(2025, 12, 2, 9, 0, tzinfo=SHANGHAI)  # a Tuesday, before the real today


def body_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


class World:
    """One installation: config files, the app with a fixed clock, the two servers."""

    def __init__(self, tmp_path: Path, db_url: str, imap: Any, smtp: Any) -> None:
        rules = ROUTING.read_text(encoding="utf-8").replace(
            "[staff.zhangwei]\n",
            "[staff.zhangwei]\naway = [{ start = 2025-12-08, end = 2025-12-12 }]\n")
        (tmp_path / "routing.toml").write_text(rules, encoding="utf-8")
        config = tmp_path / "complaintd.toml"
        config.write_text(real_servers_toml(
            db_url, imap, smtp, from_address="complaints@oasis.example.org",
            extra='[routing]\nrules_file = "routing.toml"\n'), encoding="utf-8")
        self.clock = FixedClock(START)
        self.app = App.build(load_settings(config), self.clock)
        upgrade(self.app.engine)
        self.imap = imap
        self.smtp = smtp
        self.seen = 0

    def send(self, raw: bytes) -> None:
        self.imap.append("INBOX", raw)

    def round(self, days: float = 0) -> list[EmailMessage]:
        """Move the clock, run every job once; the mail sent in this round."""
        self.clock.advance(timedelta(days=days))
        report = self.app.run_once()
        assert report.errors == [] and report.failed == 0, report
        # The sweep runs after the send job; the daemon's next send tick delivers its mail.
        assert self.app.send_outbox()[2] == 0
        mails = [message_from_bytes(m.raw, policy=policy.default)
                 for m in self.smtp.messages[self.seen:]]
        self.seen = len(self.smtp.messages)
        return mails  # type: ignore[return-value]

    def case(self, reference: str | None = None) -> Case:
        """The (first) case, loaded whole and detached: no lock is held between rounds."""
        query = select(Case).order_by(Case.id).options(
            selectinload(Case.events), selectinload(Case.assignments),
            selectinload(Case.referrals), selectinload(Case.complainant))
        if reference:
            query = query.where(Case.reference == reference)
        with self.app.session_factory() as session:
            case = session.scalars(query).first()
        assert case is not None
        return case

    def rows(self, model: Any) -> list[Any]:
        with self.app.session_factory() as session:
            return list(session.scalars(select(model).order_by(model.id)))


def to(mails: list[EmailMessage], address: str, *, contains: str = "") -> list[EmailMessage]:
    return [m for m in mails if address in str(m["To"]) and contains in str(m["Subject"])
            + body_of(m)]


def complaint(text: str, sender: str = "patient@example.cn", subject: str = "投诉",
              attach: bool = False) -> bytes:
    msg = EmailMessage()
    msg["From"] = formataddr(("王女士", sender))
    msg["To"] = "complaints@oasis.example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.cn")
    msg["Date"] = "Tue, 02 Dec 2025 08:30:00 +0800"
    msg.set_content(text, charset="utf-8")
    if attach:
        msg.add_attachment(b"%PDF-1.4 receipt", maintype="application", subtype="pdf",
                           filename="receipt.pdf")
    return msg.as_bytes(policy=policy.SMTP)


def reply(to_mail: EmailMessage, sender: str, text: str, *, auth: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "complaints@oasis.example.org"
    msg["Subject"] = "Re: " + str(to_mail["Subject"])
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg["In-Reply-To"] = str(to_mail["Message-ID"])
    msg["References"] = str(to_mail["Message-ID"])
    if auth:
        msg["Authentication-Results"] = auth
    msg.set_content(text + "\n\n> " + body_of(to_mail)[:200].replace("\n", "\n> "),
                    charset="utf-8")
    return msg.as_bytes(policy=policy.SMTP)


@pytest.fixture
def world(tmp_path: Path, db_url: str, imap_account: Any, smtp_server: Any) -> Iterator[World]:
    w = World(tmp_path, db_url, imap_account, smtp_server)
    yield w
    w.app.close()


def test_internal_case_assigned_delegated_extended_resolved_by_mail_and_surveyed(
        world: World) -> None:
    world.send(complaint("12月2日上午我打热线咨询，接线的工作人员态度很差，还骂人。"))
    mails = world.round()
    case = world.case()
    assert case.category == "staff_conduct" and case.department == "service"
    decision = next(e for e in case.events if e.kind == "routing_decision")
    assert decision.details["explanation"].startswith("matched rule staff_conduct on words")
    assert "态度" in decision.details["explanation"]
    assert case.resolve_due == date(2025, 12, 23)  # 15 working days after 2 December
    (assignment,) = to(mails, ZHANG)
    assert case.reference in str(assignment["Subject"]) and "#受理" in body_of(assignment)
    assert to(mails, "patient@example.cn", contains="服务部")  # told: handled internally

    # Monday 8 December: 张伟 is away; his deputy 李娜 takes the case over.
    mails = world.round(days=6)
    (handover,) = to(mails, LINA)
    case = world.case()
    assert any(e.kind == "delegated" for e in case.events)
    assert case.assignments[-1].handler == "lina"
    assert case.assignments[-1].delegate_for == "zhangwei"

    world.send(reply(handover, LINA, "#受理\n#延期 5 需要调取通话录音\n已与当事人电话沟通。"))
    mails = world.round(days=0.1)
    case = world.case()
    assert case.status is CaseStatus.INVESTIGATING
    (approval,) = to(mails, WANG)
    assert "#批准延期" in body_of(approval)

    world.send(reply(approval, WANG, "#批准延期"))
    mails = world.round(days=0.1)
    case = world.case()
    assert case.status is CaseStatus.EXTENDED
    assert case.resolve_due == date(2025, 12, 30)  # + 5 working days
    (told,) = to(mails, "patient@example.cn")
    assert "2025-12-30" in body_of(told) or "2025年12月30日" in body_of(told)
    assert any(e.kind == "note" and "电话沟通" in e.details["text"] for e in case.events)

    # Monday 15 December: 张伟 is back and gets the case back.
    mails = world.round(days=6.8)
    (back,) = to(mails, ZHANG)
    assert world.case().assignments[-1].handler == "zhangwei"
    assert any(e.kind == "handed_back" for e in world.case().events)

    world.send(reply(back, ZHANG,
                     "#办结 部分属实\n经调取录音，接线员语气生硬，已批评教育并向您致歉。"))
    mails = world.round(days=0.1)
    case = world.case()
    assert case.status is CaseStatus.RESOLVED
    outcome = to(mails, "patient@example.cn", contains="已批评教育")
    assert len(outcome) == 1
    (survey,) = [m for m in to(mails, "patient@example.cn") if m not in outcome]
    assert "非常满意" in body_of(survey)

    world.send(reply(survey, "patient@example.cn", "满意"))
    world.round(days=1)
    (answer,) = world.rows(SurveyResponse)
    assert (answer.level, answer.label) == (4, "满意")
    assert world.rows(Extension)[0].approved_by == "staff:wangfang"


def test_authority_case_referred_followed_up_answer_threaded_back(world: World) -> None:
    world.send(complaint("11月30日我在某医院看病，医生误诊还乱收费，我的病历显示糖尿病。"))
    mails = world.round()
    case = world.case()
    assert case.status is CaseStatus.REFERRED and case.category == "medical_institution"
    (letter,) = to(mails, HEALTH)
    # No recorded consent: the complaint's health details stay with us (PIPL art. 28).
    assert "糖尿病" not in body_of(letter)
    assert case.reference in str(letter["Subject"])
    (told,) = to(mails, "patient@example.cn", contains="卫生健康委员会")
    assert case.reference in str(told["Subject"])
    assert "医疗机构和医务人员的执业行为" in body_of(told)  # and why it went there

    mails = world.round(days=23)  # past the 15 working days the authority is expected to take
    (follow_up,) = to(mails, HEALTH)
    assert follow_up["In-Reply-To"] == letter["Message-ID"]

    world.send(reply(letter, HEALTH, "经核查，该院已退还多收费用并整改。"))
    mails = world.round(days=1)
    case = world.case()
    # The answer is on the case and the handler is asked to confirm; nothing went out yet.
    assert case.status is CaseStatus.REFERRED
    assert case.referrals[-1].answered_at is not None
    assert to(mails, "patient@example.cn") == []
    (confirm,) = [m for m in mails if "待您确认转告" in str(m["Subject"])]
    assert "已退还多收费用" in body_of(confirm) and "#转告" in body_of(confirm)
    handler = str(confirm["To"]).rsplit("<", 1)[-1].rstrip(">")
    world.send(reply(confirm, handler, "#转告"))
    mails = world.round(days=0.1)
    assert world.case().status is CaseStatus.RESOLVED
    assert to(mails, "patient@example.cn", contains="已退还多收费用")


def test_complaint_naming_handler_and_head_is_kept_from_them(world: World) -> None:
    world.send(complaint("12月1日张伟在电话里态度粗暴骂人，我找王主任也没人管。"))
    mails = world.round()
    case = world.case()
    assert {x.staff for x in world.rows(CaseExclusion)} == {"zhangwei", "wangfang"}
    assert case.assignments[-1].handler == "lina"
    assert to(mails, ZHANG) == [] and to(mails, WANG) == []
    # Sunday 21 December, two working days left: the handler is reminded (once).
    mails = world.round(days=19)
    (reminder,) = to(mails, LINA)
    assert case.reference in str(reminder["Subject"])
    assert to(world.round(days=0.1), LINA) == []
    # Overdue: escalated to the next level up (not the named head), recorded as a violation.
    mails = world.round(days=2.9)
    case = world.case()
    to_sun = to(mails, SUN, contains=case.reference)
    subjects = sorted(str(m["Subject"]) for m in to_sun)
    assert subjects[0].startswith("案件升级") and case.reference in subjects[0]
    assert subjects[1].startswith("每日案件汇总")  # the daily digest lists it too
    assert to(mails, WANG, contains=case.reference) == []
    assert to(mails, ZHANG, contains=case.reference) == []
    (violation,) = world.rows(Violation)
    assert (violation.category, violation.clause, violation.staff) == \
        ("missed_deadline", "七(二)", "lina")
    assert "效能告诫" in violation.sanction_tier
    assert any(e.kind == "deadline_missed" for e in case.events)
    world.round(days=0.1)
    assert len(world.rows(Violation)) == 1  # once per deadline


def test_single_notice_lists_every_missing_item(world: World) -> None:
    world.send(complaint("我申请的援助一直没有人审核，拖延太久了。"))
    mails = world.round()
    case = world.case()
    assert case.status is CaseStatus.AWAITING_MATERIAL and case.resolve_due is None
    (request,) = world.rows(MaterialRequest)
    assert request.items == ["event_date", "service", "documents"]
    (notice,) = to(mails, "patient@example.cn", contains="事件发生的日期")
    text = body_of(notice)
    assert "涉及的服务或项目名称" in text and "相关证明材料" in text

    (assignment,) = to(mails, "chen.jing@oasis.example.org")
    world.send(reply(assignment, "chen.jing@oasis.example.org", "#补充材料 事件发生的日期"))
    world.round(days=1)
    (violation,) = world.rows(Violation)
    assert (violation.category, violation.staff) == ("repeated_material_request", "chenjing")

    world.send(_with_attachment(reply(notice, "patient@example.cn",
                                      "我是11月20日提交的药品援助项目申请，收据见附件。")))
    world.round(days=1)
    case = world.case()
    assert case.status is CaseStatus.ROUTED, [(e.kind, e.details) for e in case.events]
    # The clock starts on the day the material was complete (4 December), 20 working days.
    assert case.resolve_due == world.app.calendar.add_working_days(date(2025, 12, 4), 20)


def _with_attachment(raw: bytes) -> bytes:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    msg.add_attachment(b"%PDF-1.4 receipt", maintype="application", subtype="pdf",
                       filename="receipt.pdf")
    return msg.as_bytes(policy=policy.SMTP)


def test_forged_and_unauthorised_commands_are_refused(world: World) -> None:
    world.send(complaint("12月1日接线员态度不耐烦。"))
    mails = world.round()
    case = world.case()
    (assignment,) = to(mails, ZHANG)
    # A forged From with the case reference, not a reply to our mail.
    forged = EmailMessage()
    forged["From"] = ZHANG
    forged["To"] = "complaints@oasis.example.org"
    forged["Subject"] = f"[{case.reference}] 办结"
    forged["Message-ID"] = make_msgid(domain="evil.example")
    forged.set_content("#办结 不属实\n无此事。", charset="utf-8")
    world.send(forged.as_bytes(policy=policy.SMTP))
    # Someone else answering the real assignment mail.
    world.send(reply(assignment, "chen.jing@oasis.example.org", "#办结 不属实\n无此事。"))
    # The right address and thread, but our server says the sender failed DMARC.
    world.send(reply(assignment, ZHANG, "#办结 不属实\n无此事。",
                     auth="mx.oasis.example.org; spf=fail; dkim=none; dmarc=fail"))
    mails = world.round(days=0.1)
    case = world.case()
    assert case.status is CaseStatus.ROUTED
    refusals = [e.details["why"] for e in case.events if e.kind == "command_refused"]
    assert len(refusals) == 3
    # The forged From carries no reply code of ours; the colleague answers a mail we sent
    # someone else.
    assert sum("carries no reply code" in r for r in refusals) == 1
    assert sum("does not answer a mail we sent you" in r for r in refusals) == 1
    assert any("failed authentication" in r for r in refusals)
    # Each address is told once a day (backscatter cap, intake.refusals_per_sender_per_day):
    # the real 张伟 learns of the forgery; the second refusal to him is on the timeline.
    assert len(to(mails, ZHANG)) == 1 and len(to(mails, "chen.jing@oasis.example.org")) == 1
    withheld = [e.details for e in case.events if e.kind == "refusal_withheld"]
    assert len(withheld) == 1 and "daily cap" in withheld[0]["why"]
    assert not any(e.kind == "resolved" for e in case.events)


def test_reply_while_waiting_for_material_is_one_event_not_a_round_trip(world: World) -> None:
    world.send(complaint("我申请的援助一直没有人审核，拖延太久了。"))
    mails = world.round()
    (notice,) = to(mails, "patient@example.cn", contains="事件发生的日期")
    before = len(world.case().events)
    # An answer that still lacks the documents: checked once, the case keeps waiting.
    world.send(reply(notice, "patient@example.cn", "我是11月20日提交的药品援助项目申请。"))
    mails = world.round(days=1)
    case = world.case()
    # (mail_sent: the handler is told what the complainant wrote, issue 13)
    added = [e.kind for e in case.events[before:] if e.kind != "mail_sent"]
    assert added == ["follow_up_received", "material_checked"], added
    assert case.status is CaseStatus.AWAITING_MATERIAL
    assert to(mails, "chen.jing@oasis.example.org", contains="11月20日提交")
    # The complete answer: one move, awaiting_material → routed, and the clock starts.
    before = len(case.events)
    world.send(_with_attachment(reply(notice, "patient@example.cn", "收据见附件。")))
    world.round(days=1)
    case = world.case()
    moves = [(e.details["from"], e.details["to"]) for e in case.events[before:]
             if e.kind == "status_changed"]
    assert moves == [("awaiting_material", "routed")]
    assert case.resolve_due is not None
