"""The public pages' words: Simplified Chinese first, English second (the same ``cx_lang``
cookie as the console, set by ``/lang/{zh,en}``)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "skip": ("跳到正文", "Skip to content"),
    "nav": ("公共服务", "Public services"),
    "complain": ("网上投诉", "Complain online"),
    "commitments": ("服务承诺", "Our commitments"),
    "progress": ("查询进度", "Check progress"),
    "switch_lang": ("English", "中文"),
    "complain_intro": ("请如实填写。带 * 的为必填项。提交后页面会显示受理编号；留有邮箱的，"
                       "我们同时发送受理回执。",
                       "Please tell us what happened. Fields marked * are required. After "
                       "sending you see your reference number; with an email address we "
                       "also mail you an acknowledgement."),
    "about_you": ("您的信息", "About you"),
    "name": ("姓名", "Name"),
    "anonymous": ("匿名投诉（不留姓名）", "Complain anonymously (no name)"),
    "anonymous_hint": ("匿名投诉也会受理。不留联系方式时，我们无法告知处理结果，请记下提交后显示的"
                       "编号。", "Anonymous complaints are handled too. Without a contact we "
                       "cannot tell you the outcome: keep the number shown after sending."),
    "email": ("电子邮箱", "Email"),
    "phone": ("电话", "Phone"),
    "contact_hint": ("电话和邮箱至少填写一项（匿名投诉可不填）。",
                     "Give a phone number, an email address or both (optional when "
                     "anonymous)."),
    "complaint": ("投诉内容", "Your complaint"),
    "category": ("投诉类别", "Category"),
    "category_unsure": ("不确定，由工作人员判断", "Not sure: let staff decide"),
    "text": ("事情经过 *", "What happened *"),
    "text_hint": ("请写明时间、地点、涉及的人员或项目，以及您的诉求。",
                  "When and where it happened, who or which service was involved, and what "
                  "you ask for."),
    "files": ("附件（可选）", "Attachments (optional)"),
    "files_hint": ("最多 {count} 个文件，每个不超过 {each}，合计不超过 {total}。",
                   "Up to {count} files, each at most {each}, {total} in all."),
    "consents": ("同意与告知", "Consent and notice"),
    "consent_health": ("我同意贵中心在处理本投诉时，将其中的健康信息（如病情、诊疗记录）提供给"
                       "有关主管部门（单独同意，可不勾选）",
                       "I agree that the health information in this complaint (illness, "
                       "treatment records) may be passed to the competent authority while "
                       "handling it (separate consent; you may leave it unticked)"),
    "consent_health_hint": ("依据《个人信息保护法》第二十九条，处理敏感个人信息须取得您的单独同意。"
                            "不同意也会受理，只是转交主管部门时不附健康信息。",
                            "Under art. 29 of the Personal Information Protection Law, "
                            "sensitive personal information needs your separate consent. "
                            "Without it the complaint is still handled; a referral to an "
                            "authority then leaves the health details out."),
    "privacy_read": ("我已阅读下方的个人信息处理告知 *", "I have read the privacy notice below *"),
    "honeypot": ("请勿填写此项", "Leave this empty"),
    "send": ("提交投诉", "Send the complaint"),
    "privacy": ("个人信息处理告知", "Privacy notice"),
    "errors": ("请修改以下内容后再提交：", "Please correct the following and send again:"),
    "err_text": ("请写明投诉内容。", "Please write what happened."),
    "err_text_long": ("投诉内容不能超过 {n} 个字。", "The complaint is limited to {n} characters."),
    "err_contact": ("请至少留一种联系方式，或选择匿名投诉。",
                    "Give a phone number or an email address, or complain anonymously."),
    "err_email": ("邮箱地址格式不正确。", "The email address does not look right."),
    "err_phone": ("电话号码格式不正确。", "The phone number does not look right."),
    "err_name": ("姓名太长。", "The name is too long."),
    "err_category": ("请从列表中选择类别。", "Choose a category from the list."),
    "err_privacy": ("请阅读并勾选个人信息处理告知。", "Please read and tick the privacy notice."),
    "err_files_count": ("附件最多 {n} 个。", "At most {n} attachments."),
    "err_file_size": ("附件「{name}」超过 {each}。", "The file “{name}” is larger than {each}."),
    "err_files_total": ("附件合计超过 {total}。",
                        "The attachments are larger than {total} in all."),
    "files_again": ("为安全起见，附件需要重新选择。",
                    "For your safety, please choose the files again."),
    "err_token": ("表单已过期（或浏览器未允许本网站使用 Cookie），请检查后重新提交。",
                  "The form had expired (or the browser refuses this site's cookie); "
                  "please check it and send it again."),
    "too_big": ("提交的内容过大", "Too much to send"),
    "too_big_text": ("提交的内容超过 {total}，请减少附件后重试，或将材料发送至 {mailbox}。",
                     "What you sent is larger than {total}; send fewer files, or mail the "
                     "material to {mailbox}."),
    "rate_limited": ("提交过于频繁", "Too many complaints sent"),
    "rate_limited_text": ("同一网络在一小时内提交次数过多，请稍后再试，或拨打热线 {hotline}、"
                          "发送邮件至 {mailbox}。您填写的内容保留在下方。",
                          "Too many complaints came from this network in the last hour. "
                          "Please try later, call {hotline} or mail {mailbox}. What you wrote "
                          "is kept below."),
    "not_accepted": ("未能受理此次提交", "This form could not be accepted"),
    "not_accepted_text": ("表单中有一个应留空的项目被填写了（常见于自动填表软件）。请关闭自动填写后"
                          "重新填写，或拨打热线 {hotline}、发送邮件至 {mailbox}。",
                          "A field that must stay empty was filled in (form-filling software "
                          "often does this). Please fill in the form again without it, call "
                          "{hotline} or mail {mailbox}."),
    "filed": ("投诉已收到", "Your complaint is received"),
    "filed_again": ("这份投诉已经提交过，以下是它的受理编号。",
                    "This complaint was sent before; here is its reference."),
    "reference": ("受理编号", "Reference number"),
    "keep_reference": ("请记下编号，查询进度和补充材料时都要用到。",
                       "Keep this number: you need it to check progress or add material."),
    "verification_code": ("查询码", "Verification code"),
    "ack_mailed": ("受理回执将发送到您填写的邮箱。", "An acknowledgement will be mailed to you."),
    "held": ("投诉已保存，工作人员将尽快处理并告知编号。",
             "Your complaint is saved; staff will process it and tell you its reference."),
    "how_progress": ("查询进度：在「查询进度」页面输入编号和查询码，或发送邮件至 {mailbox}，"
                     "主题写「查询 编号」，或拨打热线 {hotline}。",
                     "Check progress: enter the reference and code on the “Check progress” "
                     "page, mail {mailbox} with “progress REFERENCE” as the subject, or call "
                     "{hotline}."),
    "another": ("再提交一件投诉", "Send another complaint"),
    "commitments_intro": ("本页依据本中心《服务承诺制度》和现行投诉分类规则自动生成，"
                          "规则调整时同步更新。",
                          "This page is generated from our Service Commitment Policy and the "
                          "complaint categories in force; it changes when they change."),
    "what": ("可以投诉的事项与办理时限", "What you can complain about, and our time limits"),
    "col_category": ("类别", "Category"),
    "col_who": ("办理", "Handled by"),
    "col_ack": ("受理", "Acknowledged within"),
    "col_route": ("分办", "Assigned within"),
    "col_resolve": ("办结", "Resolved within"),
    "col_material": ("需要的材料", "What we need"),
    "internal": ("本中心{dept}", "Our {dept}"),
    "referred": ("报告{authority}，由本中心{dept}跟踪并告知结果",
                 "Reported to {authority}; our {dept} follows it and tells you the result"),
    "days_working": ("{n} 个工作日", "{n} working days"),
    "days_calendar": ("{n} 个自然日", "{n} calendar days"),
    "days_note": ("工作日不含周末和法定节假日，含调休上班日；自然日连续计算，最后一日遇休息日顺延至"
                  "下一个工作日。",
                  "Working days leave out weekends and public holidays and include make-up "
                  "working days; calendar days count every day, and a last day on a rest day "
                  "moves to the next working day."),
    "procedure": ("办理程序", "How a complaint is handled"),
    "step_receive": ("收到投诉后，在受理时限内发出受理回执，告知受理编号、办理时限和"
                     "补充材料的方式。",
                     "Within the acknowledgement limit we send an acknowledgement with your "
                     "reference, the time limit and how to add material."),
    "step_material": ("材料不全的，一次性告知需补充的全部内容；补齐后在时限内办结。",
                      "If material is missing we tell you everything that is missing in one "
                      "notice; once complete, the matter is finished within the limit."),
    "step_route": ("属于本中心职责的，由相关部门调查处理；属于行政机关职权的，报告有关主管部门并"
                   "跟踪其答复。", "A matter within our remit is investigated by our department; "
                   "a matter within an administrative authority's powers is reported to that "
                   "authority and its answer followed."),
    "step_result": ("无论哪种情形，都会及时告知您处理结果，并请您评价。",
                    "Either way you are told the result promptly and asked for your feedback."),
    "step_extend": ("重大或复杂事项可延期一次，延期前告知您理由。",
                    "A major or difficult matter may be extended once; you are told why "
                    "beforehand."),
    "channels": ("投诉渠道", "Where to complain"),
    "hotline": ("投诉热线", "Hotline"),
    "mailbox": ("投诉邮箱", "Mailbox"),
    "web_form": ("网上投诉表单", "The online form"),
    "query": ("如何查询进度", "How to check progress"),
    "query_text": ("凭受理编号和受理回执中的查询码在「查询进度」页面查询；"
                   "也可发送邮件至 {mailbox}，"
                   "主题写「查询」或「进度」加编号，或拨打热线 {hotline}。",
                   "With your reference and the verification code from the acknowledgement, "
                   "on the “Check progress” page; or mail {mailbox} with “progress” and the "
                   "reference, or call {hotline}."),
    "breach": ("违反承诺怎么办", "If we break a commitment"),
    "breach_intro": ("工作人员违反服务承诺的，本中心按《服务承诺制度》第七条追究责任：",
                     "A staff member who breaks these commitments is held to account under "
                     "clause 七 of the policy:"),
    "col_clause": ("条款", "Clause"),
    "col_breach": ("情形", "What happened"),
    "col_tier": ("处理", "Consequence"),
    "compensation": ("赔偿 {amount} 元", "compensation of CNY {amount}"),
    "breach_report": ("您可以向投诉热线或投诉邮箱反映，也可以向本中心的业务主管单位反映。",
                      "Tell us through the hotline or the mailbox, or tell the authority that "
                      "supervises us."),
    "no_rules": ("投诉分类规则尚未配置；默认办结时限为 {n} 个工作日。",
                 "No complaint categories are configured; complaints are resolved within "
                 "{n} working days."),
    "not_set": ("（未设置）", "(not set)"),
}


class Say:
    """``say("key", **facts)`` in one language; ``say.pick(zh, en)``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in ("zh", "en") else "zh"
        self._i = 0 if self.lang == "zh" else 1

    def __call__(self, key: str, **facts: object) -> str:
        text = TEXT[key][self._i]
        return text.format(**facts) if facts else text

    def pick(self, zh: str, en: str) -> str:
        return zh if self._i == 0 else en
