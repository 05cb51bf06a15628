"""``complaintd demo``: one round of the whole pipeline on sample data, nothing else needed.

Sample complaint mails (Chinese, GBK, English, an auto-reply, a follow-up) go into a
Maildir and a GBK hotline call log into the drop folder; one round turns them into cases
and acknowledgements, written as .eml files because the demo sends no real mail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from datetime import datetime
from email.utils import parsedate_to_datetime
from importlib import resources
from pathlib import Path

import click
from rich.table import Table

from casework import queries
from casework.clock import SHANGHAI, FixedClock
from complaintd.app import App, RoundReport
from complaintd.cli.context import Context, console, print_round
from complaintd.cli.i18n import Translator, pick_language
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from web import accounts

# The samples are dated 24 November 2026; the demo's clock stands there so every run
# shows the same reference numbers and deadlines.
DEMO_NOW = datetime(2026, 11, 24, 17, 0, tzinfo=SHANGHAI)

DEMO_CONFIG = """\
# Written by `complaintd demo`. Everything is local: a Maildir instead of IMAP,
# .eml files instead of SMTP, SQLite in var/.
[organisation]
hotline_phone = "021-5555-0100"

[storage]
data_dir = "var"

[[mailbox]]
kind = "maildir"
name = "demo"
path = "mail"

[hotline]
drop_dir = "hotline"
min_age_seconds = 0

[routing]
# No rules file: every new case goes to the triage queue and this address is told.
triage_to = ["triage@example.org"]

[smtp]
transport = "file"
outbox_dir = "sent-mail"
from_address = "complaints@example.org"

[web]
# The staff console on this computer only, over plain HTTP (`complaintd web`).
bind = "127.0.0.1"
port = 8080
secure_cookies = false
"""


@click.command()
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None,
              help="工作目录（默认新建临时目录）/ working folder (default: a new temporary one)")
@click.pass_obj
def demo(obj: Context, folder: Path | None) -> None:
    """演示：示例邮件和热线记录变成案件与回执 / sample mail and call logs become cases."""
    t = Translator(pick_language(obj.lang_option))
    folder = prepare(folder or Path(tempfile.mkdtemp(prefix="complaintd-demo-")))
    console.print(t("demo_intro", dir=folder))
    settings = load_settings(folder / "complaintd.toml")
    app = App.build(settings, FixedClock(DEMO_NOW))
    upgrade(app.engine)
    report = app.run_once()
    print_round(report, t)
    show_result(app, report, t)
    console.print(t("demo_next", config=folder / "complaintd.toml"))
    password = demo_account(app)
    console.print(t("demo_console", config=folder / "complaintd.toml",
                    secret=secrets.token_urlsafe(32), url=app.settings.web.base_url,
                    login=DEMO_LOGIN, password=password))
    app.close()


DEMO_LOGIN = "demo"


def demo_account(app: App) -> str:
    """A console account for the demo (the director: every case, every count), with a new
    random password each run; the demo has no staff directory, so it is made here."""
    password = secrets.token_urlsafe(9)
    now = app.clock.now()
    with app.session_factory.begin() as session:
        user = accounts.user_by_staff_id(session, DEMO_LOGIN)
        if user is None:
            user = accounts.add_user(session, staff_id=DEMO_LOGIN, email="demo@example.org",
                                     name="演示 Demo", roles=["director"], now=now)
        accounts.set_password(session, user, password, now)
    return password


def prepare(folder: Path) -> Path:
    """Lay out the demo folder: config, a Maildir with the samples, the hotline drop."""
    folder = folder.resolve()
    (folder / "hotline").mkdir(parents=True, exist_ok=True)
    (folder / "complaintd.toml").write_text(DEMO_CONFIG, encoding="utf-8")
    maildir_new = folder / "mail" / "new"
    maildir_new.mkdir(parents=True, exist_ok=True)
    samples = resources.files("complaintd.cli") / "demo_data"
    for sample in sorted((samples / "mail").iterdir(), key=lambda p: p.name):
        target = maildir_new / f"{sample.name}.demo"
        target.write_bytes(sample.read_bytes())
        _date_file(target)
    for sample in (samples).iterdir():
        if sample.name.endswith(".csv"):
            with resources.as_file(sample) as path:
                shutil.copy(path, folder / "hotline" / sample.name)
    return folder


def _date_file(path: Path) -> None:
    # A Maildir file's time is when the mail arrived; give each sample its Date header's.
    for line in path.read_bytes().decode("ascii", "replace").splitlines():
        if line.lower().startswith("date:"):
            stamp = parsedate_to_datetime(line[5:].strip()).timestamp()
            os.utime(path, (stamp, stamp))
            return


def show_result(app: App, report: RoundReport, t: Translator) -> None:
    with app.session_factory() as session:
        cases = reversed(queries.list_cases(session))  # oldest first, as they came in
        table = Table()
        for key in ("col_reference", "col_channel", "col_status", "col_due", "col_subject"):
            table.add_column(t(key), overflow="fold")
        for case in cases:
            table.add_row(case.reference, t.channel(case.channel), t.status(case.status.value),
                          str(case.resolve_due), case.subject[:40])
    console.print(table)
    outbox = app.settings.smtp.outbox_dir
    sent = sorted(outbox.glob("*.eml")) if outbox.exists() else []
    console.print(t("demo_acks", n=len(sent), dir=outbox))
    for item in report.hotline:
        if item.rejected_rows and item.report_path:
            console.print(t("demo_hotline_report", n=item.rejected_rows, path=item.report_path))
