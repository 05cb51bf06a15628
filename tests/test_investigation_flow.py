"""Routing decisions through the real pipeline and database (no mail servers needed):
triage fallback, a hotline case without email, low satisfaction, consent for health data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from casework.clock import SHANGHAI, FixedClock
from casework.inbound import Inbound
from casework.models import Case, SurveyResponse
from casework.status import CaseStatus
from casework.tasks import CALLBACK, CallTask
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from notifications.models import OutboxMail
from routing import actions
from routing.actions import Acting, Actor

ROUTING = Path(__file__).resolve().parents[1] / "config" / "routing.toml"
NOW = datetime(2025, 12, 2, 9, tzinfo=SHANGHAI)


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> Iterator[App]:
    config = tmp_path / "complaintd.toml"
    config.write_text(f"""
[storage]
data_dir = "var"
database_url = "{db_url}"
[routing]
rules_file = "{ROUTING}"
""", encoding="utf-8")
    application = App.build(load_settings(config), FixedClock(NOW))
    upgrade(application.engine)
    yield application
    application.close()


def take(app: App, **fields: object) -> str:
    values: dict[str, object] = {"channel": "email", "received_at": app.clock.now(),
                                 "subject": "投诉", "text": "", **fields}
    with app.session_factory.begin() as session:
        return app.pipeline(session, Inbound(**values)).reference  # type: ignore[arg-type]


def load(app: App, reference: str) -> tuple[Case, list[str], list[OutboxMail]]:
    with app.session_factory() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        kinds = [e.kind for e in case.events]
        assert case.assignments is not None and case.complainant is not None  # load them
        mails = list(session.scalars(select(OutboxMail).where(OutboxMail.case_id == case.id)
                                     .order_by(OutboxMail.id)))
        session.expunge_all()
    return case, kinds, mails


def text_of(mail: OutboxMail) -> str:
    msg = message_from_bytes(mail.raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_nothing_matched_goes_to_triage_with_the_reason(app: App) -> None:
    ref = take(app, text="你好，请问周末开门吗？", sender_email="someone@example.cn")
    case, kinds, mails = load(app, ref)
    assert case.department == "triage" and case.status is CaseStatus.ROUTED
    assert "routing_decision" in kinds and case.category is None
    (to_triage,) = [m for m in mails if m.kind == "assignment"]
    assert to_triage.recipient == "sun.li@oasis.example.org"
    # The supervisor answers the mail: a wrong category is refused, a right one re-routes.
    for n, word in enumerate(["nonsense", "staff_conduct"]):
        take(app, subject=f"Re: {to_triage.subject}", text=f"#分类 {word}\n周末服务态度问题",
             sender_email="sun.li@oasis.example.org", in_reply_to=to_triage.message_id,
             message_id=f"<triage-{n}@oasis.example.org>")
    case, kinds, mails = load(app, ref)
    assert kinds.count("command_refused") == 1 and "recategorised" in kinds
    assert (case.category, case.department) == ("staff_conduct", "service")
    assert case.assignments[-1].handler == "zhangwei"
    # The category needs the event's date, which the complaint lacks: one notice asks for it.
    assert case.status is CaseStatus.AWAITING_MATERIAL
    assert [m.kind for m in mails].count("missing_material") == 1


def test_hotline_case_without_email_gets_call_tasks_instead_of_mail(app: App) -> None:
    ref = take(app, channel="hotline", text="接线员不耐烦", sender_phone="13800000000",
               category_hint="工作人员服务态度")
    case, kinds, mails = load(app, ref)
    assert case.category == "staff_conduct"  # the log's explicit category decided
    with app.session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        assert app.desk is not None
        actions.accept(Acting(session, app.desk, case, Actor("zhangwei", "handler"), NOW))
        actions.resolve(Acting(session, app.desk, case, Actor("zhangwei", "handler"), NOW),
                        finding="not", outcome="经核实未发现问题。", violation=None)
    case, kinds, mails = load(app, ref)
    assert case.status is CaseStatus.RESOLVED
    assert [m.recipient for m in mails if m.kind != "assignment"] == []  # nothing to mail
    assert "survey_sent" not in kinds and "call_task_opened" in kinds
    with app.session_factory() as session:
        tasks = session.scalars(select(CallTask).where(CallTask.kind == CALLBACK)).all()
        assert [t.phone for t in tasks] == ["13800000000"]


def test_low_satisfaction_reopens_for_the_supervisor(app: App) -> None:
    ref = take(app, text="12月1日接线员态度粗暴。", sender_email="p@example.cn",
               sender_phone="13900000000")
    with app.session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        assert app.desk is not None
        actions.resolve(Acting(session, app.desk, case, Actor("zhangwei", "handler"), NOW),
                        finding="partly", outcome="已批评教育。", violation=None)
    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(days=1))
    take(app, subject=f"Re: [{ref}] 满意度", text="非常不满意，没人给我道歉",
         sender_email="p@example.cn")
    case, kinds, mails = load(app, ref)
    assert "survey_answered" in kinds
    assert case.status is CaseStatus.REOPENED
    assert case.assignments[-1].handler == "wangfang"
    assert [m.kind for m in mails][-1] == "supervisor_escalation"
    with app.session_factory() as session:
        (answer,) = session.scalars(select(SurveyResponse))
        assert (answer.level, answer.label) == (1, "非常不满意")
        assert session.scalars(select(CallTask.phone)).all() == ["13900000000"]


def test_authority_mail_only_naming_the_case_is_kept_unverified(app: App) -> None:
    ref = take(app, text="12月1日医生误诊。", sender_email="p@example.cn")
    assert load(app, ref)[0].status is CaseStatus.REFERRED
    # A stranger naming the case is not the authority: a new case, linked for review.
    other = take(app, subject=f"关于 {ref} 的答复", text="已办结。", sender_email="x@example.cn")
    assert other != ref and load(app, ref)[0].status is CaseStatus.REFERRED
    answer = take(app, subject=f"关于 {ref} 的答复", text="经核查已责令整改。",
                  sender_email="xinfang@wsjkw.example.gov.cn")
    case, kinds, mails = load(app, ref)
    # No reply code of our letter: anyone could have written it. Kept on the case, the
    # handler told (with the text), never passed on to the complainant.
    assert answer == ref and case.status is CaseStatus.REFERRED
    assert "authority_mail_unverified" in kinds and "authority_replied" not in kinds
    assert not any(m.kind == "outcome" for m in mails)
    (told,) = [m for m in mails if m.kind == "authority_answered"]
    assert "经核查已责令整改" in text_of(told) and "未经核实" in told.subject


def test_health_details_leave_only_with_consent(app: App) -> None:
    # Referred at intake, no consent on record: the health details stay with us.
    first = take(app, text="12月1日医生误诊，我有糖尿病病史。", sender_email="p0@example.cn",
                 sender_name="李四")
    # An internal case whose complainant consented, referred by the supervisor's command.
    second = take(app, text="12月1日接线员态度粗暴，不顾我有糖尿病。",
                  sender_email="p1@example.cn", sender_name="李四")
    with app.session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == second)).one()
        assert case.complainant is not None and app.desk is not None
        case.complainant.consent_health_data = True
        case.complainant.consent_recorded_at = NOW
        actions.refer_to(Acting(session, app.desk, case, Actor("wangfang", "supervisor"), NOW),
                         "上海市卫生健康委员会")
    refs = [first, second]
    letters = []
    for ref in refs:
        _, _, mails = load(app, ref)
        letters += [text_of(m) for m in mails if m.kind == "authority_referral"]
    assert len(letters) == 2 and all("李四" in letter for letter in letters)
    assert "糖尿病" not in letters[0] and "糖尿病" in letters[1]
