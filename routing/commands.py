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
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from casework.quotes import strip_quoted
from routing import actions, case_life
from routing.actions import Acting

HANDLERS = frozenset({"handler", "delegate", "supervisor"})
SUPERVISORS = frozenset({"supervisor"})
# An action that creates a case has no case to hold a role on: any member of staff.
STAFF = frozenset({"staff"})


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


def read_date(text: str) -> tuple[date, str]:
    found = re.match(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(.*)",
                     text, re.DOTALL)
    try:
        if found is None:
            raise ValueError
        day = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        shown = text.split()[0] if text.split() else text
        raise CommandError(f"日期无效 / not a date (YYYY-MM-DD): {shown!r}") from None
    return day, found.group(4).strip()


YES = {"是", "同意", "有", "yes", "y", "true", "1"}
NO = {"否", "不同意", "无", "no", "n", "false", "0"}


def read_yes_no(text: str) -> tuple[bool, str]:
    word, rest = read_word(text)
    if word.lower() in YES:
        return True, rest
    if word.lower() in NO:
        return False, rest
    raise CommandError(f"请写 是/否 / yes or no, not {word!r}")


def read_source(text: str) -> tuple[str, str]:
    """电话/来信/来访 or call/letter/visit."""
    word, rest = read_word(text)
    words = {zh: en for en, zh in case_life.CONSENT_SOURCES.items()}
    return words.get(word, word.lower()), rest


def read_channel(text: str) -> tuple[str, str]:
    word, rest = read_word(text)
    words = {zh: en for en, zh in case_life.HAND_CHANNELS.items()}
    return words.get(word, word.lower()), rest


def read_number(text: str) -> tuple[int | None, str]:
    """An optional number first (a violation's id): absent, the whole text is the rest."""
    found = re.match(r"\s*(\d{1,9})(?:\s+|$)(.*)", text, re.DOTALL)
    if found is None:
        return None, text.strip()
    return int(found.group(1)), found.group(2).strip()


def read_lines(text: str) -> tuple[list[str], str]:
    """One value a line (a CLI option given several times)."""
    return [line.strip() for line in text.splitlines() if line.strip()], ""


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
    multiple: bool = False  # the CLI option may be given several times (one value a line)


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
    # The action makes a new case (``run(opening, **values)`` with a
    # ``routing.case_life.Opening``, no reference): not a mail command, since a staff
    # member's mail to the intake address is itself a case; the CLI and console only.
    creates_case: bool = False
    # What it writes to someone (a notice, a letter) is worth reading before it goes: the
    # console offers a preview, the same run rolled back (``web.preview``).
    previewed: bool = False

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
        "request-material", "补充材料", run=actions.ask_material, previewed=True,
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
        "refer", "移送", run=actions.refer_to, previewed=True,
        help_zh="移送有管辖权的行政机关", help_en="refer the case to an administrative authority",
        params=(Param("target", "机关", "authority"),)),
    StaffAction(
        "resolve", "办结", run=actions.resolve, previewed=True,
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
    # -- the whole life of a case (routing.case_life) ------------------------------------
    StaffAction(
        "open", "立案", run=case_life.open_case, roles=STAFF, cli_group="cases",
        creates_case=True,
        help_zh="登记来信、来访、媒体报道或电话投诉（确认与分派同邮件投诉）",
        help_en="open a case from a letter, visit, media report or call (acknowledged and "
                "routed like any other)",
        params=(
            Param("channel", "渠道：来信|来访|媒体报道|电话", "channel: letter|visit|media|phone",
                  read_channel, option=True),
            Param("name", "投诉人姓名", "complainant's name", required=False, option=True),
            Param("phone", "电话", "phone", read_word, required=False, option=True),
            Param("email", "邮箱", "email", read_word, required=False, option=True),
            Param("anonymous", "匿名（是/否）", "anonymous (yes/no)", read_yes_no,
                  required=False, option=True),
            Param("consent", "同意提供健康信息（是/否）",
                  "consents to sharing health data (yes/no)", read_yes_no, required=False,
                  option=True),
            Param("subject", "主题", "subject", required=False, option=True),
            Param("attachments", "附件文件", "attachment file", read_lines, required=False,
                  option=True, multiple=True),
            Param("text", "投诉内容", "the complaint's text", option=True, from_body=True))),
    StaffAction(
        "close", "关闭", run=case_life.close, cli_group="cases",
        help_zh="关闭已办结的案件并告知投诉人", help_en="close a resolved case; the complainant "
                                                "is told",
        params=(Param("reason", "原因", "reason"),)),
    StaffAction(
        "withdraw", "撤回", run=case_life.withdraw, cli_group="cases",
        help_zh="投诉人撤回投诉：结案并告知", help_en="the complainant withdrew: end the case and "
                                             "tell them",
        params=(Param("reason", "原因", "reason"),)),
    StaffAction(
        "reject", "不予受理", run=case_life.reject, cli_group="cases",
        help_zh="不属受理范围：写明原因（可告知应向何处反映），告知投诉人",
        help_en="out of scope: the reason (and where to go instead) is sent to the complainant",
        params=(Param("reason", "原因", "reason"),)),
    StaffAction(
        "spam", "垃圾信息", run=case_life.spam, cli_group="cases",
        help_zh="垃圾或骚扰信息：不予受理，不回复", help_en="spam or abuse: rejected, nobody is "
                                               "written to",
        params=(Param("reason", "原因", "reason"),)),
    StaffAction(
        "merge", "合并", run=case_life.merge, cli_group="cases",
        help_zh="将本案并入另一案件（重复投诉），两条时间线均保留",
        help_en="merge this case into another (a duplicate); both timelines are kept",
        params=(Param("target", "保留的案件编号", "reference of the case that goes on",
                      read_word),)),
    StaffAction(
        "relay", "转告", run=case_life.relay, previewed=True,
        help_zh="把行政机关的答复作为办理结果转告投诉人：正文可写改写后的内容（空则转告原文）",
        help_en="pass the authority's answer on to the complainant as the outcome; the text "
                "below, if any, replaces it (edited)",
        params=(Param("text", "转告内容（可空）", "the text to pass on (optional)",
                      required=False, option=True, from_body=True),)),
    StaffAction(
        "reply", "答复", run=case_life.interim_reply, previewed=True,
        help_zh="给投诉人发阶段性答复：正文为答复内容",
        help_en="send the complainant an interim reply; the text below is the reply",
        params=(Param("text", "答复内容", "the reply", option=True, from_body=True),)),
    StaffAction(
        "major", "重大", run=case_life.flag_major,
        help_zh="标记为重大疑难事项并报告主管（可预约服务或延期服务）",
        help_en="flag a major or difficult matter and report it to the supervisor",
        params=(Param("reason", "原因", "reason"),)),
    StaffAction(
        "appoint", "预约", run=case_life.appoint,
        help_zh="重大事项预约服务：日期和方式，告知投诉人",
        help_en="major matter: an appointment (date, how/where); the complainant is told",
        params=(Param("day", "日期(YYYY-MM-DD)", "date (YYYY-MM-DD)", read_date),
                Param("details", "时间地点或方式", "time and place, or how", required=False))),
    StaffAction(
        "defer", "延期服务", run=case_life.defer, roles=SUPERVISORS,
        help_zh="重大事项延期服务：新的办结日期和原因，告知投诉人",
        help_en="major matter: defer to a new date with a reason; the complainant is told",
        params=(Param("day", "新期限(YYYY-MM-DD)", "new date (YYYY-MM-DD)", read_date),
                Param("reason", "原因", "reason"))),
    StaffAction(
        "clear-flags", "清除标记", run=case_life.clear_flags,
        help_zh="已处理退信或回电：清除待处理标记并备注",
        help_en="a failed mail or call dealt with: clear the attention flags, with a note",
        params=(Param("note", "备注", "note"),)),
    StaffAction(
        "consent", "同意", run=case_life.record_consent,
        help_zh="记录投诉人是否单独同意提供健康信息（来自电话或来信）",
        help_en="record the complainant's separate consent to sharing health data (call or "
                "letter)",
        params=(Param("given", "是|否", "yes|no", read_yes_no),
                Param("source", "电话|来信|来访", "call|letter|visit", read_source),
                Param("note", "备注", "note", required=False))),
    StaffAction(
        "sanction-applied", "处分落实", run=case_life.sanction_applied, roles=SUPERVISORS,
        cli_group="violations",
        help_zh="违诺处理已落实（批评教育、赔礼道歉、效能告诫）",
        help_en="a violation's sanction was applied (criticism, apology, efficiency warning)",
        params=(Param("violation", "违诺编号", "violation number", read_number,
                      required=False, option=True),
                Param("note", "说明", "note"))),
    StaffAction(
        "compensation-paid", "赔偿到位", run=case_life.compensation_paid, roles=SUPERVISORS,
        cli_group="violations",
        help_zh="违诺赔偿已支付", help_en="a violation's compensation was paid",
        params=(Param("violation", "违诺编号", "violation number", read_number,
                      required=False, option=True),
                Param("note", "说明", "note"))),
)


def by_word() -> dict[str, StaffAction]:
    """Each command word (Chinese, English, aliases; lower case) → its action."""
    words: dict[str, StaffAction] = {}
    for action in ACTIONS:
        if action.creates_case:
            continue  # no mail command: a staff member's mail to intake is itself a case
        for word in (action.word_zh, action.name, *action.aliases):
            words[word.lower()] = action
    return words


def action_named(name: str) -> StaffAction:
    return next(a for a in ACTIONS if a.name == name)


def help_lines() -> list[str]:
    """The commands a reply to a staff mail may carry (assignment, reminder mails).

    Made once per table: every assignment mail carries them, and building each line
    again cost a tenth of queueing that mail. Keyed by the table itself, so a table
    replaced (a test's toy action) gets its own lines."""
    table, lines = _HELP_LINES
    if table is not ACTIONS:
        lines = tuple(action.help_line() for action in ACTIONS if not action.creates_case)
        _HELP_LINES[:] = [ACTIONS, lines]
    return list(lines)


_HELP_LINES: list[Any] = [None, ()]


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
