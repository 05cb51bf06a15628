"""Understanding real-world mail, end to end through the real Dovecot into cases: Chinese
charsets, HTML, forwarded mail, attachments and links, machine mail, bounces of our own
mail, threading of replies, acknowledgement limits and authentication results."""

from __future__ import annotations

import base64
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from casework.models import Case, IngestedItem, Message
from casework.status import CaseStatus
from casework.transitions import transition
from complaintd.app import App
from intake.ledger import Outcome
from notifications.models import OutboxMail
from tests.test_intake_support import complaint, count, imap_box, make_app


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str, imap_account: Any) -> App:
    return make_app(tmp_path, sqlite_url, [imap_box(imap_account)],
                    intake={"acknowledgements_per_sender_per_day": 2})


def ingest(app: App, imap: Any, *mails: bytes) -> list[Outcome]:
    for raw in mails:
        imap.append("INBOX", raw)
    outcomes, errors = app.poll_mail()
    assert errors == []
    return outcomes


def only_case(app: App) -> Case:
    with app.session_factory() as session:
        case = session.scalars(select(Case)).one()
        _ = [m.attachments for m in case.messages], case.events, case.complainant
        return case


GBK_MAIL = (
    "From: =?gb2312?B?{name}?= <li@qq.com>\r\n"
    "Subject: =?gb2312?B?{subject}?=\r\n"
    "Message-ID: <gbk-1@qq.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=gb2312\r\n"
    "Content-Transfer-Encoding: 8bit\r\n\r\n"
)


def test_gb2312_label_on_gbk_text_and_raw_8bit_headers(app: App, imap_account: Any) -> None:
    # 镕 and 喆 are GBK, not GB2312: policy.default would turn them into U+FFFD.
    name = base64.b64encode("朱镕".encode("gbk")).decode()
    subject = base64.b64encode("投诉：王喆医生".encode("gbk")).decode()
    body = "王喆医生拒绝开具证明。".encode("gbk")
    raw = GBK_MAIL.format(name=name, subject=subject).encode() + body
    raw8 = (b"From: li@qq.com\r\nMessage-ID: <gbk-2@qq.com>\r\nSubject: "
            + "撤回：投诉镕".encode("gbk") + b"\r\nContent-Type: text/plain\r\n\r\n"
            + "内容".encode("gbk"))
    ingest(app, imap_account, raw)
    imap_account.deliver(raw8)  # raw 8-bit headers: APPEND may refuse, LDA takes them
    ingest(app, imap_account)
    with app.session_factory() as session:
        cases = session.scalars(select(Case).order_by(Case.id)).all()
        texts = [(c.subject, c.summary, (c.complainant.name if c.complainant else "") or "")
                 for c in cases]
    assert texts[0] == ("投诉：王喆医生", "王喆医生拒绝开具证明。", "朱镕")
    assert texts[1][:2] == ("撤回：投诉镕", "内容")
    assert all("\ufffd" not in "".join(t) for t in texts)


def test_unknown_wrong_and_missing_charsets_nul_and_surrogates(app: App,
                                                               imap_account: Any) -> None:
    wrong = (b"From: a@163.com\r\nSubject: x1\r\nMessage-ID: <w1@163.com>\r\n"
             b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\n" + "医院乱收费".encode("gbk"))
    unknown = (b"From: b@163.com\r\nSubject: x2\r\nMessage-ID: <w2@163.com>\r\n"
               b"Content-Type: text/plain; charset=x-unknown-cn\r\n\r\n" + "拖延救助".encode())
    nul = (b"From: c@163.com\r\nSubject: x3\x00\r\nMessage-ID: <w3@163.com>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nab\x00c \xed\xa0\x80 end")
    outcomes = ingest(app, imap_account, wrong, unknown)
    imap_account.deliver(nul)  # a NUL byte: delivered like a server would
    outcomes += ingest(app, imap_account)
    assert [o.kind for o in outcomes] == ["case"] * 3
    with app.session_factory() as session:
        summaries = list(session.scalars(select(Case.summary).order_by(Case.id)))
    assert summaries[0] == "医院乱收费" and summaries[1] == "拖延救助"
    # Dovecot stores a NUL as 0x80 (invalid UTF-8): what the database gets has neither.
    assert "\x00" not in summaries[2] and summaries[2].startswith("ab")
    assert summaries[2].endswith("end")


def test_rfc2047_and_rfc2231_attachment_names_stored_once_by_hash(app: App,
                                                                   imap_account: Any) -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.cn"
    msg["Subject"] = "附件两份"
    msg.set_content("见附件", charset="utf-8")
    pdf = b"%PDF-1.4 same bytes"
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="../病历 一.pdf")
    raw = bytes(msg).replace(b"\n", b"\r\n")
    ingest(app, imap_account, raw)
    case = only_case(app)
    (attachment,) = case.messages[0].attachments  # the same file again, RFC 2231 named:
    assert attachment.filename == "病历 一.pdf"
    assert app.raw_store.get(attachment.sha256) == pdf
    rfc2231 = (
        b"From: a@example.cn\r\nSubject: x\r\nMessage-ID: <r2231@x>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n--B\r\n"
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''%E8%AF%81%E6%98%8E%2Fa.pdf\r\n\r\n"
        + base64.b64encode(pdf) + b"\r\n--B--\r\n")
    ingest(app, imap_account, rfc2231)
    with app.session_factory() as session:
        names = sorted(session.scalars(select(Message).where(
            Message.subject == "x", Message.direction == "in")).one().attachments,
            key=lambda a: a.id)
        assert [(a.filename, a.sha256) for a in names] == [("a.pdf", attachment.sha256)]


def test_html_only_becomes_text_and_sanitised_html(app: App, imap_account: Any) -> None:
    msg = EmailMessage()
    msg["From"] = "h@163.com"
    msg["Subject"] = "网页邮件"
    msg.set_content("<html><head><style>p{color:red}</style></head><body>"
                    "<p onclick='steal()'>医院&nbsp;拒收</p><script>alert(1)</script>"
                    "<img src='cid:img1'><a href='javascript:evil()'>链接</a></body></html>",
                    subtype="html", charset="utf-8")
    ingest(app, imap_account, bytes(msg))
    message = only_case(app).messages[0]
    assert message.body_text.split() == ["医院", "拒收", "链接"]
    html = message.body_html or ""
    assert "医院" in html and "<script" not in html and "onclick" not in html
    assert "javascript:" not in html and 'src="cid:img1"' in html


def test_forwarded_mail_inline_image_and_tnef(app: App, imap_account: Any) -> None:
    inner = EmailMessage()
    inner["From"] = "王医生 <doctor@hospital.cn>"
    inner["Subject"] = "关于您的申请"
    inner["Date"] = "Mon, 23 Nov 2026 10:00:00 +0800"
    inner.set_content("您的申请不符合条件。", charset="utf-8")
    outer = EmailMessage()
    outer["From"] = "zhang@example.cn"
    outer["Subject"] = "转发: 关于您的申请"
    outer.set_content("医院这样回复我，请帮忙。", charset="utf-8")
    outer.add_related(b"\x89PNG fake", maintype="image", subtype="png", cid="<img1@x>")
    outer.make_mixed()
    outer.attach(_rfc822(inner))
    outer.add_attachment(b"\x78\x9f\x3e\x22 tnef", maintype="application", subtype="ms-tnef",
                         filename="winmail.dat")
    ingest(app, imap_account, outer.as_bytes(policy=policy.SMTP))
    case = only_case(app)
    assert "医院这样回复我" in case.summary and "您的申请不符合条件。" in case.summary
    assert "From: 王医生 <doctor@hospital.cn>" in case.summary
    kinds = sorted(a.content_type for a in case.messages[0].attachments)
    assert kinds == ["application/ms-tnef", "image/png"]


def _rfc822(inner: EmailMessage) -> EmailMessage:
    part = EmailMessage()
    part.set_content(inner)
    return part


def test_large_file_links_flag_the_case(app: App, imap_account: Any) -> None:
    body = ("从QQ邮箱发来的超大附件\n病历.zip (1.2G, 2026年12月24日 10:00 到期)\n"
            "进入下载页面：https://wx.mail.qq.com/ftn/download?func=3&k=abc123&key=x\n")
    ingest(app, imap_account, complaint(1, body=body))
    case = only_case(app)
    assert case.needs_attention
    (event,) = [e for e in case.events if e.kind == "large_file_links"]
    assert event.details["links"] == ["https://wx.mail.qq.com/ftn/download?func=3&k=abc123&key=x"]


def test_authentication_results_recorded_never_used_to_drop(
        app: App, imap_account: Any, tmp_path: Path, sqlite_url: str) -> None:
    raw = complaint(1, Authentication_Results=(
        "mx.example.org; dkim=fail header.d=qq.com; spf=softfail smtp.mailfrom=qq.com; "
        "dmarc=fail header.from=qq.com"))
    outcomes = ingest(app, imap_account, raw)
    assert [o.kind for o in outcomes] == ["case"]
    case = only_case(app)
    assert case.messages[0].authentication == "dkim=fail spf=softfail dmarc=fail"
    # Shown to staff with the case.
    from click.testing import CliRunner

    from complaintd.cli import main
    from tests.test_imap_intake import _config_file

    config = _config_file(tmp_path, sqlite_url, [imap_box(imap_account)])
    shown = CliRunner().invoke(main, ["--config", str(config), "--lang", "en", "cases", "show",
                                      case.reference], terminal_width=200)
    assert shown.exit_code == 0 and "dkim=fail spf=softfail dmarc=fail" in shown.output


@pytest.mark.parametrize(("headers", "reason"), [
    ({"Auto_Submitted": "auto-replied"}, "Auto-Submitted: auto-replied (RFC 3834)"),
    ({"Precedence": "bulk"}, "Precedence: bulk"),
    ({"List_Id": "<news.example.org>"}, "mailing-list header (List-Id)"),
    ({"X_Autoreply": "yes"}, "X-Autoreply header"),
    ({"X_Autorespond": "yes"}, "X-Autorespond header"),
    ({"Return_Path": "<>"}, "null return path (bounce, RFC 5321)"),
])
def test_machine_mail_is_ignored_with_its_reason(app: App, imap_account: Any,
                                                 headers: dict[str, str], reason: str) -> None:
    outcomes = ingest(app, imap_account, complaint(1, **headers))
    assert [(o.kind, o.detail) for o in outcomes] == [("ignored", reason)]
    assert count(app.session_factory, Case) == 0 and count(app.session_factory, OutboxMail) == 0
    with app.session_factory() as session:
        assert session.scalars(select(IngestedItem.detail)).one() == reason


def test_qq_auto_reply_subject_and_mailer_daemon(app: App, imap_account: Any) -> None:
    auto = complaint(1, subject="自动回复: 您的来信已收到")
    daemon = complaint(2, sender="MAILER-DAEMON@163.com")
    outcomes = ingest(app, imap_account, auto, daemon)
    assert [o.detail for o in outcomes] == ["auto-reply subject (自动回复)", "mailer-daemon sender"]


def test_auto_response_suppress_alone_is_a_case_without_acknowledgement(
        app: App, imap_account: Any) -> None:
    outcomes = ingest(app, imap_account, complaint(1, X_Auto_Response_Suppress="All"))
    assert [o.kind for o in outcomes] == ["case"]
    case = only_case(app)
    assert count(app.session_factory, OutboxMail) == 0
    assert "X-Auto-Response-Suppress: All" in (case.messages[0].classification or "")
    status = next(e for e in case.events if e.kind == "status_changed")
    assert "acknowledgement withheld" in status.details["reason"]


def test_acknowledgements_per_sender_are_capped_daily(app: App, imap_account: Any) -> None:
    ingest(app, imap_account, *[complaint(n, subject=f"不同的投诉{n}") for n in range(3)])
    assert count(app.session_factory, Case) == 3
    assert count(app.session_factory, OutboxMail) == 2  # the cap is 2 in this test


def test_bounce_of_our_acknowledgement_flags_the_case_for_a_phone_call(
        app: App, imap_account: Any) -> None:
    ingest(app, imap_account, complaint(1))
    with app.session_factory() as session:
        ack = session.scalars(select(OutboxMail)).one()
        ack_raw = ack.raw
    dsn = _dsn(ack_raw)
    outcomes = ingest(app, imap_account, dsn)
    assert outcomes[0].kind == "ignored" and "bounce of our mail" in outcomes[0].detail
    case = only_case(app)
    assert case.phone_follow_up and case.needs_attention
    assert [e.kind for e in case.events].count("outbound_bounced") == 1
    assert count(app.session_factory, OutboxMail) == 1  # nobody answers a bounce


def _dsn(original: bytes) -> bytes:
    headers = original.split(b"\r\n\r\n", 1)[0]
    return (b"From: MAILER-DAEMON@mx.qq.com\r\nTo: complaints@example.org\r\n"
            b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.qq.com>\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/report; "
            b"report-type=delivery-status; boundary=R\r\n\r\n--R\r\n"
            b"Content-Type: text/plain\r\n\r\nmailbox full\r\n--R\r\n"
            b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.qq.com\r\n\r\n"
            b"Final-Recipient: rfc822; zhang@example.cn\r\nAction: failed\r\nStatus: 5.2.2\r\n"
            b"\r\n--R\r\nContent-Type: text/rfc822-headers\r\n\r\n" + headers + b"\r\n--R--\r\n")


def test_reply_threads_with_a_mangled_reference_and_strips_the_quote(
        app: App, imap_account: Any) -> None:
    ingest(app, imap_account, complaint(1))
    reference = only_case(app).reference
    mangled = reference.replace("-", "－")  # full-width dashes from a Chinese IME
    reply = complaint(2, subject=f"回复：【{mangled}】", body=(
        "补充：收据照片见附件。\n\n------------------ 原始邮件 ------------------\n"
        "发件人: 投诉受理中心\n您的投诉已受理。"))
    outcomes = ingest(app, imap_account, reply)
    assert [(o.kind, o.reference) for o in outcomes] == [("follow_up", reference)]
    case = only_case(app)
    assert case.messages[-1].body_text == "补充：收据照片见附件。"


def test_reply_to_our_acknowledgement_by_message_id_moves_awaiting_material_on(
        app: App, imap_account: Any) -> None:
    ingest(app, imap_account, complaint(1))
    with app.session_factory.begin() as session:
        case = session.scalars(select(Case)).one()
        ack_id = next(m.message_id for m in case.messages if m.direction == "out")
        if case.status != CaseStatus.AWAITING_MATERIAL:
            transition(case, CaseStatus.AWAITING_MATERIAL, actor="staff:test", at=case.updated_at,
                       reason="the receipt is missing")
    reply = complaint(2, subject="Re: 材料", In_Reply_To=ack_id or "", body="收据已补上。")
    outcomes = ingest(app, imap_account, reply)
    assert [o.kind for o in outcomes] == ["follow_up"]
    case = only_case(app)
    assert case.status == CaseStatus.ROUTED
    moved = [e for e in case.events if e.kind == "status_changed"][-1]
    assert "waited for material" in moved.details["reason"]


def test_stranger_quoting_a_reference_gets_a_new_linked_case(app: App,
                                                             imap_account: Any) -> None:
    ingest(app, imap_account, complaint(1))
    reference = only_case(app).reference
    outcomes = ingest(app, imap_account, complaint(2, subject=f"Re: {reference}",
                                                    sender="stranger@example.com"))
    assert outcomes[0].kind == "case" and outcomes[0].reference != reference
    with app.session_factory() as session:
        new = session.scalars(select(Case).where(Case.reference == outcomes[0].reference)).one()
        assert any(e.kind == "linked_for_review" and e.details["reference"] == reference
                   for e in new.events)


@pytest.mark.parametrize("batched", [True, False])
def test_the_daily_cap_counts_tagged_addresses_as_one_mailbox(
        app: App, imap_account: Any, batched: bool) -> None:
    senders = ["zhang@example.cn", "zhang+a@example.cn", "Zhang+b@example.cn"]
    mails = [complaint(n, subject=f"不同的投诉{n}", sender=s) for n, s in enumerate(senders)]
    if batched:
        ingest(app, imap_account, *mails)  # one fetched batch: counted before, kept up
    else:
        for raw in mails:
            ingest(app, imap_account, raw)
    assert count(app.session_factory, Case) == 3
    assert count(app.session_factory, OutboxMail) == 2  # the cap is 2 in this test


def test_a_link_in_the_display_name_is_not_repeated_in_the_greeting(
        app: App, imap_account: Any) -> None:
    msg = complaint(1).replace(b"From: =?utf-8?b?5byg5YWI55Sf?= <zhang@example.cn>",
                               b"From: \"Win big at http://spam.example/x www.spam.cn\" "
                               b"<zhang@example.cn>")
    assert b"spam.example" in msg
    ingest(app, imap_account, msg)
    case = only_case(app)
    assert case.complainant is not None and case.complainant.name == "Win big at"
    with app.session_factory() as session:
        ack = session.scalars(select(OutboxMail)).one()
        assert b"spam.example" not in ack.raw and b"www.spam.cn" not in ack.raw
