"""A staff action declared in the table alone works by mail and by CLI, with its help."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casework.clock import SHANGHAI, FixedClock
from casework.models import Case
from casework.transitions import record
from complaintd.app import App
from complaintd.settings import load_settings
from notifications.models import OutboxMail
from routing import commands
from routing.actions import Acting
from routing.commands import Param, StaffAction
from tests.test_commands_cli import cli, setup


def flag(act: Acting, reason: str) -> None:
    """The toy action: ask for the supervisor's attention, with a reason."""
    act.case.needs_attention = True
    record(act.case, "flagged", actor=act.actor.label, at=act.now, details={"reason": reason})


TOY = StaffAction("flag", "标记", run=flag, help_zh="请主管关注", help_en="flag for the supervisor",
                  params=(Param("reason", "原因", "reason"),))


@pytest.fixture(autouse=True)
def toy_action(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands, "ACTIONS", (*commands.ACTIONS, TOY))


def _case(config: Path) -> Case:
    app = App.build(load_settings(config))
    with app.session_factory() as session:
        case = session.scalars(select(Case).options(selectinload(Case.events))).one()
        session.expunge(case)
    app.close()
    return case


def _assignment(config: Path) -> OutboxMail:
    app = App.build(load_settings(config))
    with app.session_factory() as session:
        mail = session.scalars(select(OutboxMail).where(OutboxMail.kind == "assignment")).one()
        session.expunge(mail)
    app.close()
    return mail


def test_toy_action_by_mail(tmp_path: Path, db_url: str) -> None:
    config, ref = setup(tmp_path, db_url)
    assignment = _assignment(config)
    # The assignment mail's list of commands comes from the table: the toy is in it.
    assert "#标记 原因 / #flag reason" in _text(assignment)
    reply = EmailMessage()
    reply["From"] = assignment.recipient
    reply["Subject"] = f"Re: {assignment.subject}"
    reply["Message-ID"] = "<flag-1@oasis.example.org>"
    reply["In-Reply-To"] = assignment.message_id
    reply.set_content("#标记 投诉人情绪激动\n\n> 原邮件", charset="utf-8")
    (tmp_path / "mail" / "new" / "2.M2.host").write_bytes(bytes(reply))
    app = App.build(load_settings(config),
                    FixedClock(datetime(2025, 12, 2, 10, tzinfo=SHANGHAI)))
    app.run_once()
    app.close()
    case = _case(config)
    (event,) = [e for e in case.events if e.kind == "flagged"]
    assert event.details == {"reason": "投诉人情绪激动"} and event.actor.startswith("staff:")
    assert case.needs_attention and case.reference == ref


def test_toy_action_by_cli_with_the_same_rules(tmp_path: Path, db_url: str) -> None:
    config, ref = setup(tmp_path, db_url)
    assert "flag" in cli(config, "handle", "--help").output
    refused = cli(config, "handle", "flag", ref, "不是承办人", "--as", "陈静", code=2)
    assert "not the handler, deputy or supervisor" in refused.output
    cli(config, "handle", "flag", ref, "需要主管关注", "--as", "张伟")
    (event,) = [e for e in _case(config).events if e.kind == "flagged"]
    assert event.details == {"reason": "需要主管关注"} and event.actor == "cli:zhangwei"


def _text(mail: OutboxMail) -> str:
    from email import message_from_bytes, policy

    parsed = message_from_bytes(mail.raw, policy=policy.default)
    body = parsed.get_body(("plain",))  # type: ignore[attr-defined]
    return str(body.get_content()) if body is not None else ""
