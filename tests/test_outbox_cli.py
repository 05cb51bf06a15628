"""`complaintd outbox list [--failed]` and `complaintd outbox retry ID`, on a real
installation (settings file, SQLite, migrations) and a real aiosmtpd."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from casework.clock import SHANGHAI
from casework.db import make_engine, make_sessionmaker
from casework.models import Case, Party, TimelineEvent
from casework.status import CaseStatus
from complaintd.cli import main
from notifications.models import OutboxMail, OutboxStatus
from notifications.outbox import MailIdentity, queue_mail
from tests.fixtures.smtp import SmtpServer

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
IDENTITY = MailIdentity("noreply@lifeoasis.example", "投诉受理中心", "tousu@lifeoasis.example",
                        "lifeoasis.example")  # fmt: skip


def install(tmp_path: Path, smtp_port: int) -> Path:
    config = tmp_path / "complaintd.toml"
    config.write_text(
        f'[storage]\ndata_dir = "var"\n\n[smtp]\ntransport = "smtp"\nhost = "127.0.0.1"\n'
        f'port = {smtp_port}\nsecurity = "plain"\ntimeout_seconds = 5\n'
        'retry_base_seconds = 60\n',
        encoding="utf-8",
    )
    assert cli(config, "db", "upgrade").exit_code == 0
    return config


def cli(config: Path, *args: str, lang: str = "zh") -> Result:
    # Wide enough that rich does not fold the cells being checked.
    return CliRunner().invoke(main, ["--config", str(config), "--lang", lang, *args],
                              env={"COLUMNS": "250"})


def seed(config: Path) -> tuple[int, int]:
    """A case with a mail to the complainant and a mail without a case."""
    engine = make_engine(f"sqlite:///{config.parent / 'var' / 'complaintd.sqlite3'}")
    with make_sessionmaker(engine)() as session:
        party = Party(name="张三", email="zhang@example.com", phone="13900001111", created_at=NOW)
        case = Case(reference="LO-2026-000009", status=CaseStatus.ACKNOWLEDGED, channel="email",
                    subject="s", summary="s", language="zh", received_at=NOW,
                    resolve_due=date(2026, 3, 20), complainant=party, created_at=NOW,
                    updated_at=NOW)  # fmt: skip
        session.add(case)
        session.flush()
        ids = [
            queue_mail(session, dedup_key=key, case_id=case_id, kind="outcome",
                       recipient=address, recipient_name=None, subject=f"处理结果 [{key}]",
                       text="正文", html=None, identity=IDENTITY, now=NOW).id
            for key, case_id, address in [("LO-2026-000009", case.id, "zhang@example.com"),
                                          ("digest", None, "chen@lifeoasis.example")]
        ]  # fmt: skip
        session.commit()
    engine.dispose()
    return ids[0], ids[1]


def status_of(config: Path, outbox_id: int) -> OutboxStatus:
    engine = make_engine(f"sqlite:///{config.parent / 'var' / 'complaintd.sqlite3'}")
    with make_sessionmaker(engine)() as session:
        status = session.get_one(OutboxMail, outbox_id).status
    engine.dispose()
    return status


def test_list_retry_and_send_again(tmp_path: Path, smtp_server: SmtpServer) -> None:
    config = install(tmp_path, smtp_server.port)
    assert "发件箱中没有符合条件的邮件" in cli(config, "outbox", "list").output
    case_mail, other_mail = seed(config)
    smtp_server.answer_next("550 5.1.1 <zhang@example.com>: no such user")

    assert cli(config, "run", "--once").exit_code == 0

    listing = cli(config, "outbox", "list")
    assert listing.exit_code == 0, listing.output
    assert "发件箱（2 封）" in listing.output
    assert "发送失败" in listing.output and "已发送" in listing.output
    assert "LO-2026-000009" in listing.output
    failed = cli(config, "outbox", "list", "--failed", lang="en")
    assert "Outbox (1 mails)" in failed.output
    assert "no such user" in failed.output and "chen@lifeoasis" not in failed.output

    retry = cli(config, "outbox", "retry", str(case_mail))
    assert retry.exit_code == 0, retry.output
    assert f"邮件 {case_mail} 已重新排队" in retry.output
    assert status_of(config, case_mail) == OutboxStatus.PENDING
    assert cli(config, "run", "--once").exit_code == 0
    assert status_of(config, case_mail) == OutboxStatus.SENT
    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(2)) == [
        "chen@lifeoasis.example",
        "zhang@example.com",
    ]

    again = cli(config, "outbox", "retry", str(other_mail), lang="en")
    assert again.exit_code == 1 and "is not sent again" in again.output
    missing = cli(config, "outbox", "retry", "999")
    assert missing.exit_code == 1 and "找不到发件箱邮件 999" in missing.output


def test_a_failed_mail_flags_its_case_in_the_database(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = install(tmp_path, smtp_server.port)
    case_mail, _ = seed(config)
    smtp_server.answer_next("550 5.1.1 no such user")

    assert cli(config, "run", "--once").exit_code == 0

    engine = make_engine(f"sqlite:///{config.parent / 'var' / 'complaintd.sqlite3'}")
    with make_sessionmaker(engine)() as session:
        case = session.scalars(select(Case)).one()
        assert (case.needs_attention, case.phone_follow_up) == (True, True)
        kinds = [e.kind for e in session.scalars(select(TimelineEvent))]
        assert "mail_failed" in kinds
        assert session.get_one(OutboxMail, case_mail).status == OutboxStatus.FAILED
    engine.dispose()
