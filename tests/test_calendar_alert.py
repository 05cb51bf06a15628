"""Next year's holidays (issue 13): the operator is told, by the CLI and by mail.

``complaintd calendar check`` names the missing key literally (Rich took
``[calendar.years."2027"]`` for markup and printed nothing); the daemon mails
``[operator] alert_to`` from 1 November, at most once a day, until the year is in the
calendar; the real chinesecalendar data is used for every year it knows.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
from click.testing import CliRunner

from casework.calendar import WorkCalendar, years_from_config
from casework.clock import SHANGHAI, FixedClock
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from tests.configs import real_servers_toml

# The module, not the click group that complaintd.cli exports under the same name.
cli_main = importlib.import_module("complaintd.cli.main")
OPERATOR = "it@oasis.example.org"
NEXT = max(chinese_calendar.holidays).year + 1  # the first year the package does not know
YEAR_2027 = ('[calendar.years."{y}"]\nholidays = ["{y}-01-01"]\nworkdays = []\n')


class _Clock:
    """Stands in for the CLI's system clock."""

    day = datetime(NEXT - 1, 11, 2, 9, 0, tzinfo=SHANGHAI)

    def now(self) -> datetime:
        return self.day


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_calendar_check_names_the_missing_key_literally(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    config = tmp_path / "complaintd.toml"
    config.write_text('[storage]\ndata_dir = "var"\n', encoding="utf-8")
    monkeypatch.setattr(cli_main, "SystemClock", _Clock)

    result = CliRunner().invoke(cli_main.main, ["--config", str(config), "--lang", lang,
                                                "calendar", "check"])

    assert result.exit_code == 1, result.output
    flat = "".join(result.output.split())
    assert f'[calendar.years."{NEXT}"]' in flat


def test_calendar_check_is_quiet_once_next_year_is_configured(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "complaintd.toml"
    config.write_text('[storage]\ndata_dir = "var"\n' + YEAR_2027.format(y=NEXT),
                      encoding="utf-8")
    monkeypatch.setattr(cli_main, "SystemClock", _Clock)
    result = CliRunner().invoke(cli_main.main, ["--config", str(config), "calendar", "check"])
    assert result.exit_code == 0, result.output


def test_the_packages_own_years_are_used_before_any_fallback() -> None:
    calendar = WorkCalendar.build()
    for year in range(2004, NEXT):
        assert calendar.covers(year) and calendar.source_of(year) == "chinese-calendar"
    assert calendar.source_of(NEXT) == "fallback"
    # The config wins for a year it gives (an operator's correction), and says where from.
    mine = WorkCalendar.build(years_from_config({str(NEXT): {"holidays": [f"{NEXT}-01-01"]}}))
    assert mine.source_of(NEXT) == "config" and not mine.is_working_day(date(NEXT, 1, 1))


class Installation:
    def __init__(self, tmp_path: Path, db_url: str, imap: Any, smtp: Any, extra: str) -> None:
        config = tmp_path / "complaintd.toml"
        config.write_text(real_servers_toml(
            db_url, imap, smtp, from_address="complaints@oasis.example.org",
            extra=f'[operator]\nalert_to = ["{OPERATOR}"]\n' + extra), encoding="utf-8")
        self.clock = FixedClock(datetime(NEXT - 1, 10, 31, 10, 0, tzinfo=SHANGHAI))
        self.app = App.build(load_settings(config), self.clock)
        upgrade(self.app.engine)
        self.smtp = smtp
        self.seen = 0

    def hour(self, hours: float) -> list[Any]:
        """Move the clock, run the hourly check and the sender: the mail sent."""
        self.clock.advance(timedelta(hours=hours))
        self.app.alert_calendar()
        self.app.send_outbox()
        mails = [message_from_bytes(m.raw, policy=policy.default)
                 for m in self.smtp.messages[self.seen:]]
        self.seen = len(self.smtp.messages)
        return mails


@pytest.fixture
def installation(tmp_path: Path, db_url: str, imap_account: Any,
                 smtp_server: Any) -> Iterator[Installation]:
    made = Installation(tmp_path, db_url, imap_account, smtp_server, "")
    yield made
    made.app.close()


def test_the_operator_is_mailed_from_1_november_once_a_day(installation: Installation) -> None:
    assert installation.hour(0) == []  # 31 October: nothing yet
    (mail,) = installation.hour(14)  # 1 November, midnight
    assert OPERATOR in str(mail["To"])
    assert str(NEXT) in str(mail["Subject"])
    body = mail.get_body(("plain",)).get_content()
    assert f'[calendar.years."{NEXT}"]' in body
    assert f"国务院办公厅关于{NEXT}年部分节假日安排的通知" in body and "www.gov.cn" in body
    # Checked every hour, mailed once a day.
    assert [installation.hour(1) for _ in range(5)] == [[], [], [], [], []]
    assert len(installation.hour(24)) == 1


def test_no_alert_once_next_year_is_configured(tmp_path: Path, db_url: str, imap_account: Any,
                                              smtp_server: Any) -> None:
    made = Installation(tmp_path, db_url, imap_account, smtp_server, YEAR_2027.format(y=NEXT))
    try:
        assert made.hour(48) == []
    finally:
        made.app.close()
