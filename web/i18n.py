"""The console's words, Simplified Chinese first, English second (the ``lang`` cookie)."""

from __future__ import annotations

from casework.status import CHANNEL_LABELS, EVENT_LABELS, STATUS_LABELS
from web.words_casework import WORDS as CASEWORK_WORDS

LANGUAGES = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    "app_name": ("投诉工作台", "Complaints console"),
    "skip": ("跳到正文", "Skip to content"),
    "nav": ("主导航", "Main navigation"),
    "my_work": ("我的工作", "My work"),
    "cases": ("案件", "Cases"),
    "new_case": ("登记新案件", "New case"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "sign_out_all": ("在所有设备上退出", "Sign out everywhere"),
    "login": ("工号或邮箱", "Staff id or email"),
    "password": ("密码", "Password"),
    "password_again": ("再次输入密码", "Password again"),
    "set_password": ("设置密码", "Set your password"),
    "save": ("保存", "Save"),
    "language": ("语言", "Language"),
    "switch_lang": ("English", "中文"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "sign_in_failed": ("工号或密码不正确。", "Wrong staff id or password."),
    "rate_limited": ("尝试次数过多，请 {minutes} 分钟后再试。",
                     "Too many attempts; try again in {minutes} minutes."),
    "locked": ("账户已锁定，请联系管理员。", "This account is locked; ask an administrator."),
    "link_expired": ("链接已过期，请管理员重新发送。", "The link has expired; ask for a new one."),
    "link_invalid": ("链接无效或已使用。", "The link is not valid or was already used."),
    "password_short": ("密码至少 {n} 个字符。", "The password needs at least {n} characters."),
    "password_mismatch": ("两次输入的密码不一致。", "The two passwords differ."),
    "password_set": ("密码已设置，请登录。", "Password set; please sign in."),
    "signed_out_all": ("已在所有设备上退出。", "Signed out everywhere."),
    "not_found": ("未找到", "Not found"),
    "not_found_text": ("没有这个页面或案件。", "There is no such page or case."),
    "forbidden": ("无权操作", "Not allowed"),
    "csrf_refused": ("表单已失效，请刷新页面后重试。",
                     "The form has expired; reload the page and try again."),
    "reference": ("编号", "Reference"),
    "subject": ("主题", "Subject"),
    "status": ("状态", "Status"),
    "channel": ("渠道", "Channel"),
    "category": ("类别", "Category"),
    "department": ("部门", "Department"),
    "handler": ("承办人", "Handler"),
    "received": ("收到时间", "Received"),
    "due": ("办结期限", "Due"),
    "days_left": ("剩余工作日", "Working days left"),
    "overdue_by": ("已超期 {n} 个工作日", "{n} working days overdue"),
    "left_n": ("剩 {n} 个工作日", "{n} working days left"),
    "due_today": ("今天到期", "due today"),
    "overdue": ("已超期", "Overdue"),
    "due_soon": ("即将到期", "Due soon"),
    "awaiting_material": ("待补材料", "Awaiting material"),
    "my_open": ("我承办的案件", "My open cases"),
    "extension_requests": ("待批准的延期申请", "Extension requests to approve"),
    "callbacks_due": ("待回访电话", "Callbacks due"),
    "referral_answers_due": ("待机关答复", "Authority answers due"),
    "nothing": ("暂无。", "Nothing here."),
    "search": ("搜索", "Search"),
    "search_hint": ("编号、姓名、电话、邮箱或内容", "reference, name, phone, email or text"),
    "filter": ("筛选", "Filter"),
    "more_filters": ("更多筛选条件", "More filters"),
    "any": ("全部", "any"),
    "received_from": ("收到日期起", "Received from"),
    "received_until": ("收到日期止", "Received until"),
    "due_from": ("期限起", "Due from"),
    "due_until": ("期限止", "Due until"),
    "only_overdue": ("只看已超期", "Overdue only"),
    "results": ("共 {n} 件", "{n} cases"),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "export": ("导出当前列表（不含联系方式）", "Export this list (no contact details)"),
    "saved_views": ("保存的视图", "Saved views"),
    "view_name": ("视图名称", "View name"),
    "save_view": ("保存当前筛选", "Save these filters"),
    "delete": ("删除", "Delete"),
    "summary": ("概要", "Summary"),
    "parties": ("当事人", "Parties"),
    "complainant": ("投诉人", "Complainant"),
    "name": ("姓名", "Name"),
    "phone": ("电话", "Phone"),
    "email": ("邮箱", "Email"),
    "anonymous": ("匿名", "anonymous"),
    "contacts_hidden": ("联系方式仅本案承办人、代理人和主管可见。",
                        "Contact details are shown to the case's handler, deputy and "
                        "supervisor only."),
    "messages": ("往来信息", "Messages"),
    "inbound": ("收到", "in"),
    "outbound": ("发出", "out"),
    "html_version": ("原邮件格式（不加载任何外部内容）", "As sent (nothing remote is loaded)"),
    "attachments": ("附件", "Attachments"),
    "refused_file": ("未保存：{why}", "not kept: {why}"),
    "timeline": ("时间线", "Timeline"),
    "deadlines": ("期限", "Deadlines"),
    "acknowledge_due": ("确认期限", "Acknowledge by"),
    "resolve_due": ("办结期限", "Resolve by"),
    "actions": ("操作", "Actions"),
    "no_actions": ("您不是本案的承办人、代理人或主管，不能操作本案。",
                   "You are not this case's handler, deputy or supervisor."),
    "read_only": ("只读账户。", "Read-only account."),
    "run": ("执行", "Do it"),
    "done": ("已完成：{ref} 现为 {status}。", "Done: {ref} is now {status}."),
    "refused": ("未执行：{why}", "Not done: {why}"),
    "required": ("必填", "required"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "choose": ("请选择", "choose"),
    "case_opened": ("已立案：{ref}", "Case opened: {ref}"),
    "flags": ("标记", "Flags"),
    "needs_attention": ("待处理", "needs attention"),
    "phone_follow_up": ("需电话联系", "call the complainant"),
    "major": ("重大", "major"),
    "merged_into": ("已并入 {ref}", "merged into {ref}"),
    "requested_by": ("申请人", "Asked by"),
    "days": ("天数", "Days"),
    "reason": ("原因", "Reason"),
    "actor": ("操作人", "Who"),
    "event": ("事项", "What"),
    "when": ("时间", "When"),
    "page_of": ("第 {page} 页", "Page {page}"),
    "table_caption_cases": ("案件列表", "List of cases"),
    "call_outcome": ("回访结果", "What came of the call"),
    "call_done": ("已回访", "Call made"),
    "violations": ("违诺登记", "Violations"),
    "calendar": ("工作日历", "Working-day calendar"),
    "calendar_years": ("日历数据覆盖的年份：{years}", "Years the calendar covers: {years}"),
    "calendar_ok": ("日历数据完整。", "The calendar data is complete."),
    "calendar_ahead": ("今后 90 天的调休：节假日与补班日", "The next 90 days: holidays and "
                       "make-up working days"),
    "day_off": ("休息（节假日）", "day off (holiday)"),
    "makeup_day": ("补班（周末上班）", "working day (make-up)"),
    "calendar_note": ("期限按上海工作日计算；节假日不计，补班日计入。", "Deadlines count Shanghai "
                      "working days: holidays are skipped, make-up working days count."),
    "only_open": ("只看未落实", "Not yet carried out"),
    "staff_member": ("工作人员", "Staff"),
    "clause": ("条款", "Clause"),
    "sanction": ("处理", "Sanction"),
    "compensation": ("赔偿（元）", "Compensation (CNY)"),
    "applied": ("已落实", "applied"),
    "paid": ("已支付", "paid"),
    "pending": ("未落实", "pending"),
    "outbox": ("发件箱", "Outbox"),
    "quarantine": ("隔离区", "Quarantine"),
    "only_failed": ("只看发送失败", "Failed only"),
    "show_all": ("显示全部", "Show all"),
    "only_waiting": ("只看待处理", "Waiting only"),
    "recipient": ("收件人", "Recipient"),
    "kind": ("类型", "Kind"),
    "attempts": ("尝试次数", "Attempts"),
    "server_answer": ("服务器答复", "Server's answer"),
    "retry": ("重新发送", "Send again"),
    "source": ("来源", "Source"),
    "location": ("位置", "Where"),
    "created": ("时间", "When"),
    "resolved": ("已处理", "resolved"),
    "html_frame_title": ("原邮件（HTML）", "Mail as sent (HTML)"),
    "too_large": ("内容过大", "Too large"),
    "too_large_text": ("提交的内容超过 32 MB，未处理。", "The request is larger than 32 MB; "
                       "nothing was done."),
}

STATUS = STATUS_LABELS
CHANNEL = CHANNEL_LABELS
TEXT.update(CASEWORK_WORDS)  # the case page's checklist and previews, bulk, shortcuts


class Words:
    """``t("key", **facts)`` in one language; ``t.status(s)`` and ``t.channel(c)``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else "zh"
        self._i = 0 if self.lang == "zh" else 1

    def __call__(self, key: str, **facts: object) -> str:
        text = TEXT[key][self._i]
        return text.format(**facts) if facts else text

    def status(self, status: str) -> str:
        return STATUS.get(str(status), (str(status), str(status)))[self._i]

    def channel(self, channel: str) -> str:
        return CHANNEL.get(channel, (channel, channel))[self._i]

    def event(self, kind: str) -> str:
        return EVENT_LABELS.get(kind, (kind, kind))[self._i]

    def pick(self, zh: str, en: str) -> str:
        return zh if self._i == 0 else en
