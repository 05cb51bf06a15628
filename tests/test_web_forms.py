"""Every staff action becomes a console form from its declared values alone, and what
each form field sends is read back by the action's own reader."""

from __future__ import annotations

import pytest

from routing import commands
from routing.commands import Param, StaffAction
from web.forms import case_forms, field_of, form_of, opening_forms


@pytest.mark.parametrize("action", commands.ACTIONS, ids=lambda a: a.name)
def test_every_action_has_a_form_whose_choices_its_readers_accept(action: StaffAction) -> None:
    form = form_of(action, uploads=action.creates_case)
    by_name = {f.name: f for f in form.fields}
    for param in action.params:
        if param.multiple and not action.creates_case:
            continue
        field = by_name[param.name]
        assert field.required == param.required
        for choice in field.choices:
            value, rest = param.read(choice.value)  # the English word the form sends
            assert rest == "" and value not in (None, ""), (param.name, choice)


def test_the_case_page_offers_each_role_only_its_actions() -> None:
    everything = {f.action.name for f in case_forms(None)}
    assert everything == {a.name for a in commands.ACTIONS if not a.creates_case}
    handler = {f.action.name for f in case_forms(frozenset({"handler"}))}
    supervisor = {f.action.name for f in case_forms(frozenset({"supervisor"}))}
    assert "accept" in handler and "approve-extension" not in handler
    assert {"approve-extension", "recategorise", "defer"} <= supervisor
    assert {f.action.name for f in opening_forms()} == {"open"}


def test_a_new_action_in_the_table_needs_no_console_code() -> None:
    toy = StaffAction("toy", "玩具", run=lambda acting, **values: None, help_zh="试", help_en="try",
                      params=(Param("when", "日期", "date", commands.read_date),
                              Param("size", "大|小", "big|small", commands.read_word),
                              Param("why", "原因", "reason", from_body=True)))
    kinds = [(f.name, f.kind, [c.value for c in f.choices]) for f in form_of(toy).fields]
    assert kinds == [("when", "date", []), ("size", "select", ["big", "small"]),
                     ("why", "textarea", [])]
    values = toy.values_from_text({"when": "2026-12-03", "size": "big", "why": "因为"})
    assert str(values["when"]) == "2026-12-03" and values["size"] == "big"


def test_a_label_with_a_lead_keeps_it_as_the_label() -> None:
    channel = next(p for p in commands.action_named("open").params if p.name == "channel")
    field = field_of(channel)
    assert (field.label_zh, field.label_en) == ("渠道", "channel")
    assert [c.label_zh for c in field.choices] == ["来信", "来访", "媒体报道", "电话"]
