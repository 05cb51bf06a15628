"""Sample data for every notice: the start-up check and ``templates preview`` render with it.

Every notice with templates must have an entry in ``SAMPLE_CONTEXTS`` (the check insists),
built with the same builder the notice itself uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from notifications import contexts as c
from notifications.contexts import CallbackRow, ComplainantDetails, Context, DigestRow, Limit
from notifications.monthly import MonthSummary, SummaryLine, monthly_summary_context

SAMPLE_ORGANISATION = c.OrganisationInfo(
    name="上海生命绿洲公益服务中心",
    name_en="Shanghai Life Oasis Public Welfare Service Center",
    hotline_phone="021-0000 0000",
    resolve_working_days=15,
)
_REF = "LO-2026-000123"
_REPLY = "tousu@example.org"
# The limit of the samples (their dates are illustrative, not counted).
_LIMIT = Limit(15, "working")
_COMMANDS = ["#接受 / #accept", "#延期 原因 / #extend reason", "#办结 结果 / #resolve result"]


def _acknowledgement() -> Context:
    return c.acknowledgement_context(
        reference=_REF, complainant_name="王小明", received_on=date(2026, 3, 2),
        resolve_due=date(2026, 3, 20), limit=_LIMIT, reply_address=_REPLY,
        org=SAMPLE_ORGANISATION, verification_code="7KQ3M-XH4TP",
        progress_url="https://tousu.example.org/public/progress")  # fmt: skip


def _missing_material() -> Context:
    return c.missing_material_context(
        reference=_REF, complainant_name="王小明",
        items=["收费票据复印件", "就诊日期", "联系电话"], reply_by=date(2026, 3, 16),
        limit=_LIMIT, reply_address=_REPLY, org=SAMPLE_ORGANISATION)  # fmt: skip


def _clock_started() -> Context:
    return c.clock_started_context(
        reference=_REF, complainant_name="王小明", complete_on=date(2026, 3, 2),
        resolve_due=date(2026, 3, 20), limit=_LIMIT, reply_address=_REPLY,
        org=SAMPLE_ORGANISATION)  # fmt: skip


def _routed_internally() -> Context:
    return c.routed_internally_context(
        reference=_REF, complainant_name="王小明", department="患者服务部",
        resolve_due=date(2026, 3, 20), limit=_LIMIT, reply_address=_REPLY,
        org=SAMPLE_ORGANISATION)  # fmt: skip


def _referred_to_authority() -> Context:
    return c.referred_to_authority_context(
        reference=_REF, complainant_name="王小明", authority="上海市民政局",
        referred_on=date(2026, 3, 5), answer_due=date(2026, 4, 3), reply_address=_REPLY,
        org=SAMPLE_ORGANISATION, jurisdiction="社会救助与慈善组织监管",
        answer_limit=Limit(20))  # fmt: skip


def _extension() -> Context:
    return c.extension_context(
        reference=_REF, complainant_name="王小明", reason="需要向合作医院调取就诊记录。",
        previous_due=date(2026, 3, 20), new_due=date(2026, 4, 10), extension=Limit(15),
        reply_address=_REPLY, org=SAMPLE_ORGANISATION)  # fmt: skip


def _outcome() -> Context:
    return c.outcome_context(
        reference=_REF, complainant_name="王小明",
        outcome="经核实，多收的挂号费已于3月18日退还。\n相关志愿者已接受批评教育。",
        resolved_on=date(2026, 3, 18), authority=None, reply_address=_REPLY,
        org=SAMPLE_ORGANISATION)  # fmt: skip


def _satisfaction_survey() -> Context:
    return c.satisfaction_survey_context(
        reference=_REF, complainant_name="王小明", survey_url="https://example.org/survey",
        reply_address=_REPLY, org=SAMPLE_ORGANISATION)  # fmt: skip


def _assignment() -> Context:
    return c.assignment_context(
        reference=_REF, handler_name="李娜", case_subject="医院收费问题", category="收费",
        received_on=date(2026, 3, 2), resolve_due=date(2026, 3, 20), limit=_LIMIT,
        delegate_for=None,
        commands_help=_COMMANDS, org=SAMPLE_ORGANISATION)  # fmt: skip


def _handler_reminder() -> Context:
    return c.handler_reminder_context(
        reference=_REF, handler_name="李娜", case_subject="医院收费问题",
        resolve_due=date(2026, 3, 20), limit=_LIMIT, working_days_left=2,
        commands_help=_COMMANDS,
        org=SAMPLE_ORGANISATION)  # fmt: skip


def _supervisor_escalation() -> Context:
    return c.supervisor_escalation_context(
        reference=_REF, supervisor_name="陈主任", handler_name="李娜",
        case_subject="医院收费问题", resolve_due=date(2026, 3, 20), limit=_LIMIT,
        reason="已逾期",
        days_overdue=3, org=SAMPLE_ORGANISATION)  # fmt: skip


def _supervisor_digest() -> Context:
    rows = [
        DigestRow(_REF, "investigating", "李娜", date(2026, 3, 20), overdue=True),
        DigestRow("LO-2026-000124", "routed", None, date(2026, 4, 1), overdue=False,
                  kind="calendar"),
    ]
    return c.supervisor_digest_context(
        supervisor_name="陈主任", digest_date=date(2026, 3, 23), rows=rows, new_count=1,
        due_soon_count=0, overdue_count=1, org=SAMPLE_ORGANISATION)  # fmt: skip


def _authority_referral() -> Context:
    return c.authority_referral_context(
        authority_name="上海市民政局", reference=_REF, received_on=date(2026, 3, 2),
        category="收费", matter="投诉人反映合作医院在义诊活动中收取挂号费。",
        complainant=ComplainantDetails(name="王小明"), health_details=None,
        answer_due=date(2026, 4, 3), reply_address=_REPLY, org=SAMPLE_ORGANISATION,
        answer_limit=Limit(22))  # fmt: skip


def _authority_follow_up() -> Context:
    return c.authority_follow_up_context(
        authority_name="上海市民政局", reference=_REF, referred_on=date(2026, 3, 5),
        answer_due=date(2026, 4, 3), reply_address=_REPLY, org=SAMPLE_ORGANISATION,
        answer_limit=Limit(20), overdue=True)  # fmt: skip


def _hotline_callback_list() -> Context:
    rows = [CallbackRow(_REF, "王小明", "13800000000", "邮件无法送达", date(2026, 3, 4))]
    return c.hotline_callback_list_context(
        list_date=date(2026, 3, 3), rows=rows, org=SAMPLE_ORGANISATION)


def _command_refusal() -> Context:
    return c.command_refusal_context(
        command="#办结", reason="缺少处理结果", reference=_REF, commands_help=_COMMANDS,
        org=SAMPLE_ORGANISATION)  # fmt: skip


def _command_done() -> Context:
    return c.command_done_context(
        command="#接受", result="案件已由您承办。", reference=_REF, org=SAMPLE_ORGANISATION)


def _message_refused() -> Context:
    return c.message_refused_context(
        original_subject="投诉材料（含视频）",
        reason="邮件超过 50 MB 的大小上限 / larger than 50 MB", org=SAMPLE_ORGANISATION)


def _case_closed() -> Context:
    return c.case_closed_context(
        reference=_REF, complainant_name="王小明", how="out_of_scope",
        reason="医保报销政策问题请向区医保中心反映。", merged_into=None, reply_address=_REPLY,
        org=SAMPLE_ORGANISATION)  # fmt: skip


def _interim_reply() -> Context:
    return c.interim_reply_context(
        reference=_REF, complainant_name="王小明", text="我们已调取通话录音，\n正在核实。",
        handler_name="李娜", reply_address=_REPLY, org=SAMPLE_ORGANISATION)  # fmt: skip


def _appointment() -> Context:
    return c.appointment_context(
        reference=_REF, complainant_name="王小明", appointment_date=date(2026, 3, 10),
        details="上午10点，本中心二楼接待室", reply_address=_REPLY,
        org=SAMPLE_ORGANISATION)  # fmt: skip


def _complainant_wrote() -> Context:
    return c.complainant_wrote_context(
        reference=_REF, staff_name="李娜", case_subject="挂号费",
        text="我又想起一件事：\n收据丢了。", attachments=1, via=_REF, status="investigating",
        commands_help=_COMMANDS, org=SAMPLE_ORGANISATION)  # fmt: skip


def _authority_answered() -> Context:
    return c.authority_answered_context(
        reference=_REF, staff_name="李娜", case_subject="挂号费",
        authority_name="区卫生健康委员会", sender="xinfang@wsjkw.example.gov.cn",
        answer="经核查，该院已退还多收费用并整改。", verified=True, why="",
        commands_help=_COMMANDS, org=SAMPLE_ORGANISATION)  # fmt: skip


def _triage_new_case() -> Context:
    return c.triage_new_case_context(
        reference=_REF, case_subject="挂号费", channel="email", received_on=date(2026, 3, 2),
        text="义诊活动收取挂号费。", resolve_due=date(2026, 3, 20),
        org=SAMPLE_ORGANISATION)  # fmt: skip


def _calendar_missing() -> Context:
    year = c.MissingYear(
        2027, '[calendar.years."2027"]',
        "国务院办公厅通常此时已发布2027年部分节假日安排的通知，但日历数据中还没有2027年。",
        "The State Council has usually published the 2027 holiday notice by now.")
    return c.calendar_missing_context(
        today=date(2026, 11, 2), years=[year], alert_to="it@example.org",
        org=SAMPLE_ORGANISATION)


def _monthly_summary() -> Context:
    lines = (SummaryLine("收到案件", "Cases received", "42", "37"),
             SummaryLine("按时办结率", "Resolved on time", "92.9% (26/28)", "88.0% (22/25)"),
             SummaryLine("新登记违诺", "Violations recorded", "2", "0"))
    summary = MonthSummary(date(2026, 10, 1), date(2026, 9, 1), lines, 3, date(2026, 11, 1))
    return monthly_summary_context(summary=summary, director_to="director@example.org",
                                   org=SAMPLE_ORGANISATION)


def _progress_answer() -> Context:
    words = c.Plain(
        reference=_REF, stage="authority",
        status=("已报告有关行政机关，等待其处理结果",
                "Reported to the administrative authority; waiting for its answer"),
        body=("上海市卫生健康委员会（行政机关，由本中心依规报告）",
              "上海市卫生健康委员会 (administrative authority; reported by us)"),
        committed=("承诺 15 个工作日内答复，预计 2026年3月27日 前",
                   "committed to answer within 15 working days, expected by 27 March 2026"),
        waiting_for=("行政机关的处理结果", "the administrative authority's answer"),
        steps=((date(2026, 3, 2), "已受理登记，正在确定承办部门",
                "Registered; a department is being chosen"),
               (date(2026, 3, 4), "已报告有关行政机关，等待其处理结果",
                "Reported to the administrative authority; waiting for its answer")),
        received_on=date(2026, 3, 2))
    return c.progress_answer_context(
        reference=_REF, complainant_name="王小明", progress=words,
        progress_url="https://tousu.example.org/public/progress", reply_address=_REPLY,
        org=SAMPLE_ORGANISATION)  # fmt: skip


SAMPLE_CONTEXTS: dict[str, Callable[[], Context]] = {
    "monthly_summary": _monthly_summary,
    "calendar_missing": _calendar_missing,
    "acknowledgement": _acknowledgement,
    "missing_material": _missing_material,
    "clock_started": _clock_started,
    "routed_internally": _routed_internally,
    "referred_to_authority": _referred_to_authority,
    "extension": _extension,
    "outcome": _outcome,
    "satisfaction_survey": _satisfaction_survey,
    "assignment": _assignment,
    "handler_reminder": _handler_reminder,
    "supervisor_escalation": _supervisor_escalation,
    "supervisor_digest": _supervisor_digest,
    "authority_referral": _authority_referral,
    "authority_follow_up": _authority_follow_up,
    "hotline_callback_list": _hotline_callback_list,
    "command_refusal": _command_refusal,
    "command_done": _command_done,
    "message_refused": _message_refused,
    "case_closed": _case_closed,
    "interim_reply": _interim_reply,
    "appointment": _appointment,
    "complainant_wrote": _complainant_wrote,
    "authority_answered": _authority_answered,
    "triage_new_case": _triage_new_case,
    "progress_answer": _progress_answer,
}
