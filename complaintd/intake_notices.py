"""Mail intake's own notice: "your mail was too large for us", queued through the outbox.

NOTE for the notifications owner (issue 6): this text is fixed here until a
``message_refused`` template exists; ``RefusalNotifier`` is the port intake calls
(``intake.ledger.RefusalNotice``), so swapping in a rendered template changes nothing else.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy.orm import Session

from intake.mail import parse_mail
from notifications.outbox import InvalidRecipient, MailIdentity, queue_mail

log = logging.getLogger("complaintd.intake")

KIND = "message_refused"
_TEXT = """您好：

您发送至本中心投诉举报邮箱的邮件（主题：{subject}）过大，超过了邮箱的大小上限，系统无法接收，
因此尚未登记为投诉。请将附件压缩、分多封邮件发送，或改用网盘链接后重新发送；
也可以拨打投诉热线由工作人员协助登记。

Your mail to our complaints mailbox (subject: {subject}) was larger than our size
limit and could not be received, so it has not been registered yet. Please send the
files in smaller parts or as a download link, or call the complaints hotline.
"""


class RefusalNotifier:
    """Tells the sender of a refused (oversized) mail, once per message."""

    def __init__(self, identity: MailIdentity) -> None:
        self.identity = identity

    def __call__(self, session: Session, headers: bytes, reason: str, now: datetime) -> None:
        parsed = parse_mail(headers)
        if parsed.machine_reason or not parsed.from_email:
            return  # never answer a machine
        key = hashlib.sha256(headers).hexdigest()[:32]
        subject = parsed.subject or "(无主题)"
        try:
            queue_mail(session, dedup_key=f"refused:{key}", case_id=None, kind=KIND,
                       recipient=parsed.from_email, recipient_name=parsed.from_name or None,
                       subject=f"邮件过大未能接收 / Mail too large: {subject}"[:200],
                       text=_TEXT.format(subject=subject), html=None,
                       identity=self.identity, now=now, in_reply_to=parsed.message_id)
        except InvalidRecipient:
            log.warning("intake: refused mail has no usable sender address; nobody told")
