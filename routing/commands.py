"""Every staff action, declared once: its command words, help, who may use it, its values
and the function that does it. The mail parser, the help in staff mail, the CLI twins
(``complaintd handle …``) and the web console are all driven from ``ACTIONS``; adding an
action is one entry here and one function.

In a staff reply, commands are the ``#`` lines before the first other line, in Chinese or
English (``#延期 5 等待录音`` = ``#extend 5 waiting for the recording``); the rest of the
mail, cut before the quoted original, becomes the note (and, for an action that takes the
body, e.g. #办结, the outcome for the complainant).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from casework.quotes import strip_quoted
from routing import actions
from routing.actions import Acting

HANDLERS = frozenset({"handler", "delegate", "supervisor"})
SUPERVISORS = frozenset({"supervisor"})


class CommandError(ValueError):
    """A command line that cannot be understood; the message says which and why."""


# -- how a value is read from text (a mail command's arguments, a CLI argument) ----------

Reader = Callable[[str], tuple[Any, str]]
"""Reads one value from the front of the text: (value, the rest of the text)."""


def read_word(text: str) -> tuple[str, str]:
    word, _, rest = text.strip().partition(" ")
    return word.strip(), rest.strip()


def read_text(text: str) -> tuple[str, str]:
    return text.strip(), ""


def split_items(args: str) -> list[str]:
    return [i.strip() for i in re.split(r"[；;、,，]", args) if i.strip()]


def read_items(text: str) -> tuple[list[str], str]:
    return split_items(text), ""


def parse_days(args: str) -> tuple[int, str]:
    found = re.match(r"\s*(\d{1,3})\s*(?:个?工作日|天|日|days?|working days?)?\s*(.*)", args,
                     re.IGNORECASE | re.DOTALL)
    if found is None:
        raise CommandError("#延期 needs a number of working days, then the reason")
    return int(found.group(1)), found.group(2).strip()


def read_money(text: str) -> tuple[Decimal, str]:
    word, rest = read_word(text)
    try:
        return Decimal(word), rest
    except InvalidOperation:
        raise CommandError(f"金额无效 / not an amount: {word!r}") from None


@dataclass(frozen=True)
class Param:
    """One value an action takes.

    ``read`` takes it from the command's arguments; ``from_body``: it is the mail's text
    below the commands instead (in the CLI and the console, a text field). ``option``:
    the CLI asks for it as ``--name``; ``by_mail=False``: only the CLI and console give it.
    """

    name: str
    label_zh: str
    label_en: str
    read: Reader = read_text
    required: bool = True
    option: bool = False
    from_body: bool = False
    by_mail: bool = True


@dataclass(frozen=True)
class StaffAction:
    name: str  # the English command word, and the CLI's subcommand
    word_zh: str
    run: Callable[..., object]  # run(acting, **values)
    help_zh: str
    help_en: str
    params: tuple[Param, ...] = ()
    roles: frozenset[str] = HANDLERS
    cli_group: str = "handle"  # "cases" for what reads as a change to the case itself
    aliases: tuple[str, ...] = field(default=())

    @property
    def uses_body(self) -> bool:
        return any(p.from_body for p in self.params)

    def values_from_mail(self, args: str, body: str) -> dict[str, Any]:
        """The action's values from a command line's arguments and the mail's body."""
        values: dict[str, Any] = {}
        rest = args
        for param in self.params:
            if param.from_body:
                values[param.name] = body
            elif param.by_mail:
                if rest.strip():
                    values[param.name], rest = param.read(rest)
                elif param.required:
                    raise CommandError(f"#{self.word_zh} 缺少{param.label_zh} / "
                                       f"#{self.name} needs {param.label_en}")
        return values

    def values_from_text(self, given: Mapping[str, str | None]) -> dict[str, Any]:
        """The action's values from one text each (CLI arguments, a console form)."""
        values: dict[str, Any] = {}
        for param in self.params:
            text = given.get(param.name)
            if text is None or not text.strip():
                if param.required:
                    raise CommandError(f"缺少{param.label_zh} / {param.label_en} is needed")
                continue
            values[param.name] = text if param.from_body else param.read(text)[0]
        return values

    def may(self, role: str) -> bool:
        return role in self.roles

    def help_line(self) -> str:
        zh = " ".join(_shown(p, p.label_zh) for p in self.params if p.by_mail and not p.from_body)
        en = " ".join(_shown(p, p.label_en) for p in self.params if p.by_mail and not p.from_body)
        line = f"#{self.word_zh} {zh}".rstrip() + " / " + f"#{self.name} {en}".rstrip()
        body = next((p for p in self.params if p.from_body), None)
        if body is not None:
            line += f"  ({body.label_zh}：指令下方的正文 / {body.label_en}: the rest of the mail)"
        if self.roles == SUPERVISORS:
            line += "  (主管 / supervisor)"
        return line


def _shown(param: Param, label: str) -> str:
    return label if param.required else f"[{label}]"


ACTIONS: tuple[StaffAction, ...] = (
    StaffAction(
        "accept", "受理", run=actions.accept,
        help_zh="受理本案，开始调查", help_en="accept the case and start the investigation"),
    StaffAction(
        "note", "备注", run=actions.note,
        help_zh="在时间线上记一笔", help_en="add a note to the timeline",
        params=(Param("text", "文字", "text", required=False),)),
    StaffAction(
        "request-material", "补充材料", run=actions.ask_material,
        help_zh="一次列出所有缺少的材料，请投诉人补充",
        help_en="ask the complainant for all missing material in one notice",
        params=(Param("items", "项目1；项目2", "item1; item2", read_items),)),
    StaffAction(
        "extend", "延期", run=actions.extend,
        help_zh="申请本案唯一一次延期（主管批准）",
        help_en="ask for the case's one extension (the supervisor approves)",
        params=(Param("days", "天数", "days", parse_days), Param("reason", "原因", "reason"))),
    StaffAction(
        "approve-extension", "批准延期", run=actions.approve, roles=SUPERVISORS,
        help_zh="批准承办人的延期申请", help_en="approve the extension the handler asked for"),
    StaffAction(
        "reassign", "转办", run=actions.reassign,
        help_zh="交给另一位工作人员承办", help_en="hand the case to someone else",
        params=(Param("target", "姓名", "name"),)),
    StaffAction(
        "refer", "移送", run=actions.refer_to,
        help_zh="移送有管辖权的行政机关", help_en="refer the case to an administrative authority",
        params=(Param("target", "机关", "authority"),)),
    StaffAction(
        "resolve", "办结", run=actions.resolve,
        help_zh="办结：写明结论，正文为告知投诉人的办理结果",
        help_en="resolve with a finding; the text below is the outcome for the complainant",
        params=(
            Param("finding", "属实|部分属实|不属实", "substantiated|partly|not", read_word),
            Param("violation", "违诺类别", "violation-category", read_word, required=False,
                  option=True),
            Param("staff", "姓名", "name", required=False, option=True),
            Param("outcome", "办理结果", "the outcome", option=True, from_body=True),
            Param("compensation", "赔偿金额（元）", "compensation owed (CNY)", read_money,
                  required=False, option=True, by_mail=False))),
    StaffAction(
        "recategorise", "分类", run=actions.recategorise, roles=SUPERVISORS, cli_group="cases",
        help_zh="重新分类并重新分派（路由重新运行）", help_en="recategorise: routing runs again",
        params=(Param("category", "类别", "category", read_word),)),
)


def by_word() -> dict[str, StaffAction]:
    """Each command word (Chinese, English, aliases; lower case) → its action."""
    words: dict[str, StaffAction] = {}
    for action in ACTIONS:
        for word in (action.word_zh, action.name, *action.aliases):
            words[word.lower()] = action
    return words


def action_named(name: str) -> StaffAction:
    return next(a for a in ACTIONS if a.name == name)


def help_lines() -> list[str]:
    """The commands a reply to a staff mail may carry (assignment, reminder mails)."""
    return [action.help_line() for action in ACTIONS]


def run(action: StaffAction, acting: Acting, values: Mapping[str, Any]) -> object:
    return action.run(acting, **values)


# -- reading a staff reply ----------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    line: str


@dataclass(frozen=True)
class StaffReply:
    commands: list[Command] = field(default_factory=list)
    body: str = ""


def parse_reply(text: str) -> StaffReply:
    lines = strip_quoted(text).splitlines()
    commands: list[Command] = []
    index = 0
    for index, raw in enumerate(lines):  # noqa: B007 - index is used after the loop
        line = raw.strip()
        if not line:
            continue
        if not line.startswith(("#", "＃")):
            break
        commands.append(parse_command(line))
    else:
        index = len(lines)
    return StaffReply(commands, "\n".join(lines[index:]).strip())


def parse_command(line: str) -> Command:
    word, _, args = line.lstrip("#＃").strip().partition(" ")
    word, args = _split_fullwidth(word, args)
    action = by_word().get(word.lower())
    if action is None:
        raise CommandError(f"unknown command {line.split()[0]!r}; known: "
                           + ", ".join(f"#{k}" for k in by_word()))
    return Command(action.name, args.strip(), line)


def _split_fullwidth(word: str, args: str) -> tuple[str, str]:
    # 「#延期　5天」 uses an ideographic space; 「#补充材料：身份证」 a full-width colon.
    for sep in ("\u3000", "：", ":"):
        if sep in word:
            head, _, tail = word.partition(sep)
            return head, f"{tail} {args}".strip()
    return word, args


def parse_resolve(args: str) -> tuple[str, tuple[str, str] | None]:
    """#办结's arguments: the finding, then optionally the violation category and a name."""
    values = action_named("resolve").values_from_mail(args, "")
    if not values.get("finding"):
        raise CommandError("#办结 needs a finding: 属实, 部分属实 or 不属实")
    if "violation" not in values:
        return values["finding"], None
    return values["finding"], (values["violation"], values.get("staff", ""))
