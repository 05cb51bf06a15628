"""Conflict of interest, every time (issue 12): every message of the complainant is checked
for staff names, names are compared in one normal form, and a person a case names is told
nothing more about it, whichever part of routing would mail them.

Real pipeline, real SQLite and PostgreSQL, real call-log import; mail is read back from
the outbox rows the real notices queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.clock import SHANGHAI, FixedClock
from casework.inbound import Inbound
from casework.models import Case, CaseExclusion, TimelineEvent
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from intake.hotline import HotlineFolders, HotlineImporter
from notifications.models import OutboxMail
from routing import actions, case_life, commitments
from routing.actions import Acting, Actor
from routing.conflicts import named_staff
from routing.directory import Away, load_routing
from routing.investigation import material_arrived, notify_assignment, request_material
from routing.names import NormalText, pattern
from tests.test_hotline import call, write_log
from tests.test_investigation_e2e import World, body_of, complaint, reply, to

ROUTING = Path(__file__).resolve().parents[1] / "config" / "routing.toml"
NOW = datetime(2025, 12, 2, 9, tzinfo=SHANGHAI)  # a Tuesday
ZHANG = "zhang.wei@oasis.example.org"
LINA = "li.na@oasis.example.org"
WANG = "wang.fang@oasis.example.org"
SUN = "sun.li@oasis.example.org"
CONDUCT = "12月1日上午接线员态度粗暴，挂了我的电话。"


# -- names in one normal form ----------------------------------------------------------

CONFIG = load_routing(ROUTING)


@pytest.mark.parametrize("written", [
    "张伟", "张\u200b伟", "張偉", "张 伟", "张\u3000伟", "张\ufeff伟", "張\u2060偉",
    "张\u00ad伟", "张\u034f伟", "张\ufe0f伟", "张\u3164伟", "张\n伟", "Ｚｈａｎｇ Ｗｅｉ",
    "zhang wei", "ZHANG  WEI",
    "Zh\u200bang\u00a0Wei", "Zhang\u200dWei", "我找了Zhang Wei。", "张老師", "小\u200c張"])
def test_a_name_written_any_way_is_found(written: str) -> None:
    assert named_staff(CONFIG, f"投诉：{written}态度不好") == {"zhangwei": _alias(written)}


def _alias(written: str) -> str:
    """Which of 张伟's directory names the written form is."""
    found = named_staff(CONFIG, written)
    return found["zhangwei"]


@pytest.mark.parametrize("text", ["Zhang Weiwei called", "张 三 伟", "章伟", "Zhangwen",
                                  "王伟", "Li Nathan"])
def test_near_names_are_not_hits(text: str) -> None:
    assert "zhangwei" not in named_staff(CONFIG, text)
    assert "lina" not in named_staff(CONFIG, text)


def test_the_directory_is_normalised_once_at_load() -> None:
    patterns = CONFIG.name_patterns["zhangwei"]
    assert [p.written for p in patterns] == ["张伟", "张老师", "小张", "Zhang Wei"]
    assert patterns[0].chinese == ("张伟",) and patterns[3].latin is not None
    # A traditional or full-width entry in the directory is normalised the same way.
    same = pattern("張\u200b偉")
    assert same is not None and "张伟" in same.chinese
    wide = pattern("Ｚｈａｎｇ Ｗｅｉ")
    assert wide is not None and wide.found_in(NormalText.of("mr zhang wei"))
    assert pattern("\u200b \u3000") is None  # nothing left to look for: no pattern at all


_HIDING = st.sampled_from(
    [" ", "\t", "\n", "\u00a0", "\u3000", "\u2002", "\u200b", "\u200c", "\u200d", "\u2060",
     "\ufeff", "\u00ad", "\u180e", "\u034f", "\ufe0f", "\u3164", "\u2800", "\U000e0001"]
) | st.characters(categories=["Cf", "Zs"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=st.text(max_size=40), after=st.text(max_size=40),
       name=st.sampled_from(["张伟", "李娜", "王芳", "陈静", "刘洋", "赵磊", "孙丽", "王主任"]),
       gaps=st.lists(st.text(_HIDING, max_size=3), min_size=3, max_size=3))
def test_invisible_characters_and_spaces_never_hide_a_name(
        before: str, after: str, name: str, gaps: list[str]) -> None:
    hidden = gaps[0] + name[0] + gaps[1] + name[1:] + gaps[2]
    for part in name[2:]:  # 王主任: a gap before every character
        hidden = hidden.replace(part, gaps[1] + part, 1)
    key = next(k for k, p in CONFIG.staff.items() if name in (p.name, *p.aliases))
    assert key in named_staff(CONFIG, before + hidden + after)


@settings(max_examples=200, deadline=None)
@given(gaps=st.lists(st.text(_HIDING, max_size=3), min_size=9, max_size=9),
       around=st.sampled_from(["", " ", "，", "。", "我找", "\n"]))
def test_invisible_characters_and_spaces_never_hide_a_latin_alias(
        gaps: list[str], around: str) -> None:
    hidden = "".join(g + c for g, c in zip(gaps, "ZhangWei", strict=False))
    assert "zhangwei" in named_staff(CONFIG, f"{around}Mr {hidden}{around}")


# -- the real pipeline ---------------------------------------------------------------------


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


def take(app: App, text: str, **fields: object) -> str:
    values: dict[str, object] = {"channel": "email", "received_at": app.clock.now(),
                                 "subject": "投诉", "text": text,
                                 "sender_email": "patient@example.cn", **fields}
    with app.session_factory.begin() as session:
        return app.pipeline(session, Inbound(**values)).reference  # type: ignore[arg-type]


def follow_up(app: App, reference: str, text: str) -> None:
    take(app, text, subject=f"Re: 【{reference}】投诉")


def mails_to(app: App, address: str, since: int = 0) -> list[OutboxMail]:
    with app.session_factory() as session:
        return list(session.scalars(select(OutboxMail).where(
            OutboxMail.recipient == address, OutboxMail.id > since).order_by(OutboxMail.id)))


def last_mail_id(app: App) -> int:
    with app.session_factory() as session:
        return max(session.scalars(select(OutboxMail.id)), default=0)


def case_of(app: App, reference: str) -> tuple[Case, list[TimelineEvent], set[str]]:
    with app.session_factory() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        events = list(case.events)
        assert case.assignments is not None
        banned = set(session.scalars(select(CaseExclusion.staff)
                                     .where(CaseExclusion.case_id == case.id)))
        session.expunge_all()
    return case, events, banned


def handler_of(case: Case) -> str | None:
    current = next((a for a in reversed(case.assignments) if a.ended_at is None), None)
    return current.handler if current else None


def test_a_follow_up_naming_the_handler_moves_the_case_at_once(
        app: App, caplog: pytest.LogCaptureFixture) -> None:
    ref = take(app, CONDUCT)
    case, _, banned = case_of(app, ref)
    assert handler_of(case) == "zhangwei" and banned == set()
    mark = last_mail_id(app)
    secret = "張\u200b偉昨天又打电话威胁我，说我的病历会被公开"
    with caplog.at_level(logging.INFO):
        follow_up(app, ref, secret)
    case, events, banned = case_of(app, ref)
    assert banned == {"zhangwei"}
    assert handler_of(case) == "lina"
    excluded = [e for e in events if e.kind == "conflict_excluded"]
    assert excluded[-1].details["staff"] == "zhangwei"
    assert "later message" in excluded[-1].details["why"]
    moved = [e for e in events if e.kind == "assigned"][-1]
    assert moved.details["handler"] == "lina" and "conflict of interest" in moved.details["why"]
    assert mails_to(app, ZHANG, mark) == []
    # The new handler gets the case, and what the complainant wrote.
    assert sorted(m.kind for m in mails_to(app, LINA, mark)) == ["assignment",
                                                                  "complainant_wrote"]
    # No complainant text (nor the name as written) in the log.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "病历" not in logged and "威胁" not in logged and "偉" not in logged
    assert any("names 1 member" in r.getMessage() for r in caplog.records)

    # Later mail of the complainant and the sweep: nothing more reaches 张伟.
    follow_up(app, ref, "请尽快处理")
    with app.session_factory.begin() as session:  # overdue: reminders, escalation, digest
        assert app.desk is not None
        commitments.sweep(session, app.desk, NOW + timedelta(days=19))
        commitments.sweep(session, app.desk, NOW + timedelta(days=30))
    assert mails_to(app, ZHANG, mark) == []
    assert {m.kind for m in mails_to(app, LINA, mark)} >= {"handler_reminder"}


def test_naming_the_head_moves_the_supervision_up_and_tells_the_new_supervisor(
        app: App) -> None:
    ref = take(app, CONDUCT)
    mark = last_mail_id(app)
    follow_up(app, ref, "我已经向王 主 任反映过，没有用。")
    case, events, banned = case_of(app, ref)
    assert banned == {"wangfang"} and handler_of(case) == "zhangwei"  # the handler stays
    moved = next(e for e in events if e.kind == "supervision_moved")
    assert (moved.details["from"], moved.details["to"]) == ("wangfang", "sunli")
    (told,) = mails_to(app, SUN, mark)
    assert told.kind == "supervisor_escalation" and ref in told.subject
    # 张伟 asks for an extension: the request goes to the level up, not the named head.
    mark = last_mail_id(app)
    with app.session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        assert app.desk is not None
        actions.extend(Acting(session, app.desk, case, Actor("zhangwei", "handler"), NOW),
                       5, "需要调取录音")
    assert mails_to(app, WANG, mark) == []
    assert [m.kind for m in mails_to(app, SUN, mark)] == ["supervisor_escalation"]


def test_naming_every_handler_and_the_head_sends_the_case_a_level_up(app: App) -> None:
    ref = take(app, CONDUCT)
    mark = last_mail_id(app)
    follow_up(app, ref, "張偉、李娜和王芳都是一伙的")
    case, _, banned = case_of(app, ref)
    assert banned == {"zhangwei", "lina", "wangfang"}
    assert handler_of(case) == "sunli"
    assert {m.kind for m in mails_to(app, SUN, mark)} >= {"assignment", "complainant_wrote"}
    for address in (ZHANG, LINA, WANG):
        assert mails_to(app, address, mark) == []


def test_a_hotline_follow_up_row_is_checked_too(app: App, tmp_path: Path) -> None:
    ref = take(app, CONDUCT)
    mark = last_mail_id(app)
    folders = HotlineFolders.inside(tmp_path / "hotline")
    folders.ensure()
    importer = HotlineImporter(app.session_factory, app.raw_store, app.clock, app.pipeline,
                               folders, report_languages=("en",))
    path = write_log(folders.drop / "calls.csv", [call(
        来电时间="2025-12-02 08:30", 关联编号=ref, 电子邮箱="patient@example.cn",
        诉求内容="补充：那个接线员是张 伟")])
    report = importer.import_file(path)
    assert report is not None and report.follow_ups == 1
    case, _, banned = case_of(app, ref)
    assert banned == {"zhangwei"} and handler_of(case) == "lina"
    assert mails_to(app, ZHANG, mark) == []


def test_a_message_staff_type_in_for_the_complainant_is_checked_too(app: App) -> None:
    ref = take(app, CONDUCT)
    mark = last_mail_id(app)
    with app.session_factory.begin() as session:
        assert app.desk is not None
        opening = case_life.Opening(session, app.desk, Actor("wangfang", "supervisor", "cli"),
                                    NOW, app.pipeline, app.raw_store)
        case_life.open_case(opening, channel="letter", subject=f"{ref} 补充来信",
                            email="patient@example.cn",
                            text="来信补充：当天接电话的是Zhang  Wei。")
    case, events, banned = case_of(app, ref)
    assert banned == {"zhangwei"} and handler_of(case) == "lina"
    assert any(e.kind == "added_by_hand" for e in events)
    assert mails_to(app, ZHANG, mark) == []


def test_a_closed_case_records_the_exclusion_and_tells_the_supervisor(app: App) -> None:
    ref = take(app, CONDUCT)
    with app.session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        assert app.desk is not None
        case_life.withdraw(Acting(session, app.desk, case, Actor("zhangwei", "handler"), NOW),
                           "投诉人撤回")
    mark = last_mail_id(app)
    follow_up(app, ref, "其实张伟后来又骂了我")
    case, _, banned = case_of(app, ref)
    assert banned == {"zhangwei"} and handler_of(case) == "zhangwei"  # not reopened
    assert mails_to(app, ZHANG, mark) == []
    assert [m.kind for m in mails_to(app, WANG, mark)] == ["complainant_wrote"]


# -- every place that mails staff goes through the one check --------------------------


def _exclude_quietly(session: Session, case: Case, staff: str) -> None:
    """An exclusion recorded without moving the case (as an older version, or a direct
    database change, would leave it): the places below must still not mail the person."""
    session.add(CaseExclusion(case_id=case.id, case=case, staff=staff, reason="test",
                              recorded_at=NOW))
    session.flush()


Place = Callable[[App, Session, Case], None]


def _reminder(app: App, session: Session, case: Case) -> None:
    assert app.desk is not None and case.resolve_due is not None
    day = case.resolve_due - timedelta(days=1)
    commitments._remind(session, app.desk, case, day, NOW)


def _assignment(app: App, session: Session, case: Case) -> None:
    assert app.desk is not None
    notify_assignment(session, app.desk, case, "zhangwei", NOW)


def _material_complete(app: App, session: Session, case: Case) -> None:
    assert app.desk is not None
    request_material(session, app.desk, case, ["documents"], actor="test", now=NOW)
    material_arrived(session, app.desk, case, NOW)  # the handler's mail with the deadline


def _complainant_wrote(app: App, session: Session, case: Case) -> None:
    assert app.desk is not None
    case_life.complainant_wrote(session, app.desk, case, "又来信了", 0, "<x@example.cn>", NOW)


def _major(app: App, session: Session, case: Case) -> None:
    assert app.desk is not None
    case_life.flag_major(Acting(session, app.desk, case, Actor("lina", "delegate"), NOW),
                         "涉及多个部门")


def _sweep(app: App, session: Session, case: Case) -> None:
    assert app.desk is not None
    commitments.sweep(session, app.desk, NOW + timedelta(days=40))


PLACES: dict[str, tuple[Place, str]] = {
    # place: (what triggers mail, the excluded person who would otherwise get it)
    "reminder": (_reminder, "zhangwei"),
    "assignment": (_assignment, "zhangwei"),
    "material_complete": (_material_complete, "zhangwei"),
    "complainant_wrote": (_complainant_wrote, "zhangwei"),
    "major_matter": (_major, "wangfang"),
    "sweep": (_sweep, "zhangwei"),
    "sweep_supervisor": (_sweep, "wangfang"),
}


@pytest.mark.parametrize("place", list(PLACES))
def test_no_place_mails_an_excluded_person(app: App, place: str) -> None:
    trigger, person = PLACES[place]
    ref = take(app, CONDUCT)
    address = CONFIG.staff[person].email
    mark = last_mail_id(app)
    with app.session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        _exclude_quietly(session, case, person)
        trigger(app, session, case)
    assert mails_to(app, address, mark) == []
    with app.session_factory() as session:
        queued = list(session.scalars(select(OutboxMail).where(OutboxMail.id > mark)))
    # Someone else was told instead, or the timeline says who was not.
    _, events, _ = case_of(app, ref)
    withheld = [e for e in events if e.kind == "staff_notice_withheld"]
    assert queued or withheld
    assert all(e.details["staff"] == person for e in withheld)


def test_the_digest_leaves_out_a_case_that_names_the_supervisor(app: App) -> None:
    named = take(app, CONDUCT)
    other = take(app, "12月1日志愿者态度不耐烦", sender_email="b@example.cn")
    mark = last_mail_id(app)
    with app.session_factory.begin() as session:
        case = session.scalars(select(Case).where(Case.reference == named)).one()
        _exclude_quietly(session, case, "wangfang")
        assert app.desk is not None
        later = NOW + timedelta(days=20)
        commitments.send_digests(session, app.desk, later.date(), later.replace(hour=9))
    (digest,) = mails_to(app, WANG, mark)
    assert digest.kind == "supervisor_digest"
    assert other in text_of(digest) and named not in text_of(digest)
    (to_sun,) = mails_to(app, SUN, mark)
    assert named in text_of(to_sun) and other not in text_of(to_sun)


def text_of(mail: OutboxMail) -> str:
    msg = message_from_bytes(mail.raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_returning_handler_the_complaint_names_gets_no_hand_back(app: App) -> None:
    ref = take(app, CONDUCT)
    assert app.desk is not None
    away = CONFIG.staff["zhangwei"].model_copy(
        update={"away": [Away(start=date(2025, 12, 3), end=date(2025, 12, 5))]})
    desk = replace(app.desk, config=CONFIG.model_copy(
        update={"staff": {**CONFIG.staff, "zhangwei": away}}))
    with app.session_factory.begin() as session:
        commitments.sweep(session, desk, NOW + timedelta(days=1))  # away: the deputy covers
    case, _, _ = case_of(app, ref)
    assert handler_of(case) == "lina"
    follow_up(app, ref, "那个张伟我不想再和他打交道")
    mark = last_mail_id(app)
    with app.session_factory.begin() as session:
        commitments.sweep(session, desk, NOW + timedelta(days=6))  # back from leave
    case, events, _ = case_of(app, ref)
    assert handler_of(case) == "lina"
    assert not any(e.kind == "handed_back" for e in events)
    assert mails_to(app, ZHANG, mark) == []


# -- through the real servers ------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path, db_url: str, imap_account: Any, smtp_server: Any) -> Iterator[World]:
    w = World(tmp_path, db_url, imap_account, smtp_server)
    yield w
    w.app.close()


def test_a_reply_naming_the_handler_through_dovecot_and_smtp(world: World) -> None:
    world.send(complaint(CONDUCT))
    mails = world.round()
    assert len(to(mails, ZHANG)) == 1  # assigned to 张伟
    (ack, *_) = to(mails, "patient@example.cn")
    world.send(reply(ack, "patient@example.cn", "补充：接电话的就是張 偉，他还骂人。"))
    mails = world.round(days=0.1)
    assert to(mails, ZHANG) == []
    subjects = sorted(str(m["Subject"])[:5] for m in to(mails, LINA))
    assert subjects == ["投诉人来信", "新案件分派"]  # the case, and what the complainant wrote
    assert any("他还骂人" in body_of(m) for m in to(mails, LINA))
    # Reminders, the deadline, the escalation and the digests: none reaches 张伟.
    for days in (3, 12, 5, 1):
        assert to(world.round(days=days), ZHANG) == []
