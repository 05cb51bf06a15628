"""A form for each staff action, made from its declared values (``StaffAction.params``).

Nothing here names an action: the kind of field follows from how a value is read
(``Param.read``) and from its labels. A label pair listing choices ("属实|部分属实|不属实" /
"substantiated|partly|not") becomes a choice; a date reader a date field; a value taken
from a mail's body (or given one a line) a text area; the rest a line of text. What the
form sends is read back by the same ``StaffAction.values_from_text`` the CLI uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import FormData

from routing import commands
from routing.commands import Param, StaffAction


@dataclass(frozen=True)
class Choice:
    value: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Field:
    name: str
    label_zh: str
    label_en: str
    # "text", "textarea", "select", "date", "number", "decimal", "file", or "items" (a list:
    # a text area, and on a case page the checklist of its category's required material)
    kind: str
    required: bool
    choices: tuple[Choice, ...] = ()


def _choices(param: Param) -> tuple[Choice, ...]:
    """The choices a label pair lists, after an optional "渠道：" / "channel: " lead."""
    zh = param.label_zh.split("：", 1)[-1]
    en = param.label_en.split(": ", 1)[-1]
    zh_items, en_items = zh.split("|"), en.split("|")
    if len(zh_items) < 2 or len(zh_items) != len(en_items):
        return ()
    return tuple(Choice(e.strip(), z.strip(), e.strip()) for z, e in zip(zh_items, en_items,
                                                                          strict=True))


def _kind(param: Param) -> str:
    if param.read is commands.read_date:
        return "date"
    if param.read is commands.parse_days or param.read is commands.read_number:
        return "number"
    if param.read is commands.read_money:
        return "decimal"
    if param.read is commands.read_items:
        return "items"
    if param.from_body or param.multiple:
        return "textarea"
    return "text"


def field_of(param: Param) -> Field:
    choices = _choices(param)
    if param.read is commands.read_yes_no and not choices:
        choices = (Choice("yes", "是", "yes"), Choice("no", "否", "no"))
    label_zh = param.label_zh.split("：", 1)[0] if choices else param.label_zh
    label_en = param.label_en.split(": ", 1)[0] if choices else param.label_en
    return Field(param.name, label_zh, label_en, "select" if choices else _kind(param),
                 param.required, choices)


@dataclass(frozen=True)
class ActionForm:
    action: StaffAction
    fields: tuple[Field, ...]


def form_of(action: StaffAction, *, uploads: bool = False) -> ActionForm:
    """The form of ``action``. A value given one a line that names files on the server (the
    CLI's ``--attachments``) is a file upload in the console (``uploads``) or left out."""
    fields = []
    for param in action.params:
        if param.multiple:
            if uploads:
                fields.append(Field(param.name, param.label_zh, param.label_en, "file", False))
            continue
        fields.append(field_of(param))
    return ActionForm(action, tuple(fields))


def case_forms(roles_allowed: frozenset[str] | None) -> list[ActionForm]:
    """The forms of the actions on a case one may use (None: every one, for the docs)."""
    return [form_of(a) for a in commands.ACTIONS
            if not a.creates_case and (roles_allowed is None or roles_allowed & a.roles)]


def opening_forms() -> list[ActionForm]:
    return [form_of(a, uploads=True) for a in commands.ACTIONS if a.creates_case]


def texts_from(action: StaffAction, form: Mapping[str, str]) -> dict[str, str | None]:
    """The form's values as ``values_from_text`` takes them (a date field's ISO text reads
    as ``read_date`` reads it; a choice's value is the English word the reader knows). A
    list's values (the ticked items of a checklist, other items one a line) become one
    list as ``read_items`` reads it."""
    texts: dict[str, str | None] = {}
    for param in action.params:
        if param.multiple:
            continue
        text = form.get(param.name)
        if text is not None and param.read is commands.read_items:
            text = ITEM_SEPARATOR.join(line.strip() for line in text.splitlines() if line.strip())
        texts[param.name] = text
    return texts


# How ``read_items`` separates items (one value each: a ticked item or a line typed).
ITEM_SEPARATOR = "；"


def given_of(form: FormData | None) -> dict[str, str]:
    """A posted form's text values; a name sent several times (the ticked boxes of a
    checklist, and its text area of other items) gives its values one a line."""
    if form is None:
        return {}
    return {key: "\n".join(v for v in form.getlist(key) if isinstance(v, str))
            for key in form}
