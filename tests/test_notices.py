"""The queue functions of every notice, on SQLite and PostgreSQL.

What is checked is the stored message as the recipient will get it: once per change,
the right language, the reference in the subject, the thread, the Auto-Submitted kind,
and for authorities only the personal data a rule allows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import SHANGHAI
from casework.models import Case, Message, Party, TimelineEvent
from casework.status import CaseStatus
from notifications import notices as n
from notifications.contexts import CallbackRow, DigestRow, OrganisationInfo
from notifications.models import OutboxMail
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer

NOW = datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)
IDENTITY = MailIdentity(
    from_address="noreply@lifeoasis.example",
    from_name="上海生命绿洲公益服务中心",
    reply_to="tousu@lifeoasis.example",
    message_id_domain="lifeoasis.example",
)
ORG = OrganisationInfo(
    name="上海生命绿洲公益服务中心",
    name_en="Shanghai Life Oasis Public Welfare Service Center",
    hotline_phone="021-6123 4567",
    resolve_working_days=15,
)
COMMON: dict[str, Any] = {
    "identity": IDENTITY,
    "renderer": TemplateRenderer(),
    "org": ORG,
    "now": NOW,
}
HEALTH = "患有二型糖尿病，正在胰岛素治疗"


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


def make_case(
    session: Session,
    *,
    email: str | None = "zhang@example.com",
    phone: str | None = "13900001111",
    language: str = "zh",
    consent_health: bool = False,
    anonymous: bool = False,
) -> Case:
    party = Party(name="张三", email=email, phone=phone, anonymous=anonymous, language=language,
                  consent_health_data=consent_health, created_at=NOW)  # fmt: skip
    case = Case(
        reference="LO-2026-000077", status=CaseStatus.INVESTIGATING, channel="email",
        subject="医院收费问题", summary=f"张三（13900001111）反映：{HEALTH}，医院多收费。",
        language=language, category="收费", received_at=NOW, resolve_due=date(2026, 3, 27),
        complainant=party, created_at=NOW, updated_at=NOW)  # fmt: skip
    case.messages.append(Message(direction="in", channel="email", message_id="<first@x.example>",
                                 received_at=NOW))  # fmt: skip
    case.messages.append(Message(direction="in", channel="email", message_id="<second@x.example>",
                                 received_at=NOW))  # fmt: skip
    session.add(case)
    session.flush()
    return case


def parse(row: OutboxMail) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(row.raw)


def body(row: OutboxMail, subtype: str = "plain") -> str:
    part = parse(row).get_body(preferencelist=(subtype,))
    assert part is not None
    return cast(str, part.get_content())


def everything(row: OutboxMail) -> str:
    """Headers decoded, text and HTML: all a recipient could read."""
    message = parse(row)
    headers = "\n".join(f"{k}: {v}" for k, v in message.items())
    return "\n".join([headers, body(row), body(row, "html")])


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(OutboxMail)) or 0)


def events(case: Case, kind: str) -> list[TimelineEvent]:
    return [e for e in case.events if e.kind == kind]


# -- complainant notices -------------------------------------------------------------


def _missing(db: Session, case: Case, **extra: Any) -> OutboxMail | None:
    return n.queue_missing_material(db, case, items=["收费票据", "就诊日期"],
                                    reply_by=date(2026, 3, 16), limit=n.Limit(15),
                                    **COMMON, **extra)  # fmt: skip


def _complainant_calls(case: Case) -> dict[str, Any]:
    return {
        "missing_material": lambda db, **kw: _missing(db, case, **kw),
        "routed_internally": lambda db, **kw: n.queue_routed_internally(
            db, case, department="患者服务部", resolve_due=date(2026, 3, 27), limit=n.Limit(15),
            **COMMON, **kw),
        "referred_to_authority": lambda db, **kw: n.queue_referred_to_authority(
            db, case, authority="上海市民政局", referred_on=date(2026, 3, 9),
            answer_due=None, **COMMON, **kw),
        "extension": lambda db, **kw: n.queue_extension(
            db, case, reason="需调取记录", previous_due=date(2026, 3, 27),
            new_due=date(2026, 4, 17), extension=n.Limit(15), **COMMON, **kw),
        "outcome": lambda db, **kw: n.queue_outcome(
            db, case, outcome="已退费", resolved_on=date(2026, 3, 20), authority=None,
            **COMMON, **kw),
        "satisfaction_survey": lambda db, **kw: n.queue_satisfaction_survey(
            db, case, resolved_on=date(2026, 3, 20), survey_url=None, **COMMON, **kw),
    }  # fmt: skip


COMPLAINANT_NOTICES = [
    "missing_material", "routed_internally", "referred_to_authority", "extension", "outcome",
    "satisfaction_survey",
]  # fmt: skip


@pytest.mark.parametrize("notice", COMPLAINANT_NOTICES)
def test_complainant_notice_is_queued_once_in_the_cases_thread(db: Session, notice: str) -> None:
    case = make_case(db)
    queue = _complainant_calls(case)[notice]

    row = queue(db)
    again = queue(db)
    db.commit()

    assert row is not None and again is row and count(db) == 1
    message = parse(row)
    assert (row.kind, row.case_id, row.recipient) == (notice, case.id, "zhang@example.com")
    assert "[LO-2026-000077]" in str(message["Subject"])
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Precedence"] is None
    assert message["In-Reply-To"] == "<second@x.example>"
    assert message["References"] == "<first@x.example> <second@x.example>"
    assert message["Reply-To"] == "tousu@lifeoasis.example"
    assert str(message["To"]) == "张三 <zhang@example.com>"
    assert "张三，您好：" in body(row)
    # Its Message-ID joins the case, so a reply that drops the reference still threads.
    assert [m.message_id for m in case.messages if m.direction == "out"] == [row.message_id]


@pytest.mark.parametrize(
    ("case_language", "override", "marker"),
    [("en", None, "Dear 张三,"), ("zh", "en", "Dear 张三,"), ("en", "zh", "张三，您好："),
     ("en", "auto", "Dear 张三,"), ("zh", "bilingual", "English")],
)  # fmt: skip
def test_complainant_language_follows_the_case_unless_configured(
    db: Session, case_language: str, override: str | None, marker: str
) -> None:
    row = _missing(db, make_case(db, language=case_language), language=override)

    assert row is not None and marker in body(row)


def test_an_unknown_case_language_is_judged_by_its_text(db: Session) -> None:
    case = make_case(db)
    case.language = "?"
    assert n.complainant_language(case, None) == "zh"
    case.subject, case.summary = "Billing", "They charged me twice."
    assert n.complainant_language(case, "auto") == "en"
    with pytest.raises(ValueError, match="fr"):
        n.complainant_language(case, "fr")


def test_no_address_asks_for_a_call_once(db: Session) -> None:
    case = make_case(db, email=None)

    assert _missing(db, case) is None
    assert _missing(db, case) is None
    db.commit()

    assert count(db) == 0
    assert case.phone_follow_up is True
    [event] = events(case, "mail_not_queued")
    assert event.details["kind"] == "missing_material"
    assert "phone" in event.details["reason"]


def test_a_caller_to_ring_back_is_no_warning_but_nobody_to_reach_is(
    db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    # A call log of callers without email is thousands of these: the call list has them.
    with caplog.at_level(logging.DEBUG, logger="complaintd"):
        assert _missing(db, make_case(db, email=None)) is None
    [ring_back] = [r for r in caplog.records if "not queued" in r.getMessage()]
    assert ring_back.levelno == logging.DEBUG
    assert "tell by phone" in ring_back.getMessage()

    db.rollback()
    caplog.clear()
    unreachable = make_case(db, email=None, phone=None)
    with caplog.at_level(logging.DEBUG, logger="complaintd"):
        assert _missing(db, unreachable) is None
    [nobody] = [r for r in caplog.records if "not queued" in r.getMessage()]
    assert nobody.levelno == logging.WARNING
    assert "no email address or phone" in nobody.getMessage()


def test_a_bad_address_flags_the_case_for_staff_and_a_call(db: Session) -> None:
    case = make_case(db, email="zhang@example.com, li@example.com")

    assert _missing(db, case) is None
    db.commit()

    assert (case.needs_attention, case.phone_follow_up) == (True, True)
    [event] = events(case, "mail_not_queued")
    assert "single mailbox" in event.details["reason"]


def test_anonymous_complainant_is_not_named(db: Session) -> None:
    row = _missing(db, make_case(db, anonymous=True))

    assert row is not None
    assert str(parse(row)["To"]) == "zhang@example.com"
    assert "张三" not in everything(row)


def test_a_second_missing_material_notice_needs_its_own_number(db: Session) -> None:
    case = make_case(db)
    first = _missing(db, case)
    second = _missing(db, case, notice_number=2)

    assert first is not None and second is not None and first.id != second.id
    assert (first.dedup_key, second.dedup_key) == (
        "missing:LO-2026-000077:1",
        "missing:LO-2026-000077:2",
    )


# -- staff notices -------------------------------------------------------------------


def _assign(db: Session, case: Case, **extra: Any) -> OutboxMail | None:
    return n.queue_assignment(db, case, handler_email="Li.Na@lifeoasis.example",
                              handler_name="李娜", deadline=date(2026, 3, 27),
                              commands_help=["#接受", "#延期 原因"], **COMMON, **extra)  # fmt: skip


def test_assignment_is_chinese_once_per_handler_and_lists_the_commands(db: Session) -> None:
    case = make_case(db, language="en")  # the complainant's language does not matter here
    row = _assign(db, case)
    again = _assign(db, case)  # the same change, repeated
    db.commit()

    assert row is not None and again is row and count(db) == 1
    message = parse(row)
    assert str(message["Subject"]) == "新案件分派给您 [LO-2026-000077]"
    assert str(message["To"]) == "李娜 <Li.Na@lifeoasis.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    text = body(row)
    assert "办结期限：2026年3月27日" in text and "- #延期 原因" in text
    assert message["In-Reply-To"] is None  # staff mail is not in the complainant's thread
    assert not [m for m in case.messages if m.direction == "out"]


def test_reassignment_to_the_same_handler_needs_an_occasion(db: Session) -> None:
    case = make_case(db)
    first = _assign(db, case)
    second = _assign(db, case, occasion="assignment-9")

    assert first is not None and second is not None and first.id != second.id


def test_staff_language_is_configurable(db: Session) -> None:
    row = _assign(db, make_case(db), language="en")

    assert row is not None
    assert str(parse(row)["Subject"]) == "A case has been assigned to you [LO-2026-000077]"


def test_reminder_is_threaded_under_the_assignment(db: Session) -> None:
    case = make_case(db)
    assignment = _assign(db, case)
    reminder = n.queue_handler_reminder(db, case, handler_email="li.na@lifeoasis.example",
                                        handler_name="李娜", working_days_left=2,
                                        commands_help=[], **COMMON)  # fmt: skip

    assert assignment is not None and reminder is not None
    assert parse(reminder)["In-Reply-To"] == assignment.message_id
    assert "剩余工作日：2" in body(reminder)
    assert reminder.dedup_key == "reminder:LO-2026-000077:li.na@lifeoasis.example:2026-03-27:2"


def test_escalation_is_once_per_reason_and_deadline(db: Session) -> None:
    case = make_case(db)

    def escalate(reason: str) -> OutboxMail | None:
        return n.queue_supervisor_escalation(
            db, case, supervisor_email="chen@lifeoasis.example", supervisor_name="陈主任",
            handler_name=None, reason=reason, days_overdue=1, **COMMON)  # fmt: skip

    overdue, repeated, major = escalate("已逾期"), escalate("已逾期"), escalate("重大疑难")
    assert overdue is not None and overdue is repeated
    assert major is not None and major.id != overdue.id
    assert "承办人：未分派" in body(major)


def test_digest_and_callback_list_belong_to_no_case(db: Session) -> None:
    digest = n.queue_supervisor_digest(
        db, supervisor_email="chen@lifeoasis.example", supervisor_name="陈主任",
        digest_date=date(2026, 3, 9),
        rows=[DigestRow("LO-2026-000077", "investigating", "李娜", date(2026, 3, 6), True)],
        new_count=2, due_soon_count=1, **COMMON)  # fmt: skip
    calls = n.queue_hotline_callback_list(
        db, recipient_email="hotline@lifeoasis.example", list_date=date(2026, 3, 9),
        rows=[CallbackRow("LO-2026-000077", "张三", "13900001111", "邮件被拒收",
                          date(2026, 3, 10))], **COMMON)  # fmt: skip
    db.commit()

    assert digest is not None and calls is not None
    assert (digest.case_id, calls.case_id) == (None, None)
    assert "已逾期 1 件" in body(digest) and "新案件 2 件" in body(digest)
    assert "电话：13900001111" in body(calls)
    assert digest.dedup_key == "digest:chen@lifeoasis.example:2026-03-09"


def test_command_answers_are_auto_replies_to_the_command_mail(db: Session) -> None:
    case = make_case(db)
    refusal = n.queue_command_refusal(
        db, staff_email="li.na@lifeoasis.example", command_message_id="<cmd-1@lifeoasis.example>",
        command="#办结", reason="缺少处理结果", case=case, commands_help=["#办结 结果"],
        command_references=("<assign@lifeoasis.example>",), **COMMON)  # fmt: skip
    done = n.queue_command_done(
        db, staff_email="li.na@lifeoasis.example", command_message_id="<cmd-2@lifeoasis.example>",
        command="#接受", result="已接受", case=case, **COMMON)  # fmt: skip

    assert refusal is not None and done is not None
    message = parse(refusal)
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Precedence"] == "auto_reply"
    assert message["In-Reply-To"] == "<cmd-1@lifeoasis.example>"
    assert message["References"] == "<assign@lifeoasis.example> <cmd-1@lifeoasis.example>"
    assert "[LO-2026-000077]" in str(message["Subject"])
    assert "原因：缺少处理结果" in body(refusal)
    assert parse(done)["In-Reply-To"] == "<cmd-2@lifeoasis.example>"


def test_refused_mail_answer_is_bilingual_and_once(db: Session) -> None:
    def refuse() -> OutboxMail | None:
        return n.queue_message_refused(
            db, recipient_email="zhang@example.com", recipient_name="张三",
            original_subject="材料", original_message_id="<big@x.example>",
            reason="超过 50 MB", source_key="abc", **COMMON)  # fmt: skip

    row = refuse()
    assert row is not None and refuse() is row
    assert parse(row)["Auto-Submitted"] == "auto-replied"
    assert "尚未登记为投诉" in body(row) and "not been registered" in body(row)


# -- authority letters ---------------------------------------------------------------


def _refer(db: Session, case: Case, **rule: Any) -> OutboxMail | None:
    options: dict[str, Any] = {"personal_fields": (), "health_allowed": False,
                               "health_details": HEALTH, **rule}  # fmt: skip
    return n.queue_authority_referral(
        db, case, authority_name="上海市卫生健康委员会", authority_email="xinfang@wsjkw.example",
        matter="张三反映：合作医院在义诊中收取挂号费，联系电话13900001111。",
        answer_due=date(2026, 4, 10), **COMMON, **options)  # fmt: skip


def test_referral_letter_without_consent_carries_no_personal_or_health_data(
    db: Session,
) -> None:
    # The rule would allow health details, but the complainant gave no separate consent.
    case = make_case(db, consent_health=False)
    row = _refer(db, case, health_allowed=True)
    db.commit()

    assert row is not None
    readable = everything(row)
    for personal in ("张三", "13900001111", "zhang@example.com", "糖尿病", "胰岛素"):
        assert personal not in readable, personal
    assert b"zhang@example.com" not in row.raw
    assert "合作医院在义诊中收取挂号费" in readable  # the matter itself goes
    assert "投诉人个人信息依规不予提供" in readable
    assert "[LO-2026-000077]" in str(parse(row)["Subject"])
    assert parse(row)["Auto-Submitted"] == "auto-generated"
    [event] = events(case, "referral_letter_queued")
    assert event.details["personal_fields"] == [] and event.details["health_details"] is False


def test_referral_letter_carries_only_the_fields_the_rule_allows(db: Session) -> None:
    case = make_case(db, consent_health=True)
    row = _refer(db, case, personal_fields=("name",), health_allowed=False)

    assert row is not None
    readable = everything(row)
    assert "姓名：张三" in readable and "张三反映" in readable
    assert "13900001111" not in readable and "zhang@example.com" not in readable
    assert "糖尿病" not in readable  # consent alone is not enough: the rule must allow it too
    assert "电话：—" in readable


def test_referral_letter_with_consent_and_rule_carries_health_details(db: Session) -> None:
    case = make_case(db, consent_health=True)
    row = _refer(db, case, personal_fields=("name", "phone", "email"), health_allowed=True)
    db.commit()

    assert row is not None
    readable = everything(row)
    assert HEALTH in readable and "电话：13900001111" in readable
    assert "邮箱：zhang@example.com" in readable
    [event] = events(case, "referral_letter_queued")
    assert event.details["personal_fields"] == ["name", "phone", "email"]
    assert event.details["health_details"] is True


def test_an_unknown_personal_field_is_refused(db: Session) -> None:
    with pytest.raises(ValueError, match="id_number"):
        _refer(db, make_case(db), personal_fields=("id_number",))


def test_follow_up_answers_the_referral_letter_and_carries_no_personal_data(
    db: Session,
) -> None:
    case = make_case(db)
    letter = _refer(db, case)
    again = _refer(db, case)

    def follow_up(number: int) -> OutboxMail | None:
        return n.queue_authority_follow_up(
            db, case, authority_name="上海市卫生健康委员会",
            authority_email="XinFang@wsjkw.example", referred_on=date(2026, 3, 9),
            answer_due=date(2026, 4, 10), follow_up_number=number, **COMMON)  # fmt: skip

    first, repeated, second = follow_up(1), follow_up(1), follow_up(2)
    db.commit()

    assert letter is not None and again is letter and first is not None
    assert repeated is first and second is not None and second.id != first.id
    assert parse(first)["In-Reply-To"] == letter.message_id
    assert "张三" not in everything(first)
    assert "2026年4月10日前函复" in body(first)
    assert len(events(case, "referral_letter_queued")) == 1
