"""Every notice, rendered in Chinese, English and both, states its essential facts.

The facts come from the sample data (``notifications.samples``), which is also what the
start-up check and ``templates preview`` render; each expectation below is the fact as
the recipient must read it (reference, dates in the language's form, every item).
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from notifications import contexts as c
from notifications.renderer import RenderedMail, TemplateRenderer
from notifications.samples import SAMPLE_CONTEXTS, SAMPLE_ORGANISATION

REF = "LO-2026-000123"

# notice -> (Chinese facts, English facts); "[REF]" must also be in every case subject.
FACTS: dict[str, tuple[list[str], list[str]]] = {
    "acknowledgement": (
        ["受理编号：" + REF, "2026年3月2日", "15个工作日，不晚于2026年3月20日办结"],
        ["Reference number: " + REF, "2 March 2026", "we will finish by 20 March 2026"],
    ),
    "missing_material": (
        ["1. 收费票据复印件", "2. 就诊日期", "3. 联系电话", "全部材料", "2026年3月16日前",
         "15个工作日内办结"],
        ["1. 收费票据复印件", "2. 就诊日期", "3. 联系电话", "this is everything we need",
         "by 16 March 2026", "within 15 working days"],
    ),
    "monthly_summary": (
        ["2026年10月的投诉处理情况", "收到案件：42（37）", "按时办结率：92.9% (26/28)",
         "共 3 件", "每月一次"],
        ["The complaints of October 2026", "Cases received: 42 (37)",
         "Resolved on time: 92.9% (26/28) (88.0% (22/25))", "3 open case(s)", "once a month"],
    ),
    "progress_answer": (
        ["受理编号 " + REF, "已报告有关行政机关，等待其处理结果", "上海市卫生健康委员会",
         "预计 2026年3月27日 前", "2026年3月4日", "/public/progress"],
        ["reference " + REF, "waiting for its answer", "上海市卫生健康委员会",
         "expected by 27 March 2026", "4 March 2026", "/public/progress"],
    ),
    "calendar_missing": (
        ["2027年部分节假日安排", '[calendar.years."2027"]', "www.gov.cn",
         "complaintd calendar check", "pip install -U chinesecalendar", "每天发送一次"],
        ["www.gov.cn", '[calendar.years."2027"]', "complaintd calendar check",
         "pip install -U chinesecalendar", "once a day"],
    ),
    "clock_started": (
        ["受理编号：" + REF, "材料齐全日期：2026年3月2日",
         "15个工作日，不晚于2026年3月20日办结（按工作日计算"],
        ["Material complete: 2 March 2026", "Reference:         " + REF,
         "15 working days; we will finish by 20 March 2026 (counted in working days"],
    ),
    "routed_internally": (
        ["承办部门：患者服务部", "不晚于2026年3月20日", "内部协调"],
        ["Handled by: 患者服务部", "by 20 March 2026", "inside the organisation"],
    ),
    "referred_to_authority": (
        ["报告机关：上海市民政局", "报告日期：2026年3月5日", "不晚于2026年4月3日"],
        ["Reported to: 上海市民政局", "Date reported: 5 March 2026", "expected by 3 April 2026"],
    ),
    "extension": (
        ["需要向合作医院调取就诊记录。", "原办结期限：2026年3月20日", "新办结期限：2026年4月10日"],
        ["需要向合作医院调取就诊记录。", "Previous time limit: 20 March 2026",
         "New time limit: 10 April 2026"],
    ),
    "outcome": (
        ["已于2026年3月18日办结", "多收的挂号费已于3月18日退还。\n相关志愿者已接受批评教育。"],
        ["finished on 18 March 2026", "多收的挂号费已于3月18日退还。"],
    ),
    "satisfaction_survey": (
        ["5 非常满意", "1 非常不满意", "https://example.org/survey"],
        ["5 very satisfied", "1 very dissatisfied", "https://example.org/survey"],
    ),
    "assignment": (
        ["李娜，您好：", "受理编号：" + REF, "办结期限：2026年3月20日", "类别：收费",
         "- #接受 / #accept", "- #办结 结果 / #resolve result"],
        ["Dear 李娜,", "Reference: " + REF, "Time limit: 20 March 2026", "Category: 收费",
         "- #延期 原因 / #extend reason", "one single notice"],
    ),
    "handler_reminder": (
        ["剩余工作日：2", "办结期限：2026年3月20日"],
        ["Working days left: 2", "Time limit: 20 March 2026"],
    ),
    "supervisor_escalation": (
        ["陈主任，您好：", "承办人：李娜", "升级原因：已逾期", "已逾期3天（自然日）",
         "2026年3月20日（15个工作日"],
        ["Dear 陈主任,", "Handler: 李娜", "Reason: 已逾期", "3 calendar days overdue",
         "20 March 2026 (15 working days"],
    ),
    "supervisor_digest": (
        ["新案件 1 件", "已逾期 1 件", REF, "状态：调查中", "2026年3月20日（按工作日计）（已逾期）",
         "2026年4月1日（按自然日计）", "LO-2026-000124", "承办人：未分派"],
        ["1 new", "1 overdue", REF, "Status: investigating",
         "20 March 2026 (in working days) (overdue)", "1 April 2026 (in calendar days)",
         "LO-2026-000124", "Handler: not assigned"],
    ),
    "authority_referral": (
        ["上海市民政局：", "本中心受理编号：" + REF, "收到日期：2026年3月2日",
         "投诉人反映合作医院在义诊活动中收取挂号费。", "姓名：王小明",
         "2026年4月3日（报告后22个工作日"],
        ["To 上海市民政局,", "Our reference: " + REF, "Date received: 2 March 2026",
         "投诉人反映合作医院在义诊活动中收取挂号费。", "Name: 王小明", "by 3 April 2026"],
    ),
    "authority_follow_up": (
        ["2026年3月5日", "受理编号 " + REF, "2026年4月3日（报告后20个工作日", "函复期限已过"],
        ["On 5 March 2026", "our reference " + REF, "answer by 3 April 2026 (20 working days",
         "the date for the answer has passed"],
    ),
    "hotline_callback_list": (
        ["受理编号：" + REF, "电话：13800000000", "原因：邮件无法送达", "回访期限：2026年3月4日"],
        ["Reference: " + REF, "Phone: 13800000000", "Call by: 4 March 2026"],
    ),
    "command_refusal": (
        ["指令：#办结", "原因：缺少处理结果", "没有任何改动"],
        ["Command: #办结", "Reason: 缺少处理结果", "Nothing on the case was changed"],
    ),
    "command_done": (
        ["指令：#接受", "结果：案件已由您承办。"],
        ["Command: #接受", "Result: 案件已由您承办。"],
    ),
    "message_refused": (
        ["投诉材料（含视频）", "50 MB", "尚未登记为投诉"],
        ["投诉材料（含视频）", "50 MB", "not been registered"],
    ),
    # the whole life of a case (issue 13)
    "case_closed": (
        ["不属于本中心的受理范围", "医保报销政策问题请向区医保中心反映。"],
        ["outside what our organisation handles", "医保报销政策问题请向区医保中心反映。"],
    ),
    "interim_reply": (
        ["承办人李娜答复如下", "我们已调取通话录音，\n正在核实。", "仍在办理中"],
        ["handling it, 李娜, writes", "我们已调取通话录音，\n正在核实。", "still being handled"],
    ),
    "appointment": (
        ["预约日期：2026年3月10日", "上午10点，本中心二楼接待室"],
        ["Date: 10 March 2026", "上午10点，本中心二楼接待室"],
    ),
    "complainant_wrote": (
        ["李娜，您好：", "状态：调查中", "附件：1 个", "我又想起一件事：\n收据丢了。",
         "- #接受 / #accept"],
        ["Dear 李娜,", "Status: investigating", "Attachments: 1", "收据丢了。",
         "- #接受 / #accept"],
    ),
    "authority_answered": (
        ["李娜，您好：", "区卫生健康委员会 已答复", "经核查，该院已退还多收费用并整改。",
         "#转告 —— 将上述答复原文"],
        ["Dear 李娜,", "区卫生健康委员会 answered our referral",
         "经核查，该院已退还多收费用并整改。", "Nothing is sent to the complainant until"],
    ),
    "triage_new_case": (
        ["受理编号：" + REF, "收到日期：2026年3月2日", "办结期限：2026年3月20日",
         "义诊活动收取挂号费。"],
        ["Reference: " + REF, "Received: 2 March 2026", "Time limit: 20 March 2026",
         "义诊活动收取挂号费。"],
    ),
}
NO_REFERENCE = {"supervisor_digest", "hotline_callback_list", "message_refused",
                "calendar_missing", "monthly_summary"}
SUBJECT_DATES = {"supervisor_digest": ("2026年3月23日", "23 March 2026"),
                 "hotline_callback_list": ("2026年3月3日", "3 March 2026"),
                 "calendar_missing": ("2026年11月2日", "2 November 2026"),
                 "monthly_summary": ("2026年11月1日", "1 November 2026")}  # fmt: skip


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


def render(renderer: TemplateRenderer, notice: str, lang: str) -> RenderedMail:
    return renderer.render(notice, lang, SAMPLE_CONTEXTS[notice]())


def test_every_notice_has_its_facts_listed() -> None:
    assert sorted(FACTS) == sorted(SAMPLE_CONTEXTS)


@pytest.mark.parametrize("notice", sorted(FACTS))
def test_chinese_notice_states_its_facts(renderer: TemplateRenderer, notice: str) -> None:
    mail = render(renderer, notice, "zh")

    for fact in FACTS[notice][0]:
        assert fact in mail.text, f"{notice}/zh text lacks {fact!r}"
    _check_subject(notice, mail.subject, 0)
    assert "This message" not in mail.text  # no English in the Chinese form
    assert mail.text.rstrip().endswith(SAMPLE_ORGANISATION.name)


@pytest.mark.parametrize("notice", sorted(FACTS))
def test_english_notice_states_its_facts(renderer: TemplateRenderer, notice: str) -> None:
    mail = render(renderer, notice, "en")

    for fact in FACTS[notice][1]:
        assert fact in mail.text, f"{notice}/en text lacks {fact!r}"
    _check_subject(notice, mail.subject, 1)
    assert "此邮件由系统自动发送" not in mail.text
    assert mail.text.rstrip().endswith(SAMPLE_ORGANISATION.name_en)


@pytest.mark.parametrize("notice", sorted(FACTS))
def test_bilingual_notice_is_chinese_then_english_in_both_parts(
    renderer: TemplateRenderer, notice: str
) -> None:
    mail = render(renderer, notice, "bilingual")
    zh_fact, en_fact = FACTS[notice][0][0], FACTS[notice][1][0]

    assert mail.text.index(zh_fact) < mail.text.index("English")
    assert mail.text.index("English") < mail.text.rindex(en_fact)
    assert mail.html is not None
    assert mail.html.index('lang="zh-CN"') < mail.html.index('<div lang="en">')
    zh_subject, en_subject = render(renderer, notice, "zh"), render(renderer, notice, "en")
    if notice != "acknowledgement":  # its bilingual subject names the reference once
        assert mail.subject == f"{zh_subject.subject} / {en_subject.subject}"
    assert mail.subject.index(zh_subject.subject[:4]) < mail.subject.index(en_subject.subject[:4])


@pytest.mark.parametrize("notice", sorted(FACTS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_part_carries_the_same_facts_escaped(
    renderer: TemplateRenderer, notice: str, lang: str
) -> None:
    mail = render(renderer, notice, lang)

    assert mail.html is not None and mail.html.startswith("<!DOCTYPE html>")
    first_fact = FACTS[notice][0 if lang == "zh" else 1][0]
    value = re.sub(r"^\d+\. ", "", first_fact.split("：")[-1].split(": ")[-1])
    assert value in mail.html


def test_multi_line_text_keeps_its_lines_in_html_and_is_escaped(
    renderer: TemplateRenderer,
) -> None:
    context = SAMPLE_CONTEXTS["outcome"]()
    context["outcome"] = "第一行 <script>alert(1)</script>\n第二行 & more"

    mail = renderer.render("outcome", "zh", context)

    assert mail.html is not None
    assert "第一行 &lt;script&gt;alert(1)&lt;/script&gt;<br>\n第二行 &amp; more" in mail.html
    assert "<script>" not in mail.html
    assert "第一行 <script>alert(1)</script>\n第二行 & more" in mail.text


def test_missing_material_refuses_an_empty_list() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        c.missing_material_context(
            reference=REF, complainant_name=None, items=[], reply_by=None, limit=c.Limit(15),
            reply_address="a@example.org", org=SAMPLE_ORGANISATION)  # fmt: skip


def test_authority_letter_without_shared_details_says_they_are_withheld(
    renderer: TemplateRenderer,
) -> None:
    context = SAMPLE_CONTEXTS["authority_referral"]()
    context.update(complainant=None, health_details=None, answer_due=None)

    zh = renderer.render("authority_referral", "zh", context).text
    en = renderer.render("authority_referral", "en", context).text

    assert "投诉人个人信息依规不予提供" in zh and "王小明" not in zh
    assert "personal details are not shared" in en and "健康" not in zh
    assert "恳请将处理情况函复本中心" in zh


def test_optional_dates_are_left_out_not_blank(renderer: TemplateRenderer) -> None:
    context = SAMPLE_CONTEXTS["missing_material"]()
    context["reply_by"] = None
    text = renderer.render("missing_material", "zh", context).text
    assert "前提交" not in text and "None" not in text

    referred = SAMPLE_CONTEXTS["referred_to_authority"]()
    referred["answer_due"] = None
    text = renderer.render("referred_to_authority", "en", referred).text
    assert "expected by" not in text and "None" not in text


def test_digest_without_rows_says_none(renderer: TemplateRenderer) -> None:
    context = c.supervisor_digest_context(
        supervisor_name="陈主任", digest_date=date(2026, 3, 23), rows=[], new_count=0,
        due_soon_count=0, overdue_count=0, org=SAMPLE_ORGANISATION)  # fmt: skip

    assert "（无）" in renderer.render("supervisor_digest", "zh", context).text
    assert "(none)" in renderer.render("supervisor_digest", "en", context).text


def _check_subject(notice: str, subject: str, index: int) -> None:
    assert "\n" not in subject and subject == subject.strip()
    if notice in SUBJECT_DATES:
        assert SUBJECT_DATES[notice][index] in subject
    elif notice not in NO_REFERENCE:
        assert f"[{REF}]" in subject
