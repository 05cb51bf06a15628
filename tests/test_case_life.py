"""The whole life of a case (issue 13) through the real daemon: Dovecot, aiosmtpd, SQLite
and PostgreSQL, a fixed clock. Each step is used by mail (a staff reply to the mail they
got) and by the CLI twin made from the same table entry, and what people are told is read
back from the mail the SMTP server received.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casework.clock import SHANGHAI, FixedClock
from casework.models import Case, Extension, Message, Party, Violation
from casework.status import CaseStatus
from complaintd.app import App
from complaintd.cli import main
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from routing.commands import help_lines
from routing.investigation import NO_CONSENT_NOTE
from tests.configs import real_servers_toml
from tests.test_investigation_e2e import HEALTH, WANG, ZHANG, World, body_of, complaint, reply, to

PATIENT = "patient@example.cn"
CONDUCT = "12月2日上午我打热线咨询，接线的工作人员态度很差，还骂人。"
MEDICAL = "11月30日我在某医院看病，医生误诊还乱收费，我的病历显示糖尿病。"


class Life(World):
    """A ``World`` whose staff also use the CLI, at the world's own clock."""

    def __init__(self, tmp_path: Path, db_url: str, imap: Any, smtp: Any,
                 monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(tmp_path, db_url, imap, smtp)
        self.config = tmp_path / "complaintd.toml"
        monkeypatch.setattr("complaintd.cli.context.SystemClock", lambda: self.clock)

    def cli(self, *args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(main, ["--config", str(self.config), "--lang", "en", *args],
                                    env={"COLUMNS": "250"})
        assert result.exit_code == code, result.output + repr(result.exception)
        return result

    def new_case(self, text: str = CONDUCT, sender: str = PATIENT) -> tuple[Case, list[Any]]:
        """A complaint by mail, one round: the newest case and the mail of that round."""
        self.send(complaint(text, sender=sender))
        mails = self.round()
        return self.newest(), mails

    def newest(self) -> Case:
        with self.app.session_factory() as session:
            case = session.scalars(select(Case).order_by(Case.id.desc()).options(
                selectinload(Case.events), selectinload(Case.assignments),
                selectinload(Case.messages).selectinload(Message.attachments),
                selectinload(Case.complainant)).limit(1)).one()
        return case

    def get(self, reference: str) -> Case:
        with self.app.session_factory() as session:
            return session.scalars(select(Case).where(Case.reference == reference).options(
                selectinload(Case.events), selectinload(Case.assignments),
                selectinload(Case.messages), selectinload(Case.complainant))).one()


@pytest.fixture
def life(tmp_path: Path, db_url: str, imap_account: Any, smtp_server: Any,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Life]:
    w = Life(tmp_path, db_url, imap_account, smtp_server, monkeypatch)
    yield w
    w.app.close()


def kinds(case: Case) -> list[str]:
    return [e.kind for e in case.events]


# -- 1. open a case by hand (clause 五(四), 三(二)) ----------------------------------------


def test_a_letter_typed_in_is_acknowledged_and_routed_like_any_case(
        life: Life, tmp_path: Path) -> None:
    scan = tmp_path / "letter-scan.pdf"
    scan.write_bytes(b"%PDF-1.4 the letter")
    life.cli("cases", "open", "--channel", "letter", "--name", "王先生", "--phone",
             "13800001111", "--email", "letter.writer@example.cn", "--consent", "no",
             "--subject", "来信：接线员态度", "--text", CONDUCT, "--attachments", str(scan),
             "--as", "张伟")
    mails = life.round()
    case = life.newest()
    assert case.channel == "letter" and case.category == "staff_conduct"
    assert case.status is CaseStatus.ROUTED and "opened_by_hand" in kinds(case)
    (ack,) = to(mails, "letter.writer@example.cn", contains=case.reference)[:1]
    assert "受理编号" in body_of(ack)
    assert to(mails, ZHANG, contains=case.reference)  # the handler's assignment mail
    (attachment,) = case.messages[0].attachments
    assert attachment.filename == "letter-scan.pdf"
    assert life.app.raw_store.get(attachment.sha256) == b"%PDF-1.4 the letter"
    party = case.complainant
    assert party is not None and party.consent_health_data is False
    assert (party.consent_recorded_by, party.consent_source) == ("cli:zhangwei", "letter")

    # A visit with a phone number only: no mail can go, so the case asks for a call.
    life.cli("cases", "open", "--channel", "visit", "--phone", "13900002222", "--text",
             "12月2日来访：志愿者态度不耐烦。", "--as", "李娜")
    life.round()
    visit = life.newest()
    assert visit.channel == "visit" and visit.phone_follow_up
    bad = life.cli("cases", "open", "--channel", "fax", "--text", "x", "--as", "张伟", code=2)
    assert "channel must be one of" in bad.output
    stranger = life.cli("cases", "open", "--channel", "letter", "--text", "x", "--as", "路人",
                        code=2)
    assert "No staff member" in stranger.output


def test_opening_a_case_is_not_a_mail_command(life: Life) -> None:
    # A staff member's mail to the intake address is itself a case: no #立案 by mail.
    assert not any("#立案" in line for line in help_lines())
    case, mails = life.new_case()
    (assignment,) = to(mails, ZHANG)
    assert "#立案" not in body_of(assignment) and "#合并" in body_of(assignment)
    life.send(reply(assignment, ZHANG, "#立案\n来信内容"))
    mails = life.round(days=0.1)
    refused = life.get(case.reference)
    assert any(e.kind == "command_refused" and "#立案" in e.details["why"]
               for e in refused.events)
    assert to(mails, ZHANG)  # told why


def test_a_media_report_with_consent_sends_health_details_to_the_authority(life: Life) -> None:
    life.cli("cases", "open", "--channel", "media", "--email", "reporter@example.cn",
             "--consent", "yes", "--text", MEDICAL, "--as", "王芳")
    mails = life.round()
    case = life.newest()
    assert case.status is CaseStatus.REFERRED and case.channel == "media"
    (letter,) = to(mails, HEALTH)
    assert "糖尿病" in body_of(letter) and NO_CONSENT_NOTE.strip() not in body_of(letter)


# -- 2. close, withdraw, reject, spam -------------------------------------------------------


def test_withdrawn_by_mail_rejected_by_cli_spam_told_to_nobody(life: Life) -> None:
    first, mails = life.new_case()
    (assignment,) = to(mails, ZHANG)
    life.send(reply(assignment, ZHANG, "#撤回 投诉人来电表示问题已解决，撤回投诉"))
    mails = life.round(days=0.1)
    assert life.get(first.reference).status is CaseStatus.WITHDRAWN
    (told,) = to(mails, PATIENT, contains="已撤回")
    assert first.reference in str(told["Subject"]) and "问题已解决" in body_of(told)

    second, _ = life.new_case(sender="other@example.cn")
    life.cli("cases", "reject", second.reference, "--as", "张伟", code=2)  # no reason
    life.cli("cases", "reject", second.reference, "医保报销问题请向区医保中心反映", "--as",
             "王芳")
    mails = life.round(days=0.1)
    assert life.get(second.reference).status is CaseStatus.REJECTED
    (told,) = to(mails, "other@example.cn", contains="不予受理")
    assert "不属于本中心的受理范围" in body_of(told) and "区医保中心" in body_of(told)

    third, mails = life.new_case(sender="spammer@example.cn")
    (assignment,) = [m for m in mails if third.reference in str(m["Subject"])
                     and "spammer" not in str(m["To"])]
    handler = str(assignment["To"])
    life.send(reply(assignment, handler, "#垃圾信息 广告推销"))
    mails = life.round(days=0.1)
    spam = life.get(third.reference)
    assert spam.status is CaseStatus.REJECTED and "case_spam" in kinds(spam)
    assert to(mails, "spammer@example.cn") == []
    life.cli("cases", "spam", first.reference, "广告", "--as", "张伟", code=2)  # not open


def test_close_only_a_resolved_case_and_tell_the_complainant(life: Life) -> None:
    case, mails = life.new_case()
    (assignment,) = to(mails, ZHANG)
    early = life.cli("cases", "close", case.reference, "重复", "--as", "张伟", code=2)
    assert "only a resolved case can be closed" in early.output
    life.send(reply(assignment, ZHANG, "#办结 部分属实\n已批评教育接线员并向您致歉。"))
    life.round(days=0.1)
    life.cli("cases", "close", case.reference, "已办结，投诉人无异议", "--as", "张伟")
    mails = life.round(days=0.1)
    assert life.get(case.reference).status is CaseStatus.CLOSED
    (told,) = to(mails, PATIENT, contains="归档")
    assert "投诉人无异议" in body_of(told)


# -- 3. merge -----------------------------------------------------------------------------


def test_merge_a_linked_case_by_mail_and_a_phone_duplicate_by_cli(life: Life) -> None:
    original, _ = life.new_case()
    # A stranger quoting the reference gets a case of their own, linked for review.
    life.send(complaint("补充：我也看到了接线员骂人。", sender="witness@example.cn",
                        subject=f"[{original.reference}] 补充"))
    mails = life.round(days=0.1)
    linked = life.newest()
    assert "linked_for_review" in kinds(linked) and linked.id != original.id
    (assignment,) = [m for m in mails if linked.reference in str(m["Subject"])
                     and "witness" not in str(m["To"])]
    handler = str(assignment["To"])
    life.send(reply(assignment, handler, f"#合并 {original.reference}"))
    mails = life.round(days=0.1)
    linked = life.get(linked.reference)
    assert linked.status is CaseStatus.CLOSED and linked.merged_into_id == original.id
    assert "case_merged" in kinds(linked)
    assert "merged_from" in kinds(life.get(original.reference))
    (told,) = to(mails, "witness@example.cn", contains="合并")
    assert original.reference in body_of(told)

    # The witness writes again to the merged case: the surviving case's handler is told.
    life.send(reply(told, "witness@example.cn", "我还记得接线员的工号是1024。"))
    mails = life.round(days=0.1)
    (news,) = to(mails, ZHANG, contains="1024")
    assert original.reference in str(news["Subject"]) and linked.reference in body_of(news)

    # The same complaint by phone, typed in at the hotline desk, merged by CLI.
    life.cli("cases", "open", "--channel", "phone", "--phone", "13800001111", "--text",
             CONDUCT, "--as", "李娜")
    life.round(days=0.1)
    phoned = life.newest()
    holder = life.get(phoned.reference).assignments[-1].handler
    life.cli("cases", "merge", phoned.reference, original.reference, "--as",
             "张伟" if holder == "zhangwei" else "李娜")
    assert life.get(phoned.reference).merged_into_id == original.id
    shown = life.cli("cases", "show", original.reference)
    assert linked.reference in shown.output and phoned.reference in shown.output
    again = life.cli("cases", "merge", phoned.reference, original.reference, "--as", "王芳",
                     code=2)
    assert "nothing to merge" in again.output


# -- 4. the complainant writes again; an interim reply --------------------------------------


def test_news_from_the_complainant_reaches_the_handler_who_replies(life: Life) -> None:
    case, mails = life.new_case()
    (routed,) = to(mails, PATIENT, contains="服务部")
    life.send(reply(routed, PATIENT, "补充一点：接线员的工号是1024，通话时间约10点15分。"))
    mails = life.round(days=0.1)
    (news,) = to(mails, ZHANG, contains="工号是1024")
    assert case.reference in str(news["Subject"]) and "#答复" in body_of(news)
    assert len(life.get(case.reference).messages) > len(case.messages)

    life.send(reply(news, ZHANG, "#答复\n您好，我们已调取10点15分的通话录音，正在核实。"))
    mails = life.round(days=0.1)
    (answer,) = to(mails, PATIENT, contains="正在核实")
    assert case.reference in str(answer["Subject"]) and "张伟" in body_of(answer)
    assert "interim_reply" in kinds(life.get(case.reference))

    life.cli("handle", "reply", case.reference, "--text", "录音已核实，下周告知结果。", "--as",
             "张伟")
    mails = life.round(days=0.1)
    assert to(mails, PATIENT, contains="下周告知结果")
    life.cli("handle", "reply", case.reference, "--as", "张伟", code=2)  # no text


# -- 5. major or difficult matters (clause 四(五), 四(六)) --------------------------------------


def test_major_matter_escalates_then_deferral_and_appointment(life: Life) -> None:
    case, mails = life.new_case()
    early = life.cli("handle", "appoint", case.reference, "2025-12-10", "--as", "张伟", code=2)
    assert "major" in early.output
    (assignment,) = to(mails, ZHANG)
    life.send(reply(assignment, ZHANG, "#重大 涉及多名接线员，需要调取多日录音"))
    mails = life.round(days=0.1)
    assert life.get(case.reference).major
    (escalation,) = to(mails, WANG, contains="重大疑难事项")
    assert "多日录音" in body_of(escalation)

    life.send(reply(escalation, WANG, "#延期服务 2026-01-30 需要多部门联合调查"))
    mails = life.round(days=0.1)
    deferred = life.get(case.reference)
    assert deferred.status is CaseStatus.EXTENDED
    assert deferred.resolve_due == date(2026, 1, 30)
    (told,) = to(mails, PATIENT, contains="多部门联合调查")
    assert "2026年1月30日" in body_of(told)
    (extension,) = life.rows(Extension)
    assert extension.approved_by == "staff:wangfang"

    life.cli("handle", "appoint", case.reference, "2025-12-10", "上午10点，二楼接待室",
             "--as", "张伟")
    mails = life.round(days=0.1)
    (appointment,) = to(mails, PATIENT, contains="预约")
    assert "2025年12月10日" in body_of(appointment) and "二楼接待室" in body_of(appointment)
    past = life.cli("handle", "appoint", case.reference, "2025-11-01", "--as", "张伟", code=2)
    assert "in the past" in past.output
    life.cli("handle", "defer", case.reference, "2026-02-28", "再延", "--as", "张伟", code=2)


def test_a_major_matter_waiting_for_material_is_still_reported(life: Life) -> None:
    case, mails = life.new_case("我申请的援助一直没有人审核，拖延太久了。")
    assert case.status is CaseStatus.AWAITING_MATERIAL and case.resolve_due is None
    life.cli("handle", "major", case.reference, "涉及多个合作医院", "--as", "陈静")
    mails = life.round(days=0.1)
    (escalation,) = to(mails, "zhao.lei@oasis.example.org", contains="重大疑难事项")
    assert "尚未起算" in body_of(escalation) and "涉及多个合作医院" in body_of(escalation)
    assert life.get(case.reference).major
    waiting = life.cli("handle", "defer", case.reference, "2026-02-28", "等", "--as", "赵磊",
                       code=2)
    assert "waits for material" in waiting.output


# -- 6. attention flags -----------------------------------------------------------------------


def test_attention_flags_cleared_with_a_note_by_mail_and_by_cli(life: Life) -> None:
    # The acknowledgement is refused for good by the complainant's server: flagged.
    life.smtp.answer_next("550 5.1.1 no such user")
    life.send(complaint(CONDUCT, sender="gone@example.cn"))
    life.clock.advance(timedelta(minutes=1))
    life.app.run_once()
    life.app.send_outbox()
    case = life.newest()
    assert case.needs_attention
    mails = [message_from_bytes(m.raw, policy=policy.default)
             for m in life.smtp.messages[life.seen:]]
    life.seen = len(life.smtp.messages)
    (assignment,) = [m for m in mails if ZHANG in str(m["To"])]
    assert isinstance(assignment, EmailMessage)
    life.send(reply(assignment, ZHANG, "#清除标记 已电话联系投诉人，邮箱已更正"))
    life.round(days=0.1)
    cleared = life.get(case.reference)
    assert not cleared.needs_attention and not cleared.phone_follow_up
    (event,) = [e for e in cleared.events if e.kind == "flags_cleared"]
    assert event.details["note"] == "已电话联系投诉人，邮箱已更正"
    again = life.cli("handle", "clear-flags", case.reference, "再清", "--as", "张伟", code=2)
    assert "no attention flag" in again.output

    life.cli("cases", "open", "--channel", "phone", "--phone", "13900003333", "--text",
             "12月2日热线接线员态度粗暴。", "--as", "张伟")
    life.round(days=0.1)
    phoned = life.newest()
    assert phoned.phone_follow_up
    handler = "张伟" if phoned.assignments[-1].handler == "zhangwei" else "李娜"
    life.cli("handle", "clear-flags", phoned.reference, "已回电告知受理情况", "--as", handler)
    assert not life.get(phoned.reference).phone_follow_up


# -- 7. consent (PIPL art. 29) ---------------------------------------------------------------


def test_consent_recorded_by_mail_lets_health_details_out_and_its_absence_is_said(
        life: Life) -> None:
    medical, mails = life.new_case(MEDICAL)
    (letter,) = to(mails, HEALTH)
    assert "糖尿病" not in body_of(letter) and "未单独同意提供健康信息" in body_of(letter)

    case, mails = life.new_case("12月2日接线员态度很差还骂人，我说起自己患有糖尿病时她很不耐烦。",
                                sender="second@example.cn")
    assert case.category == "staff_conduct"
    (assignment,) = [m for m in mails if case.reference in str(m["Subject"])
                     and "second" not in str(m["To"])]
    handler = str(assignment["To"])
    life.send(reply(assignment, handler, "#同意 是 电话 投诉人来电口头同意\n"
                                         "#移送 上海市卫生健康委员会"))
    mails = life.round(days=0.1)
    party = life.get(case.reference).complainant
    assert party is not None and party.consent_health_data
    assert party.consent_source == "call" and party.consent_recorded_by.startswith("staff:")
    (letter,) = to(mails, HEALTH, contains=case.reference)
    assert "糖尿病" in body_of(letter) and "未单独同意" not in body_of(letter)

    life.cli("handle", "consent", medical.reference, "否", "来信", "投诉人来信拒绝", "--as", "张伟")
    with life.app.session_factory() as session:
        party = session.scalars(select(Party).join(Case, Case.complainant_id == Party.id)
                                .where(Case.reference == medical.reference)).one()
    assert not party.consent_health_data
    assert (party.consent_source, party.consent_recorded_by) == ("letter", "cli:zhangwei")
    assert party.consent_recorded_at == life.clock.now()


# -- 8. sanctions and compensation carried out (clause 七) -----------------------------------


def test_sanction_applied_by_mail_compensation_paid_by_cli_open_ones_listed(
        life: Life) -> None:
    case, mails = life.new_case()
    (assignment,) = to(mails, ZHANG)
    life.send(reply(assignment, ZHANG,
                    "#办结 属实 loss_caused 李娜\n接线员态度粗暴属实，已责令道歉并赔偿。"))
    mails = life.round(days=0.1)
    (survey,) = to(mails, PATIENT, contains="非常满意")
    (violation,) = life.rows(Violation)
    assert violation.compensation == 200 and violation.sanction_applied_at is None
    assert f"{violation.id}" in life.cli("violations", "list", "--open").output

    # A low mark sends the case back to the supervisor, who answers that mail.
    life.send(reply(survey, PATIENT, "不满意"))
    mails = life.round(days=0.1)
    (review,) = to(mails, WANG, contains=case.reference)
    life.send(reply(review, WANG, "#处分落实 已对李娜诫勉教育，李娜已当面道歉"))
    mails = life.round(days=0.1)
    assert len(to(mails, WANG, contains="#处分落实")) == 1  # the confirmation
    (violation,) = life.rows(Violation)
    assert violation.sanction_applied_by == "staff:wangfang"
    assert violation.sanction_applied_at is not None and violation.compensation_paid_at is None
    assert case.reference in life.cli("violations", "list", "--open").output

    refused = life.cli("violations", "compensation-paid", case.reference, "已付", "--as",
                       "张伟", code=2)
    assert "not the handler, deputy or supervisor" in refused.output or "Not done" in \
        refused.output
    life.cli("violations", "compensation-paid", case.reference, "已银行转账200元",
             "--violation", str(violation.id), "--as", "王芳")
    (violation,) = life.rows(Violation)
    assert violation.compensation_paid_by == "cli:wangfang"
    assert case.reference not in life.cli("violations", "list", "--open").output
    listing = life.cli("violations", "list").output
    assert "compensation paid" in listing and "sanction applied" in listing


# -- 9. a default installation mails someone ----------------------------------------------


def test_without_routing_rules_the_triage_address_hears_of_every_new_case(
        tmp_path: Path, db_url: str, imap_account: Any, smtp_server: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "complaintd.toml"
    config.write_text(real_servers_toml(
        db_url, imap_account, smtp_server, from_address="complaints@oasis.example.org",
        extra='[routing]\ntriage_to = ["triage@oasis.example.org"]\n'), encoding="utf-8")
    clock = FixedClock(datetime(2025, 12, 2, 9, 0, tzinfo=SHANGHAI))
    app = App.build(load_settings(config), clock)
    upgrade(app.engine)
    monkeypatch.setattr("complaintd.cli.context.SystemClock", lambda: clock)
    try:
        imap_account.append("INBOX", complaint("12月2日志愿者态度很差。"))
        app.run_once()
        app.send_outbox()
        mails = [message_from_bytes(m.raw, policy=policy.default) for m in smtp_server.messages]
        with app.session_factory() as session:
            reference = session.scalars(select(Case.reference)).one()
        triage = [m for m in mails if "triage@oasis.example.org" in str(m["To"])]
        assert len(triage) == 1 and reference in str(triage[0]["Subject"])
        assert "志愿者态度很差" in body_of(triage[0])  # type: ignore[arg-type]
        assert "渠道：邮件" in body_of(triage[0])  # type: ignore[arg-type]  # a word, not a key

        # A visit typed in at the desk (no staff directory: the name is taken as given).
        result = CliRunner().invoke(main, [
            "--config", str(config), "--lang", "en", "cases", "open", "--channel", "visit",
            "--name", "赵女士", "--text", "来访反映：讲座现场秩序混乱。", "--as", "前台"])
        assert result.exit_code == 0, result.output
        clock.advance(timedelta(minutes=5))
        app.send_outbox()
        mails = [message_from_bytes(m.raw, policy=policy.default)
                 for m in smtp_server.messages[len(mails):]]
        (second,) = [m for m in mails if "triage@oasis.example.org" in str(m["To"])]
        assert "讲座现场秩序混乱" in body_of(second)  # type: ignore[arg-type]
        assert "渠道：来访" in body_of(second)  # type: ignore[arg-type]
        with app.session_factory() as session:
            visit = session.scalars(select(Case).order_by(Case.id.desc()).limit(1)).one()
            assert visit.channel == "visit" and visit.department == "triage"
            assert visit.status is CaseStatus.ROUTED
    finally:
        app.close()
