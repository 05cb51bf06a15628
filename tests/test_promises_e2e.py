"""What the service says must be true (issue 13), through the real daemon.

Dovecot, aiosmtpd, SQLite and PostgreSQL, a FixedClock (``tests.test_investigation_e2e``'s
``World``): the unit of every stated limit, a date promised only once the clock runs, an
authority's delay kept apart from our own lateness, and the policy numbers read from the
routing file, which the daemon reads again when it changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from casework import queries
from casework.models import Case, Violation
from casework.status import CaseStatus
from complaintd.cli.main import main
from complaintd.settings import ConfigError, load_settings
from notifications.renderer import zh_date
from tests.test_investigation_e2e import (
    HEALTH,
    SUN,
    WANG,
    ZHANG,
    World,
    _with_attachment,
    body_of,
    complaint,
    reply,
    to,
)

PATIENT = "patient@example.cn"
OTHER = "other@example.cn"
RECEIVED = date(2025, 12, 2)


@pytest.fixture
def world(tmp_path: Path, db_url: str, imap_account: Any, smtp_server: Any) -> Iterator[World]:
    w = World(tmp_path, db_url, imap_account, smtp_server)
    yield w
    w.app.close()


def test_calendar_and_working_day_limits_are_announced_in_their_own_unit(world: World) -> None:
    world.send(complaint("11月30日我在某医院看病，医生误诊还乱收费。", sender=PATIENT))
    world.send(complaint("12月1日接线员态度很差，还骂人。", sender=OTHER))
    mails = world.round()
    cal = world.app.calendar
    calendar_due = cal.add_calendar_days(RECEIVED, 30)
    working_due = cal.add_working_days(RECEIVED, 15)
    assert calendar_due != cal.add_working_days(RECEIVED, 30)  # the unit matters here

    (ack,) = to(mails, PATIENT, contains="已受理")
    text = body_of(ack)
    assert f"30个自然日，不晚于{zh_date(calendar_due)}办结（按自然日计算" in text
    assert "30个工作日" not in text
    (referred,) = to(mails, PATIENT, contains="卫生健康委员会")
    # The authority's answer date is counted in its own (working) days, and says so.
    answer_due = cal.add_working_days(RECEIVED, 15)
    assert f"预计不晚于{zh_date(answer_due)}，即报告后15个工作日" in body_of(referred)
    (letter,) = to(mails, HEALTH)
    assert f"{zh_date(answer_due)}（报告后15个工作日" in body_of(letter)

    (other_ack,) = to(mails, OTHER, contains="已受理")
    assert f"15个工作日，不晚于{zh_date(working_due)}办结（按工作日计算" in body_of(other_ack)
    internal = world.rows(Case)[1]
    (assignment,) = [m for m in mails if internal.reference in str(m["Subject"])
                     and "oasis.example.org" in str(m["To"])]
    assert f"办结期限：{zh_date(working_due)}（15个工作日" in body_of(assignment)


def test_a_case_missing_material_is_promised_its_date_when_the_clock_starts(
        world: World) -> None:
    world.send(complaint("我申请的援助一直没有人审核，拖延太久了。", sender=PATIENT))
    mails = world.round()
    (ack,) = to(mails, PATIENT, contains="已受理")
    text = body_of(ack)
    # Clause 四(四): no completion date while material is missing, only the limit.
    assert "20个工作日，自材料齐全之日起计算" in text and "不晚于" not in text
    (notice,) = to(mails, PATIENT, contains="事件发生的日期")
    assert "20个工作日内办结（自材料齐全之日起计算" in body_of(notice)
    # The handler is not shown a deadline that does not run yet either.
    (assignment,) = to(mails, "chen.jing@oasis.example.org")
    assert "办结期限：待材料齐全后起算（20个工作日" in body_of(assignment)

    world.send(_with_attachment(reply(notice, PATIENT,
                                      "我是11月20日提交的药品援助项目申请，收据见附件。")))
    mails = world.round(days=2)
    case = world.case()
    assert case.status is CaseStatus.ROUTED
    complete_on = date(2025, 12, 4)
    due = world.app.calendar.add_working_days(complete_on, 20)
    assert case.resolve_due == due
    (started,) = to(mails, PATIENT, contains="办结期限已起算")
    assert case.reference in str(started["Subject"])
    body = body_of(started)
    assert f"材料齐全日期：{zh_date(complete_on)}" in body
    assert f"20个工作日，不晚于{zh_date(due)}办结（按工作日计算" in body
    clock = next(e for e in case.events if e.kind == "clock_started")
    assert clock.details == {"resolve_due": due.isoformat(), "days": 20, "kind": "working"}


def test_an_authority_delay_is_followed_up_and_is_no_violation_of_ours(
        world: World, tmp_path: Path) -> None:
    world.send(complaint("11月30日我在某医院看病，医生误诊还乱收费。", sender=PATIENT))
    world.send(complaint("12月1日接线员态度很差，还骂人。", sender=OTHER))
    world.round()
    referred = world.case()
    assert referred.status is CaseStatus.REFERRED
    internal = world.rows(Case)[1]

    # 25 December: the authority's answer date (23 December) has passed.
    mails = world.round(days=23)
    (follow_up,) = to(mails, HEALTH)
    assert "函复期限已过" in body_of(follow_up)
    assert any(e.kind == "overdue_by_authority" for e in world.case().events)

    # 9 January: the referred case is past its own (calendar-day) deadline too, and the
    # internal one past its working-day deadline.
    mails = world.round(days=15)
    assert referred.resolve_due is not None and referred.resolve_due < date(2026, 1, 9)
    violations = world.rows(Violation)
    # Our own lateness is recorded; the authority's is not.
    assert [v.case_id for v in violations] == [internal.id]
    assert (violations[0].category, violations[0].clause) == ("missed_deadline", "七(二)")
    # Nor is the supervisor asked to act on the authority's delay as if it were ours.
    assert not [m for m in mails if str(m["Subject"]).startswith("案件升级")
                and referred.reference in str(m["Subject"])]
    assert not any(e.kind == "escalated" for e in world.case(referred.reference).events)
    (missed,) = [e for e in world.case(referred.reference).events if e.kind == "deadline_missed"]
    assert missed.details["held_by_authority"] is True
    (ours,) = [e for e in world.case(internal.reference).events if e.kind == "deadline_missed"]
    assert ours.details["held_by_authority"] is False
    assert any(e.kind == "escalated" for e in world.case(internal.reference).events)
    with world.app.session_factory() as session:
        late = queries.overdue_by_authority(session, today=date(2026, 1, 9))
        listed = queries.list_cases(session, authority_overdue_on=date(2026, 1, 9))
    assert late == {referred.id}
    assert [c.reference for c in listed] == [referred.reference]

    result = CliRunner().invoke(main, ["--config", str(tmp_path / "complaintd.toml"),
                                       "--lang", "en", "cases", "list", "--authority-overdue"])
    assert result.exit_code == 0, result.output
    assert referred.reference in result.output and internal.reference not in result.output
    # The mark (a narrow terminal wraps it inside the cell).
    assert all(word in result.output for word in ("overdue", "by the", "authorit"))


def test_policy_numbers_come_from_the_routing_file_read_again_when_it_changes(
        world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rules = tmp_path / "routing.toml"
    world.send(complaint("12月1日接线员态度很差，还骂人。", sender=PATIENT))
    world.round()
    assert world.case().assignments[-1].handler == "zhangwei"

    # The board shortens extensions; 李娜 (who has no case) is away from today.
    text = rules.read_text(encoding="utf-8")
    text = text.replace("extensions = { count = 1, max_days = 60 }",
                        "extensions = { count = 1, max_days = 3 }")
    text = text.replace("[staff.lina]\n",
                        "[staff.lina]\naway = [{ start = 2025-12-02, end = 2025-12-31 }]\n")
    rules.write_text(text, encoding="utf-8")
    world.send(complaint("12月2日志愿者态度不耐烦。", sender=OTHER))
    mails = world.round(days=0.1)
    second = world.case(world.rows(Case)[1].reference)
    assert second.assignments[-1].handler == "zhangwei"  # not 李娜: her absence was read
    (assignment,) = to(mails, ZHANG, contains=second.reference)
    world.send(reply(assignment, ZHANG, "#受理\n#延期 5 需要调取录音"))
    world.round(days=0.1)
    refusals = [e.details["why"] for e in world.case(second.reference).events
                if e.kind == "command_refused"]
    assert refusals and "1–3" in refusals[0]

    # A bad edit is an ERROR naming the key, and the rules in use stay.
    rules.write_text(text.replace("due_soon_working_days = 3", "due_soon_working_days = -1"),
                     encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="complaintd.routing"):
        world.round(days=0.1)
    assert any("clock.due_soon_working_days" in r.getMessage() for r in caplog.records)
    assert world.app.desk is not None
    assert world.app.desk.config.clock.extensions.max_days == 3
    assert world.app.desk.config.clock.due_soon_working_days == 3


@pytest.mark.parametrize(("line", "key"), [
    ("due_soon_working_days = -1", "clock.due_soon_working_days"),
    ("escalate_after_working_days = 99", "clock.escalate_after_working_days"),
    ("extensions = { count = 1, max_days = 0 }", "clock.extensions.max_days"),
    ("default_limits = { resolve = { days = 0 } }", "clock.default_limits.resolve.days"),
])
def test_a_bad_policy_number_stops_start_up_naming_its_key(tmp_path: Path, line: str,
                                                          key: str) -> None:
    source = Path(__file__).resolve().parents[1] / "config" / "routing.toml"
    text = source.read_text(encoding="utf-8").replace("[clock]\n", f"[clock]\n{line}\n", 1)
    name = line.split(" = ")[0]
    # The file's own line for the key is dropped, so the bad one is the only one.
    kept = [x for x in text.splitlines() if not x.startswith(f"{name} = ") or x == line]
    (tmp_path / "routing.toml").write_text("\n".join(kept) + "\n", encoding="utf-8")
    config = tmp_path / "complaintd.toml"
    config.write_text('[routing]\nrules_file = "routing.toml"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(config)


def test_a_category_without_limits_takes_the_configured_default(tmp_path: Path) -> None:
    from routing.directory import load_routing

    source = Path(__file__).resolve().parents[1] / "config" / "routing.toml"
    text = source.read_text(encoding="utf-8").replace(
        "default_limits = { acknowledge = { days = 1 }, route = { days = 2 }, "
        "resolve = { days = 15 } }",
        'default_limits = { resolve = { days = 10, kind = "calendar" } }')
    text = text.replace("limits = { acknowledge = { days = 1 }, route = { days = 1 }, "
                        "resolve = { days = 10 } }", "")
    (tmp_path / "routing.toml").write_text(text, encoding="utf-8")
    config = load_routing(tmp_path / "routing.toml")
    assert config.categories["privacy"].limits.resolve.days == 10
    assert config.categories["privacy"].limits.resolve.kind == "calendar"
    assert config.clock.default_limits.acknowledge.days == 1
    # A category that names its own limit keeps it.
    assert config.categories["staff_conduct"].limits.resolve.days == 15
    assert config.categories["staff_conduct"].limits.resolve.kind == "working"


def test_the_supervisor_is_told_the_configured_working_days_after_a_missed_deadline(
        world: World, tmp_path: Path) -> None:
    rules = tmp_path / "routing.toml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        "escalate_after_working_days = 0", "escalate_after_working_days = 2"), encoding="utf-8")
    world.send(complaint("12月1日接线员态度很差，还骂人。", sender=PATIENT))
    world.round()
    case = world.case()
    assert case.resolve_due == date(2025, 12, 23)
    # Wednesday 24 December: late by one working day. The violation is recorded that day;
    # the supervisor is not yet asked to act.
    mails = world.round(days=22)
    (violation,) = world.rows(Violation)
    assert violation.category == "missed_deadline"
    assert not [m for m in to(mails, WANG) if str(m["Subject"]).startswith("案件升级")]
    # Thursday 25 December: two working days late: escalated, once, with the limit's unit.
    mails = world.round(days=1)
    (escalation,) = [m for m in to(mails, WANG) if str(m["Subject"]).startswith("案件升级")]
    assert "已逾期2天（自然日）" in body_of(escalation)
    assert f"办结期限：{zh_date(date(2025, 12, 23))}（15个工作日" in body_of(escalation)
    assert len(world.rows(Violation)) == 1


def test_every_mail_about_a_calendar_day_case_names_calendar_days(world: World) -> None:
    world.send(complaint("11月30日我在某医院看病，医生误诊还乱收费。", sender=PATIENT))
    mails = world.round()
    case = world.case()
    due = world.app.calendar.add_calendar_days(RECEIVED, 30)
    (assignment,) = to(mails, ZHANG)
    assert f"办结期限：{zh_date(due)}（30个自然日" in body_of(assignment)
    # The extension request goes to the supervisor with the case's own unit too.
    world.send(reply(assignment, ZHANG, "#延期 5 需要等待卫健委调取病历"))
    mails = world.round(days=0.1)
    (request,) = to(mails, WANG, contains=case.reference)
    assert f"{zh_date(due)}（30个自然日" in body_of(request)
    assert "30个工作日" not in body_of(request)


def test_a_recategorised_case_is_counted_in_its_new_category_and_told_so(
        world: World) -> None:
    world.send(complaint("我想反映一件事，请尽快联系我。", sender=PATIENT))
    mails = world.round()
    case = world.case()
    assert case.category is None  # the triage queue: the configured default limit
    assert case.resolve_due == world.app.calendar.add_working_days(RECEIVED, 15)
    (ack,) = to(mails, PATIENT, contains="已受理")
    assert f"15个工作日，不晚于{zh_date(case.resolve_due)}办结" in body_of(ack)
    (triage,) = to(mails, SUN, contains=case.reference)
    # The triage supervisor finds it is about the charity's accounts (30 calendar days).
    world.send(reply(triage, SUN, "#分类 fundraising"))
    mails = world.round(days=0.1)
    case = world.case()
    due = world.app.calendar.add_calendar_days(RECEIVED, 30)
    assert case.category == "fundraising" and case.resolve_due == due
    # The new handler is given the new date in its own unit.
    found = [m for m in mails if "以下案件已分派给您" in body_of(m)]
    assert len(found) == 1, [(str(m["To"]), str(m["Subject"])) for m in mails]
    assert f"办结期限：{zh_date(due)}（30个自然日" in body_of(found[0])
