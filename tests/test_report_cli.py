"""``complaintd report``: the annual report, the supervising body's workbook and CSV, and
the director's monthly summary queued in the outbox, on a real SQLite installation."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from click.testing import CliRunner, Result
from openpyxl import load_workbook
from sqlalchemy import select

from casework.clock import SHANGHAI, FixedClock
from casework.db import make_engine, make_sessionmaker
from complaintd.app import App
from complaintd.cli.main import main
from complaintd.reporting import mail_monthly_summary, month_summary
from complaintd.settings import load_settings
from notifications.models import OutboxMail
from tests.fixtures.report_year import SECRETS, build_year


def install(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "complaintd.toml"
    config.write_text('[storage]\ndata_dir = "var"\n' + extra, encoding="utf-8")
    assert cli(config, "db", "upgrade").exit_code == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'complaintd.sqlite3'}")
    with make_sessionmaker(engine)() as session:
        build_year(session)
        session.commit()
    engine.dispose()
    return config


def cli(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "--lang", "en", *args],
                              env={"COLUMNS": "250"})


def test_annual_public_and_internal(tmp_path: Path) -> None:
    config = install(tmp_path)
    out = tmp_path / "public.html"
    result = cli(config, "report", "annual", "2025", "--edition", "public", "--out", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "2025年度投诉处理与服务承诺履行情况报告" in html
    assert not [s for s in SECRETS if s in html]
    inside = tmp_path / "internal.html"
    result = cli(config, "report", "annual", "2025", "--lang", "en", "--out", str(inside))
    assert result.exit_code == 0, result.output
    text = inside.read_text(encoding="utf-8")
    assert "Annual report on complaints and commitments, 2025" in text
    assert "staff-wangfang" in text  # the board's register names who


def test_a_year_to_come_is_refused(tmp_path: Path) -> None:
    config = install(tmp_path)
    result = cli(config, "report", "annual", "2999")
    assert result.exit_code == 2
    assert "bad year" in result.output


def test_figures_as_workbook_and_csv(tmp_path: Path) -> None:
    config = install(tmp_path)
    xlsx, text = tmp_path / "figures.xlsx", tmp_path / "figures.csv"
    result = cli(config, "report", "figures", "2025", "--xlsx", str(xlsx), "--csv", str(text))
    assert result.exit_code == 0, result.output
    book = load_workbook(xlsx, read_only=True)
    assert "by_channel" in book.sheetnames and "定义 Definitions" in book.sheetnames
    assert "violation_register" not in book.sheetnames  # no names to the supervising body
    rows = list(book["by_channel"].iter_rows(values_only=True))
    assert rows[2][:2] == ("邮件", 36) and rows[-1][:2] == ("合计", 54)
    ack = {r[0]: r[1] for r in book["acknowledgement"].iter_rows(min_row=3, values_only=True)}
    assert ack["按时率"] == round(40 / 52, 4)  # every count: nothing suppressed
    lines = list(csv.reader(io.StringIO(text.read_text(encoding="utf-8-sig"))))
    assert lines[0] == ["table", "title", "row", "column", "value"]
    assert ["by_channel", "按渠道", "网页", "案件数", "4"] in lines
    result = cli(config, "report", "figures", "2025", "--edition", "public", "--csv",
                 str(text))
    assert ["by_channel", "按渠道", "网页", "案件数", "<10"] in list(
        csv.reader(io.StringIO(text.read_text(encoding="utf-8-sig"))))


def test_monthly_summary_queued_once_per_month(tmp_path: Path) -> None:
    config = install(tmp_path, '[reports]\ndirector_to = ["director@example.org"]\n')
    clock = FixedClock(datetime(2025, 7, 1, 8, 0, tzinfo=SHANGHAI))
    app = App.build(load_settings(config), clock)
    try:
        summary = month_summary(app, date(2025, 7, 1))
        lines = {line.en: (line.month, line.before) for line in summary.lines}
        assert lines["Cases received"] == ("12", "0")  # June against May
        assert lines["Resolved on time"] == ("0.0% (0/12)", "—")
        assert lines["Violations recorded"] == ("12", "0")
        assert summary.overdue_today == 0  # 2 October's cases not yet received
        first, again = mail_monthly_summary(app), mail_monthly_summary(app)
        assert len(first) == 1 and again[0].id == first[0].id
        with app.session_factory() as session:
            mail = session.scalars(select(OutboxMail)).one()
        assert mail.recipient == "director@example.org"
        assert "2025年6月投诉处理月报" in mail.subject
        body = message_from_bytes(mail.raw, policy=default)
        text = body.get_body(("plain",))
        assert text is not None
        content = text.get_content()
        assert "收到案件：12（0）" in content
        assert not [s for s in SECRETS[:5] if s in content]
    finally:
        app.close()


def test_the_monthly_job_is_scheduled_only_for_a_director(tmp_path: Path) -> None:
    from complaintd.service import build_scheduler

    config = tmp_path / "complaintd.toml"
    config.write_text('[storage]\ndata_dir = "var"\n[reports]\n'
                      'director_to = ["director@example.org"]\nmonthly_day = 3\n'
                      'monthly_time = "07:30"\n', encoding="utf-8")
    app = App.build(load_settings(config))
    try:
        job = build_scheduler(app).get_job("monthly")
        assert job is not None
        assert str(job.trigger) == "cron[day='3', hour='7', minute='30']"
    finally:
        app.close()
    plain = tmp_path / "plain.toml"
    plain.write_text('[storage]\ndata_dir = "var"\n', encoding="utf-8")
    app = App.build(load_settings(plain))
    try:
        assert build_scheduler(app).get_job("monthly") is None
    finally:
        app.close()
