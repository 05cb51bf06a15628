"""Commands at the top of a staff reply: Chinese and English, the rest is the note."""

from __future__ import annotations

import pytest

from routing.commands import CommandError, parse_days, parse_reply, parse_resolve, split_items


def test_commands_then_note_and_the_quote_is_cut() -> None:
    reply = parse_reply("#受理\n#extend 5 waiting for the recording\n\n已联系当事人。\n"
                        "On Tue, 2 Dec 2025 someone wrote:\n> #办结 属实")
    assert [(c.name, c.args) for c in reply.commands] == [
        ("accept", ""), ("extend", "5 waiting for the recording")]
    assert reply.body == "已联系当事人。"


def test_full_width_marks_and_separators() -> None:
    reply = parse_reply("＃补充材料：身份证复印件；病历、收据\n")
    (command,) = reply.commands
    assert command.name == "request-material"
    assert split_items(command.args) == ["身份证复印件", "病历", "收据"]


def test_commands_only_count_at_the_top() -> None:
    reply = parse_reply("谢谢\n#办结 属实")
    assert reply.commands == [] and reply.body == "谢谢\n#办结 属实"


def test_unknown_command_is_an_error_naming_it() -> None:
    with pytest.raises(CommandError, match="#归档"):  # (#关闭 is a command now: close)
        parse_reply("#归档")


@pytest.mark.parametrize(("args", "days", "reason"), [
    ("5 需要调取录音", 5, "需要调取录音"), ("10个工作日 等待医院答复", 10, "等待医院答复"),
    ("3 days waiting", 3, "waiting"),
])
def test_extension_days_and_reason(args: str, days: int, reason: str) -> None:
    assert parse_days(args) == (days, reason)


def test_extension_without_days_is_refused() -> None:
    with pytest.raises(CommandError):
        parse_days("过几天")


def test_resolve_finding_and_violation() -> None:
    assert parse_resolve("部分属实") == ("部分属实", None)
    assert parse_resolve("属实 rudeness 张伟") == ("属实", ("rudeness", "张伟"))
    with pytest.raises(CommandError):
        parse_resolve("")
