"""Commands at the top of a staff reply, in Chinese or English (pure parsing, no database).

    #受理                      #accept
    #备注 文字                  #note text
    #补充材料 项目1；项目2       #request-material item1; item2
    #延期 天数 原因             #extend days reason
    #批准延期                   #approve-extension
    #转办 姓名                  #reassign name
    #移送 机关                  #refer authority
    #办结 结论 [违诺类别 姓名]    #resolve finding [violation-category name]
    #分类 类别                  #recategorise category   (supervisor: routing runs again)

Commands are the ``#`` lines before the first other line; the rest of the mail, cut before
the quoted original, becomes the note (and, for #办结, the outcome for the complainant).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NAMES: dict[str, str] = {
    "受理": "accept", "accept": "accept",
    "备注": "note", "note": "note",
    "补充材料": "request-material", "request-material": "request-material",
    "延期": "extend", "extend": "extend",
    "批准延期": "approve-extension", "approve-extension": "approve-extension",
    "转办": "reassign", "reassign": "reassign",
    "移送": "refer", "refer": "refer",
    "办结": "resolve", "resolve": "resolve",
    "分类": "recategorise", "recategorise": "recategorise",
}

_QUOTE_START = re.compile(
    r"^(>|On .+wrote:\s*$|在.+写道[:：]?\s*$|-{2,}\s*(Original Message|原始邮件)|"
    r"发件人[:：]|From:\s)", re.IGNORECASE)


class CommandError(ValueError):
    """A command line that cannot be understood; the message says which and why."""


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
    lines = unquoted(text).splitlines()
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
    name = NAMES.get(word.lower())
    if name is None:
        raise CommandError(f"unknown command {line.split()[0]!r}; known: "
                           + ", ".join(f"#{k}" for k in NAMES))
    return Command(name, args.strip(), line)


def _split_fullwidth(word: str, args: str) -> tuple[str, str]:
    # 「#延期　5天」 uses an ideographic space; 「#补充材料：身份证」 a full-width colon.
    for sep in ("\u3000", "：", ":"):
        if sep in word:
            head, _, tail = word.partition(sep)
            return head, f"{tail} {args}".strip()
    return word, args


def unquoted(text: str) -> str:
    """``text`` down to where the quoted original starts ("> …", "On … wrote:", "发件人：")."""
    kept = []
    for line in text.splitlines():
        if _QUOTE_START.match(line.strip()):
            break
        kept.append(line)
    return "\n".join(kept)


def split_items(args: str) -> list[str]:
    return [i.strip() for i in re.split(r"[；;、,，]", args) if i.strip()]


def parse_days(args: str) -> tuple[int, str]:
    found = re.match(r"\s*(\d{1,3})\s*(?:个?工作日|天|日|days?|working days?)?\s*(.*)", args,
                     re.IGNORECASE | re.DOTALL)
    if found is None:
        raise CommandError("#延期 needs a number of working days, then the reason")
    return int(found.group(1)), found.group(2).strip()
