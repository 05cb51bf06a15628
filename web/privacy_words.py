"""The words of the privacy page (a person's rights and the privacy register), added to the
console's table: Simplified Chinese first, English second."""

from __future__ import annotations

from web.i18n import TEXT

TEXT.update({
    "privacy": ("个人信息", "Personal information"),
    "privacy_intro": (
        "依《个人信息保护法》第四十四至四十七条，处理本人查阅复制、更正、删除个人信息的请求。"
        "以电子邮箱或电话号码查找本人；每项操作均记入个人信息处理登记。",
        "A person's requests under PIPL art. 44–47: a copy, a correction, an erasure. The "
        "person is found by email address or phone number; every action is written to the "
        "privacy register."),
    "privacy_export": ("导出本人信息", "Export a person's data"),
    "privacy_export_help": ("生成 zip（JSON 与原始文件），下载后交给本人。",
                            "Makes a zip (JSON and the original files) to hand to the person."),
    "privacy_correct": ("更正本人信息", "Correct a person's data"),
    "privacy_correct_help": ("只填写需要更正的项目。", "Fill in only what is to be corrected."),
    "privacy_erase": ("删除本人信息", "Erase a person's data"),
    "privacy_erase_help": ("进行中的案件与违诺登记依法保留；下一步先显示将删除与保留的内容。",
                           "Open cases and the violations register are kept (legal hold); "
                           "the next step shows what goes and what stays."),
    "privacy_email": ("电子邮箱", "Email address"),
    "privacy_phone": ("电话号码", "Phone number"),
    "privacy_or": ("填写邮箱或电话其中一项", "Give the email address or the phone number"),
    "privacy_new_name": ("正确的姓名", "Correct name"),
    "privacy_new_email": ("正确的邮箱", "Correct email address"),
    "privacy_new_phone": ("正确的电话", "Correct phone number"),
    "privacy_next": ("下一步", "Next"),
    "privacy_confirm": ("确认", "Confirm"),
    "privacy_confirm_export": ("确认导出并下载", "Export and download"),
    "privacy_confirm_correct": ("确认更正", "Correct"),
    "privacy_confirm_erase": ("确认删除（不可撤销）", "Erase (cannot be undone)"),
    "privacy_back": ("返回，不执行", "Back, do nothing"),
    "privacy_found": ("找到的本人案件", "The person's cases found"),
    "privacy_other_messages": ("本人在他人案件中的来信：{n} 封",
                               "Their messages in other people's cases: {n}"),
    "privacy_will_erase": ("将删除个人信息的案件", "Cases whose personal data will be erased"),
    "privacy_will_hold": ("依法保留的案件", "Cases kept (legal hold)"),
    "privacy_hold_case open": ("案件尚未办结", "the case is open"),
    "privacy_hold_violation not yet carried out": ("违诺处理或赔偿尚未落实",
                                                  "a violation not yet carried out"),
    "privacy_call_logs": ("热线通话记录文件：将删除 {removed} 个；{kept} 个仍为其他案件所需，"
                          "其中本人一行在文件删除前仅保存、不再使用。",
                          "Hotline call-log files: {removed} will go; {kept} still needed by "
                          "other cases keep the person's row, stored only, until they go."),
    "privacy_violations_kept": ("违诺登记保留 {n} 条。",
                                "{n} violation register rows are kept."),
    "privacy_nothing_to_erase": ("现在没有可删除的内容：本人的案件均依法保留，待办结后再申请。",
                                 "Nothing can be erased now: every case of the person is "
                                 "kept (legal hold); ask again once they end."),
    "privacy_changes": ("将更正的项目", "To be corrected"),
    "privacy_who": ("请求涉及", "The request is about"),
    "privacy_none": ("无", "none"),
    "privacy_who_needed": ("请填写电子邮箱或电话号码（其中一项；电话至少 7 位数字），"
                           "更正时至少填写一个正确的项目。",
                           "Give an email address or a phone number (one of them; a phone "
                           "has at least 7 digits), and for a correction at least one "
                           "correct value."),
    "privacy_not_found": ("没有保存与此邮箱或电话有关的个人信息。",
                          "Nothing is held about this address or number."),
    "privacy_done_correct": ("已更正，并记入登记。", "Corrected and written to the register."),
    "privacy_done_erase": ("已删除，并记入登记。", "Erased and written to the register."),
    "privacy_done_export": ("已导出，并记入登记。", "Exported and written to the register."),
    "privacy_register": ("个人信息处理登记", "Privacy register"),
    "privacy_register_note": ("登记不保存本人地址，只保存其带密钥的散列值；最近 100 条。",
                              "The register keeps no address, only its keyed hash; the last "
                              "100 entries."),
    "privacy_register_empty": ("尚无登记。", "Nothing registered yet."),
    "privacy_action": ("操作", "Action"),
    "privacy_outcome": ("结果", "Outcome"),
    "privacy_subject": ("本人（散列）", "Person (hash)"),
    "privacy_kind_export": ("导出", "export"),
    "privacy_kind_correct": ("更正", "correction"),
    "privacy_kind_erase": ("删除", "erasure"),
    "privacy_kind_purge": ("期满清除", "retention purge"),
    "privacy_kind_reseal": ("重新加密", "reseal"),
    "privacy_dry_run": ("演练", "dry run"),
    "privacy_cases_n": ("案件 {n} 件", "{n} cases"),
    "privacy_held_n": ("保留 {n} 件", "{n} held"),
    "privacy_files_n": ("文件 {n} 个", "{n} files"),
    "privacy_bytes_n": ("{n} 字节", "{n} bytes"),
    "privacy_fields": ("项目：{fields}", "fields: {fields}"),
    "privacy_read_only": ("您可查看登记；处理请求需主任或管理员。",
                          "You may read the register; requests are handled by a director "
                          "or an administrator."),
    # the account log (account_event) of the accounts page
    "event_privacy_export": ("导出个人信息", "exported personal data"),
    "event_privacy_correct": ("更正个人信息", "corrected personal data"),
    "event_privacy_erase": ("删除个人信息", "erased personal data"),
    "event_privacy_erase_dry_run": ("删除个人信息（演练）", "erasure dry run"),
})
