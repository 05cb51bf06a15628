"""Backscatter (issue 12): how much automatic mail a stranger can make us send.

Real Dovecot in, real aiosmtpd out: mail is appended to the mailbox, the daemon polls it
and sends its outbox, and the caps are read from what the SMTP server received. Every
case is kept whatever the caps withhold, and the timeline (or the quarantine row) says
why its sender was not answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from casework.clock import SHANGHAI, FixedClock
from casework.models import Case, QuarantineItem, StaffThread
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.settings import ConfigError, load_settings, settings_from_dict
from tests.test_intake_support import complaint

START = datetime(2026, 11, 24, 10, tzinfo=SHANGHAI)
ROUTING = Path(__file__).resolve().parents[1] / "config" / "routing.toml"
CAPS = """
[intake]
acknowledgements_per_sender_per_day = 2
acknowledgements_per_domain_per_hour = 3
refusals_per_sender_per_day = 1
auto_replies_per_hour = 5
"""


def settings_text(db_url: str, imap: Any, smtp: Any, extra: str = "") -> str:
    return f"""
[storage]
data_dir = "var"
database_url = "{db_url}"
[[mailbox]]
kind = "imap"
name = "reporting"
host = "{imap.host}"
port = {imap.port}
security = "plain"
username = "{imap.user}"
password = "{imap.password}"
max_message_bytes = 20000
[smtp]
transport = "smtp"
host = "{smtp.host}"
port = {smtp.port}
security = "plain"
from_address = "complaints@example.org"
{CAPS}
{extra}"""


class Desk:
    """One installation with a fixed clock, a real mailbox and a real SMTP server."""

    def __init__(self, tmp_path: Path, db_url: str, imap: Any, smtp: Any,
                 extra: str = "") -> None:
        config = tmp_path / "complaintd.toml"
        config.write_text(settings_text(db_url, imap, smtp, extra), encoding="utf-8")
        self.clock = FixedClock(START)
        self.app = App.build(load_settings(config), self.clock)
        upgrade(self.app.engine)
        self.imap = imap
        self.smtp = smtp

    def take(self, *mails: bytes, batched: bool = True) -> list[str]:
        """Put the mails in the mailbox and poll (all at once, or one poll each); send
        what was queued. The outcomes' kinds."""
        kinds = []
        for group in ([list(mails)] if batched else [[m] for m in mails]):
            for raw in group:
                self.imap.append("INBOX", raw)
            outcomes, errors = self.app.poll_mail()
            assert errors == []
            kinds += [o.kind for o in outcomes]
        sent = self.app.send_outbox()
        assert sent[2] == 0
        return kinds

    def delivered_to(self, *, kind_header: str = "") -> list[str]:
        """Recipients (as the SMTP server saw them) of every mail delivered so far."""
        return [r for m in self.smtp.messages for r in m.rcpt_tos
                if kind_header in str(m.message["Subject"])]

    def events(self, kind: str) -> list[dict[str, Any]]:
        with self.app.session_factory() as session:
            cases = session.scalars(select(Case).order_by(Case.id)).all()
            return [e.details for c in cases for e in c.events if e.kind == kind]

    def cases(self) -> int:
        with self.app.session_factory() as session:
            return len(session.scalars(select(Case.id)).all())


@pytest.fixture
def desk(tmp_path: Path, db_url: str, imap_account: Any, smtp_server: Any) -> Iterator[Desk]:
    d = Desk(tmp_path, db_url, imap_account, smtp_server)
    yield d
    d.app.close()


def mail(n: int, sender: str, **headers: str) -> bytes:
    return complaint(n, subject=f"不同的投诉{n}", sender=sender, **headers)


@pytest.mark.parametrize("batched", [True, False], ids=["one-batch", "one-by-one"])
def test_plus_tags_and_capitals_are_one_sender(desk: Desk, batched: bool) -> None:
    senders = ["Zhang@Example.CN", "zhang+a@example.cn", "ZHANG+b@EXAMPLE.cn", "zhang@example.cn"]
    kinds = desk.take(*[mail(n, s) for n, s in enumerate(senders)], batched=batched)
    assert kinds == ["case"] * 4 and desk.cases() == 4  # every complaint is kept
    acks = desk.delivered_to()
    assert len(acks) == 2  # the daily cap of 2 for the one mailbox behind all four
    assert {a.lower().replace("+a", "").replace("+b", "") for a in acks} == {"zhang@example.cn"}
    withheld = desk.events("acknowledgement_withheld")
    assert len(withheld) == 2
    assert all("daily cap of 2 acknowledgements to this sender" in w["why"] for w in withheld)


@pytest.mark.parametrize("batched", [True, False], ids=["one-batch", "one-by-one"])
def test_a_burst_from_one_domain_is_capped_per_hour(desk: Desk, batched: bool) -> None:
    burst = [mail(n, f"user{n}@Spam.Example") for n in range(5)]
    other = mail(9, "someone@other.example")
    kinds = desk.take(*burst, other, batched=batched)
    assert kinds == ["case"] * 6
    acks = desk.delivered_to()
    assert len([a for a in acks if a.lower().endswith("@spam.example")]) == 3
    assert "someone@other.example" in acks  # another domain is not held up
    withheld = desk.events("acknowledgement_withheld")
    assert len(withheld) == 2
    assert all("hourly cap of 3 acknowledgements to one mail domain" in w["why"]
               for w in withheld)
    # An hour later the domain may be answered again.
    desk.clock.advance(timedelta(minutes=61))
    desk.take(mail(20, "late@spam.example"))
    assert "late@spam.example" in desk.delivered_to()


def test_all_automatic_answers_together_are_capped_per_hour(desk: Desk) -> None:
    kinds = desk.take(*[mail(n, f"p{n}@domain{n}.example") for n in range(7)])
    assert kinds == ["case"] * 7
    assert len(desk.delivered_to()) == 5
    withheld = desk.events("acknowledgement_withheld")
    assert [w["why"] for w in withheld] == \
        ["hourly cap of 5 automatic answers to outsiders reached"] * 2


def test_refusals_of_mail_too_large_one_per_sender_a_day_and_in_the_global_cap(
        desk: Desk) -> None:
    big = "大" * 30_000
    kinds = desk.take(complaint(1, sender="Big@Example.cn", body=big),
                      complaint(2, sender="big+again@example.cn", body=big),
                      complaint(3, sender="big@example.cn", body=big + "再来"))
    assert kinds == ["quarantined"] * 3
    assert [r.lower() for r in desk.delivered_to()] == ["big@example.cn"]
    with desk.app.session_factory() as session:
        reasons = [q.reason for q in session.scalars(select(QuarantineItem)
                                                     .order_by(QuarantineItem.id))]
    assert len(reasons) == 3 and all("over the limit of 20000 bytes" in r for r in reasons)
    assert "sender not told" not in reasons[0]
    assert all("sender not told: daily cap of 1 refusal notice(s) to this sender" in r
               for r in reasons[1:])
    # Refusals count in the global cap: 1 sent, so 4 acknowledgements are left this hour.
    desk.take(*[mail(n, f"p{n}@d{n}.example") for n in range(10, 16)])
    assert len(desk.delivered_to()) == 5
    assert len(desk.events("acknowledgement_withheld")) == 2


def test_refused_commands_are_answered_once_a_day(
        tmp_path: Path, db_url: str, imap_account: Any, smtp_server: Any) -> None:
    desk = Desk(tmp_path, db_url, imap_account, smtp_server,
                extra=f'[routing]\nrules_file = "{ROUTING}"\n')
    try:
        desk.take(mail(1, "patient@example.cn", body="12月1日接线员态度粗暴，挂了我的电话。"))
        with desk.app.session_factory() as session:
            ours = session.scalars(select(StaffThread.message_id)).first()
        assert ours is not None
        # A stranger who learnt the Message-ID of our mail to staff "answers" it, again and
        # again, each time from another tag of the same address.
        forged = [complaint(n, subject="Re: 案件", sender=f"Mallory+{n}@evil.example",
                            body="#办结 已解决", In_Reply_To=ours) for n in range(2, 5)]
        before = len(desk.delivered_to())
        desk.take(*forged, batched=False)
        refusals = [r for r in desk.delivered_to()[before:] if "evil.example" in r.lower()]
        assert len(refusals) == 1
        withheld = desk.events("refusal_withheld")
        assert len(withheld) == 2
        assert all(w["notice"] == "command_refusal" and "daily cap" in w["why"]
                   for w in withheld)
        assert len(desk.events("command_refused")) == 3  # every attempt is on the timeline
    finally:
        desk.app.close()


@pytest.mark.parametrize(("values", "key"), [
    ({"auto_replies_per_hour": 0}, "intake.auto_replies_per_hour"),
    ({"acknowledgements_per_domain_per_hour": "many"},
     "intake.acknowledgements_per_domain_per_hour"),
    ({"refusals_per_sender_per_day": -1}, "intake.refusals_per_sender_per_day"),
    ({"acknowledgements_per_domain_per_hour": 50, "auto_replies_per_hour": 20},
     "intake.acknowledgements_per_domain_per_hour (50) is more than"),
])
def test_the_caps_are_checked_at_start_up_naming_the_key(
        values: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict({"intake": values})
    assert key in str(caught.value)


def test_the_defaults_are_sane() -> None:
    intake = settings_from_dict({}).intake
    # The figures docs/security.md and the example settings state.
    assert (intake.acknowledgements_per_domain_per_hour, intake.refusals_per_sender_per_day,
            intake.auto_replies_per_hour) == (30, 1, 300)

