"""The states a case can be in (the transitions are in ``casework.transitions``)."""

from __future__ import annotations

import enum


class CaseStatus(enum.StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    AWAITING_MATERIAL = "awaiting_material"
    ROUTED = "routed"
    INVESTIGATING = "investigating"
    REFERRED = "referred"
    EXTENDED = "extended"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


OPEN_STATUSES = frozenset(CaseStatus) - {
    CaseStatus.RESOLVED,
    CaseStatus.CLOSED,
    CaseStatus.WITHDRAWN,
    CaseStatus.REJECTED,
}


# How a channel reads to staff and complainants: (Simplified Chinese, English).
CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "email": ("邮件", "email"),
    "hotline": ("热线", "hotline"),
    "web": ("网页", "web form"),
    "letter": ("来信", "letter"),
    "visit": ("来访", "visit"),
    "media": ("媒体报道", "media report"),
    "phone": ("电话", "phone call"),
}


# How a status reads to staff and complainants: (Simplified Chinese, English).
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "received": ("已收到", "received"),
    "acknowledged": ("已受理", "acknowledged"),
    "awaiting_material": ("待补材料", "awaiting material"),
    "routed": ("已分派", "routed"),
    "investigating": ("调查中", "investigating"),
    "referred": ("已移送", "referred"),
    "extended": ("已延期", "extended"),
    "resolved": ("已办结", "resolved"),
    "closed": ("已关闭", "closed"),
    "reopened": ("已重开", "reopened"),
    "withdrawn": ("已撤回", "withdrawn"),
    "rejected": ("不予受理", "rejected"),
}


# How a timeline event reads to staff: (Simplified Chinese, English). A kind missing here
# is shown by its key.
EVENT_LABELS: dict[str, tuple[str, str]] = {
    "received": ("收到", "received"),
    "status_changed": ("状态变更", "status changed"),
    "routing_decision": ("分类判断", "routing decision"),
    "assigned": ("分派", "assigned"),
    "accepted": ("受理", "accepted"),
    "note": ("备注", "note"),
    "mail_sent": ("邮件已发出", "mail sent"),
    "mail_not_queued": ("邮件未能排队", "mail not queued"),
    "mail_retry_requested": ("邮件重发", "mail retry requested"),
    "outbound_bounced": ("邮件被退回", "our mail bounced"),
    "follow_up_received": ("收到后续来信", "follow-up received"),
    "follow_up_on_merged": ("已合并案件收到来信", "follow-up on a merged case"),
    "material_checked": ("核对补充材料", "material checked"),
    "clock_started": ("开始计时", "clock started"),
    "extension_requested": ("申请延期", "extension requested"),
    "extension_approved": ("批准延期", "extension approved"),
    "referral_letter_queued": ("移送函已排队", "referral letter queued"),
    "referral_followed_up": ("催办移送", "referral followed up"),
    "authority_replied": ("行政机关答复", "authority replied"),
    "authority_mail_unverified": ("未经证实的机关来信", "unverified authority mail"),
    "authority_answer_relayed": ("转告机关答复", "authority's answer relayed"),
    "interim_reply": ("阶段性答复", "interim reply"),
    "resolved": ("办结", "resolved"),
    "recategorised": ("重新分类", "recategorised"),
    "delegated": ("代理", "delegated"),
    "handed_back": ("交回", "handed back"),
    "hand_back_cancelled": ("取消交回", "hand-back cancelled"),
    "escalated": ("上报", "escalated"),
    "reminder_sent": ("已提醒", "reminder sent"),
    "deadline_missed": ("超过期限", "deadline missed"),
    "violation_recorded": ("登记违诺", "violation recorded"),
    "sanction_applied": ("处分落实", "sanction applied"),
    "compensation_paid": ("赔偿到位", "compensation paid"),
    "conflict_excluded": ("利益冲突回避", "excluded for conflict of interest"),
    "staff_notice_withheld": ("未通知被回避人员", "notice withheld (conflict)"),
    "supervision_moved": ("主管上移", "supervision moved up"),
    "command_refused": ("指令被拒绝", "command refused"),
    "refusal_withheld": ("拒绝通知未发（上限）", "refusal notice withheld (cap)"),
    "acknowledgement_withheld": ("回执未发（上限）", "acknowledgement withheld (cap)"),
    "linked_for_review": ("关联待核", "linked for review"),
    "sender_unverified": ("发件人未经证实", "sender unverified"),
    "read_in_part": ("邮件部分读取", "mail read in part"),
    "large_file_links": ("大文件链接", "large-file links"),
    "merged_from": ("并入案件", "merged from"),
    "major_matter": ("重大事项", "major matter"),
    "appointment": ("预约服务", "appointment"),
    "deferred": ("延期服务", "deferred service"),
    "flags_cleared": ("清除标记", "flags cleared"),
    "consent_recorded": ("记录同意", "consent recorded"),
    "opened_by_hand": ("人工登记", "opened by hand"),
    "call_task_planned": ("计划回访", "call planned"),
    "call_task_opened": ("待回访", "call task opened"),
    "call_task_done": ("已回访", "call done"),
    "survey_sent": ("发出满意度调查", "survey sent"),
    "survey_answered": ("满意度已回复", "survey answered"),
    "survey_unreadable": ("满意度回复无法识别", "survey answer unreadable"),
    "staff_mail": ("工作人员来信", "staff mail"),
    "progress_query_answered": ("已自动答复进度查询", "progress query answered"),
    "progress_query_refused": ("非当事人查询进度（未答复）",
                               "progress query from a non-party (not answered)"),
    "progress_answer_withheld": ("进度查询未答复（上限或自动邮件）",
                                 "progress answer withheld (cap or machine mail)"),
}
