"""The console's one mail: the one-time link to set a password, through the outbox (so it
is sent, retried and recorded like every other mail)."""

from __future__ import annotations

from datetime import datetime, timedelta

from jinja2 import Environment, FileSystemLoader
from sqlalchemy.orm import Session

from notifications.models import OutboxMail
from notifications.outbox import MailIdentity, queue_mail
from web.accounts import sign_in_link_token
from web.models import StaffUser
from web.plumbing import TEMPLATES

KIND = "staff_sign_in_link"
# Plain text mail: no HTML escaping (it is no HTML), and nothing in it comes from a
# complainant.
_env = Environment(loader=FileSystemLoader(TEMPLATES / "mail"), autoescape=False,
                   keep_trailing_newline=True)


def sign_in_link(user: StaffUser, *, secret: str, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/set-password/{sign_in_link_token(user, secret)}"


def queue_sign_in_link(session: Session, user: StaffUser, *, secret: str, base_url: str,
                       identity: MailIdentity, organisation: str, age: timedelta,
                       now: datetime) -> OutboxMail:
    link = sign_in_link(user, secret=secret, base_url=base_url)
    text = _env.get_template("sign_in_link.txt").render(
        name=user.display_name, staff_id=user.staff_id, link=link,
        hours=int(age.total_seconds() // 3600), org=organisation)
    return queue_mail(
        session, dedup_key=f"{KIND}:{user.staff_id}:{now.isoformat()}", case_id=None,
        kind=KIND, recipient=user.email, recipient_name=user.display_name,
        subject="投诉工作台：设置密码 / Complaints console: set your password", text=text,
        html=None, identity=identity, now=now, auto_submitted="auto-generated")
