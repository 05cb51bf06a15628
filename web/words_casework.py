"""The words of the case page's checklist and previews, the list's bulk actions and the
keyboard shortcuts (Simplified Chinese, English); ``web.i18n`` takes them in."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    # the checklist that builds the one notice of missing material
    "checklist_legend": ("缺少的材料", "Missing material"),
    "checklist_hint": ("勾选要请投诉人补充的全部材料，一次通知列出所有项目；"
                       "已勾选的是系统判断尚缺的必需材料。",
                       "Tick everything the complainant should send: one notice lists every "
                       "item. Ticked: required material the check finds missing."),
    "checklist_other": ("其他材料（每行一项）", "Other items (one a line)"),
    "checklist_again": ("本案已发过 {n} 次补充材料通知。"
                        "再次索要第一次就能列出的材料，记为违诺（条款四(四)）。",
                        "This case has had {n} notice(s) of missing material already. Asking "
                        "again for an item the first notice could have named is a violation "
                        "(clause 四(四))."),
    "item_missing": ("尚缺", "missing"),
    "item_present": ("已有", "present"),
    "item_optional": ("非必需", "not required"),
    # previews
    "pv_button": ("预览", "Preview"),
    "preview_of": ("预览：{what}", "Preview: {what}"),
    "preview_hint": ("执行后将发出以下 {n} 封邮件（尚未发出）。",
                     "Doing it sends these {n} mail(s) (nothing is sent yet)."),
    "preview_no_mail": ("此操作不会发出邮件。", "This sends no mail."),
    "preview_to": ("收件人", "To"),
    "preview_back": ("返回修改", "Back to change it"),
    "send_as_previewed": ("按预览执行", "Do it as previewed"),
    # bulk actions
    "bulk_title": ("批量操作", "Bulk action"),
    "bulk_select": ("选择", "Select"),
    "bulk_select_case": ("选择 {ref}", "Select {ref}"),
    "bulk_with_selected": ("对选中的案件", "With the selected cases"),
    "bulk_next": ("下一步", "Next"),
    "bulk_no_action": ("请选择一项操作。", "Choose an action."),
    "bulk_none": ("没有选中任何案件。", "No case was selected."),
    "bulk_selected": ("选中的案件（{n} 件）", "Selected cases ({n})"),
    "bulk_missing": ("另有 {n} 个编号未找到。", "{n} other reference(s) were not found."),
    "bulk_rule": ("每件案件分别按其权限执行：您在该案中没有相应角色的，不会执行。",
                  "Each case is done under its own rules: where you hold no role for this "
                  "action, it is not done."),
    "bulk_back": ("返回案件列表", "Back to the cases"),
    "bulk_summary": ("已执行 {done} 件，未执行 {refused} 件。", "{done} done, {refused} not done."),
    "bulk_results": ("逐件结果", "Result for each case"),
    "bulk_result": ("结果", "Result"),
    "bulk_done": ("已执行", "done"),
    "bulk_refused": ("未执行", "not done"),
    "bulk_not_found": ("未找到", "not found"),
    "bulk_not_yours": ("您在本案中没有执行此操作的权限", "not yours to do on this case"),
    # keyboard shortcuts
    "sc_title": ("键盘快捷键", "Keyboard shortcuts"),
    "sc_close": ("关闭", "Close"),
    "sc_work": ("转到我的工作", "go to my work"),
    "sc_cases": ("转到案件列表", "go to the cases"),
    "sc_new": ("登记新案件", "open a new case"),
    "sc_search": ("搜索", "search"),
    "sc_next": ("列表中的下一件", "next case in the list"),
    "sc_previous": ("列表中的上一件", "previous case in the list"),
    "sc_open": ("打开当前案件", "open the case under the cursor"),
    "sc_select": ("选中或取消当前案件（批量操作）", "select or unselect it (bulk actions)"),
    "sc_actions": ("跳到案件的操作", "jump to the case's actions"),
    "sc_help": ("显示或关闭本帮助", "show or close this help"),
    "sc_fields": ("在输入框中打字时快捷键不起作用；Esc 关闭帮助。",
                  "Shortcuts do nothing while you type in a field; Esc closes this help."),
}
