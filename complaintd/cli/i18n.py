"""Staff-facing messages: Simplified Chinese first, English on request.

The language comes from ``--lang``, then ``COMPLAINTD_LANG``, then the settings.
"""

from __future__ import annotations

import os

from casework.status import CHANNEL_LABELS, EVENT_LABELS, STATUS_LABELS

MESSAGES: dict[str, tuple[str, str]] = {
    "config_error": ("配置错误，服务未启动：\n{detail}", "Configuration error, not starting:\n{detail}"),
    "no_config": (
        "找不到配置文件 {path}。请用 --config 指定，或设置 COMPLAINTD_CONFIG。",
        "Config file {path} not found. Pass --config or set COMPLAINTD_CONFIG.",
    ),
    "db_upgraded": ("数据库已升级到最新版本（{url}）。", "Database upgraded to the latest schema ({url})."),
    "db_not_current": (
        "数据库结构不是最新版本（当前 {current}，应为 {head}）。请先运行：complaintd db upgrade",
        "The database schema is not current ({current}, expected {head}). "
        "Run: complaintd db upgrade",
    ),
    "round_done": (
        "本轮完成：新案件 {cases}，追加材料 {follow_ups}，忽略 {ignored}，隔离 {quarantined}，"
        "重复 {duplicates}；热线记录 {hotline}；发出邮件 {sent}，待重试 {retried}，失败 {failed}；"
        "新逾期 {overdue}。",
        "Round done: {cases} new cases, {follow_ups} follow-ups, {ignored} ignored, "
        "{quarantined} quarantined, {duplicates} duplicates; {hotline} hotline rows; "
        "{sent} mails sent, {retried} to retry, {failed} failed; {overdue} newly overdue.",
    ),
    "service_started": ("complaintd 已启动（按 Ctrl-C 停止）。", "complaintd started (Ctrl-C to stop)."),
    "service_stopping": ("正在停止：完成当前工作后退出……", "Stopping: finishing the work in hand…"),
    "service_stopped": ("complaintd 已停止。", "complaintd stopped."),
    "no_cases": ("没有符合条件的案件。", "No cases match."),
    "case_not_found": ("找不到案件 {ref}。", "No case {ref}."),
    "calendar_ok": ("工作日历覆盖 {years}。", "The working-day calendar covers {years}."),
    "calendar_fallback": (
        "注意：{years} 年没有节假日数据，按「{fallback}」推算。",
        "Note: no holiday data for {years}; using the '{fallback}' fallback.",
    ),
    "col_reference": ("编号", "Reference"),
    "col_status": ("状态", "Status"),
    "col_received": ("收到时间", "Received"),
    "col_due": ("办结期限", "Due"),
    "col_channel": ("渠道", "Channel"),
    "col_department": ("部门", "Department"),
    "col_subject": ("主题", "Subject"),
    "col_time": ("时间", "Time"),
    "col_actor": ("操作人", "Actor"),
    "col_event": ("事件", "Event"),
    "col_details": ("详情", "Details"),
    "overdue_mark": ("已逾期", "overdue"),
    "authority_overdue_mark": ("机关逾期未复", "overdue by the authority"),
    "flag_attention": ("需处理", "needs attention"),
    "flag_phone": ("需电话联系", "call the complainant"),
    "cases_title": ("案件列表（{n} 件）", "Cases ({n})"),
    "timeline_title": ("{ref} 时间线", "Timeline of {ref}"),
    "demo_intro": (
        "演示：把示例投诉邮件和热线记录处理成案件和受理回执。\n工作目录：{dir}",
        "Demo: sample complaint mails and hotline logs become cases and acknowledgements.\n"
        "Working folder: {dir}",
    ),
    "demo_acks": (
        "受理回执（{n} 封）已写入 {dir}，可用任何邮件程序打开 .eml 文件。",
        "{n} acknowledgements written to {dir}; open the .eml files with any mail program.",
    ),
    "demo_hotline_report": (
        "热线记录中有 {n} 行未能导入，错误报告：{path}",
        "{n} hotline rows could not be imported; error report: {path}",
    ),
    # complaintd hotline … (complaintd/cli/hotline.py)
    "hotline_importing": ("正在导入 {file}", "Importing {file}"),
    "hotline_busy": ("{file} 正由另一个进程导入，已跳过。", "{file} is being imported by another process; skipped."),
    "hotline_missing_file": ("找不到文件：{file}", "No such file: {file}"),
    "hotline_off": ("未配置热线投放目录（hotline.drop_dir）。", "No hotline drop folder is configured (hotline.drop_dir)."),
    "hotline_summary_title": ("热线记录导入结果", "Hotline import"),
    "hotline_col_file": ("文件", "File"),
    "hotline_col_imported": ("已导入", "Imported"),
    "hotline_col_follow_ups": ("其中追加到已有案件", "of which follow-ups"),
    "hotline_col_duplicates": ("重复（已导入过）", "Duplicates"),
    "hotline_col_rejected": ("未导入的行", "Rejected rows"),
    "hotline_col_report": ("错误报告", "Error report"),
    "hotline_col_moved_to": ("文件已移至", "File moved to"),
    "hotline_rejected_note": ("有 {n} 行未导入，请按错误报告修改后重新放入。", "{n} rows were not imported; fix them as the error report says and drop the file again."),
    "hotline_no_tasks": ("没有待办的回访电话。", "No follow-up calls to make."),
    "hotline_tasks_title": ("待办回访电话（{n} 个）", "Follow-up calls to make ({n})"),
    "hotline_col_task": ("任务号", "Task"),
    "hotline_col_kind": ("类型", "Kind"),
    "hotline_col_phone": ("电话", "Phone"),
    "hotline_col_due": ("期限", "Due"),
    "hotline_kind_acknowledge": ("告知受理", "acknowledge"),
    "hotline_kind_callback": ("回访", "callback"),
    "hotline_task_done": ("任务 {id}（{ref}）已完成。", "Task {id} ({ref}) done."),
    "hotline_task_not_found": ("找不到任务 {id}。", "No task {id}."),
    "hotline_task_already_done": ("任务 {id} 已经完成过了。", "Task {id} is already done."),
    "demo_next": (
        "下一步：complaintd --config {config} cases list 或 cases show <编号>",
        "Next: complaintd --config {config} cases list, or cases show <reference>",
    ),
    "demo_console": (
        "员工工作台：COMPLAINTD_WEB_SECRET={secret} complaintd --config {config} web\n然后打开 {url} ，用 {login} / {password} 登录。",
        "Staff console: COMPLAINTD_WEB_SECRET={secret} complaintd --config {config} web\nthen open {url} and sign in as {login} / {password}.",
    ),
    "quarantine_empty": ("隔离区为空。", "The quarantine is empty."),
    # outbox and templates (issue 6)
    "outbox_title": ("发件箱（{n} 封）", "Outbox ({n} mails)"),
    "outbox_empty": ("发件箱中没有符合条件的邮件。", "No mail in the outbox matches."),
    "outbox_not_found": ("找不到发件箱邮件 {id}。", "No outbox mail {id}."),
    "outbox_already_sent": ("邮件 {id} 已于 {at} 发出，不会重发。", "Mail {id} was sent at {at}; it is not sent again."),
    "outbox_retry_queued": ("邮件 {id} 已重新排队，下一轮发送。", "Mail {id} is queued again for the next round."),
    "col_id": ("编号", "ID"),
    "col_kind": ("类型", "Kind"),
    "col_recipient": ("收件人", "Recipient"),
    "col_attempts": ("尝试次数", "Attempts"),
    "col_when": ("发送/下次尝试", "Sent / next try"),
    "col_error": ("服务器答复", "Server's answer"),
    "templates_title": ("通知模板（{n} 种）", "Notice templates ({n})"),
    "col_notice": ("通知", "Notice"),
    "col_languages": ("语言", "Languages"),
    "col_source": ("来源", "Source"),
    "template_unknown": ("没有名为 {name} 的通知模板。可用：{names}", "No notice template {name}. Known: {names}"),
    "source_override": ("自定义", "override"),
    "source_package": ("内置", "built-in"),
    # -- staff console accounts (complaintd users …, complaintd web) --
    "user_added": ("已添加账户 {staff}（{roles}）。下一步：complaintd users invite {staff}，或 complaintd users set-password {staff}", "Account {staff} added ({roles}). Next: complaintd users invite {staff}, or complaintd users set-password {staff}"),
    "user_exists": ("账户 {staff} 已存在。", "Account {staff} already exists."),
    "user_unknown": ("没有账户 {staff}。先运行：complaintd users add {staff} --role …", "No account {staff}. First: complaintd users add {staff} --role …"),
    "unknown_role": ("未知角色：{roles}；可用：{known}", "Unknown role: {roles}; known: {known}"),
    "staff_not_in_directory": ("工作人员名录（routing.toml）中没有 {staff}。", "{staff} is not in the staff directory (routing.toml)."),
    "user_needs_email": ("未配置分派规则：请用 --email 和 --name 指定。", "No routing rules configured: give --email and --name."),
    "password_short": ("密码至少 {n} 个字符。", "The password needs at least {n} characters."),
    "password_set": ("已为 {staff} 设置密码；该账户已解锁，其所有登录会话已结束。", "Password set for {staff}; the account is unlocked and all its sessions ended."),
    "invite_queued": ("设置密码的一次性链接已放入发件箱，发往 {email}（{hours} 小时内有效）。", "A one-time link to set the password is queued to {email} (valid {hours} hours)."),
    "invite_link": ("一次性链接（{hours} 小时内有效）：{link}", "One-time link (valid {hours} hours): {link}"),
    "user_locked": ("账户 {staff} 已锁定，其所有登录会话已结束。", "Account {staff} locked; all its sessions ended."),
    "users_none": ("还没有账户。", "No accounts yet."),
    "user_row": ("{staff}  {name}  {email}  {roles}  {state}", "{staff}  {name}  {email}  {roles}  {state}"),
    "user_state_locked": ("已锁定", "locked"),
    "user_state_no_password": ("未设密码", "no password yet"),
    "user_state_active": ("可登录", "active"),
    "web_serving": ("员工工作台：{url}（按 Ctrl+C 停止）", "Staff console: {url} (Ctrl+C to stop)"),
    "web_started": ("员工工作台已启动：{url}", "Staff console started: {url}"),
}



class Translator:
    def __init__(self, language: str = "zh") -> None:
        self.language = "en" if language == "en" else "zh"

    def __call__(self, key: str, **values: object) -> str:
        zh, en = MESSAGES[key]
        return (en if self.language == "en" else zh).format(**values)

    def status(self, status: str) -> str:
        zh, en = STATUS_LABELS.get(status, (status, status))
        return en if self.language == "en" else zh

    def channel(self, channel: str) -> str:
        zh, en = CHANNEL_LABELS.get(channel, (channel, channel))
        return en if self.language == "en" else zh

    def event(self, kind: str) -> str:
        """A timeline event in words, as the console shows it (its key when unnamed)."""
        zh, en = EVENT_LABELS.get(kind, (kind, kind))
        return en if self.language == "en" else zh


def pick_language(option: str | None, configured: str | None = None) -> str:
    return option or os.environ.get("COMPLAINTD_LANG") or configured or "zh"
