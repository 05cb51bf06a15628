"""Nothing stalls or poisons intake (issue 12): a mail that kills or hangs the process is
quarantined after ``intake.poison_after_attempts`` interrupted tries, with its bytes, and
the mails beside it are taken in; a parse that runs past ``intake.parse_seconds`` in a
parse worker is ended and the mail read degraded, a case flagged for staff.

Real processes, no mock: a child process polls a real Dovecot mailbox with a parser that
ends the process (``os._exit``) or hangs on one marked mail; a hung child is killed as a
service manager would kill it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from casework.models import Case, QuarantineItem
from casework.rawstore import RawStore, sha256_hex
from complaintd.settings import ConfigError, settings_from_dict
from intake.ledger import SourceItem, Understood
from intake.parallel import ParsePool
from intake.tables import IntakeAttempt
from intake.understand import MailUnderstanding
from tests.test_intake_support import complaint, count, imap_box, make_app

REPO = Path(__file__).resolve().parents[1]
MARK = "X-Test-Poison"


class PoisonedParser(MailUnderstanding):
    """The real parser, except on a mail with the ``X-Test-Poison`` header: "die" ends the
    process at once, "hang" writes the file named by $T_HANG_FILE and never returns."""

    def __call__(self, item: SourceItem, digest: str, now: datetime) -> Understood:
        if b"\n" + MARK.encode() + b": die" in item.raw:
            os._exit(9)
        if b"\n" + MARK.encode() + b": hang" in item.raw:
            Path(os.environ["T_HANG_FILE"]).write_text("hanging")
            while True:
                time.sleep(1)
        return super().__call__(item, digest, now)


# The child: one poll of the mailbox with the poisoned parser, as the daemon's poll job.
CHILD = r"""
import os
from pathlib import Path
from tests.test_intake_support import imap_box, make_app
from tests.test_poison_mail import PoisonedParser
from intake.imap import ImapPoller
from complaintd.mailboxes import imap_account

class Imap:
    host, port = os.environ["T_HOST"], int(os.environ["T_PORT"])
    user, password = os.environ["T_USER"], os.environ["T_PASS"]

app = make_app(Path(os.environ["T_DIR"]), os.environ["T_DB"], [imap_box(Imap)])
poller = ImapPoller(imap_account(app.settings.mailbox[0]), app.ledger, parse=PoisonedParser(),
                    states=app.mail_states)
print(" ".join(o.kind for o in poller.run_once().outcomes))
"""


def run_child(folder: Path, db_url: str, imap: Any, hang_file: Path) -> int:
    """Run one poll in a child process; a child that hangs is killed (SIGKILL) once it is
    known to hang. The child's exit code (negative: the signal that ended it)."""
    env = {**os.environ, "T_HOST": imap.host, "T_PORT": str(imap.port), "T_USER": imap.user,
           "T_PASS": imap.password, "T_DIR": str(folder), "T_DB": db_url,
           "T_HANG_FILE": str(hang_file), "PYTHONPATH": str(REPO)}
    hang_file.unlink(missing_ok=True)
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline:
        if hang_file.exists():
            child.send_signal(signal.SIGKILL)  # as systemd ends a service that hangs
            break
        time.sleep(0.05)
    _out, err = child.communicate(timeout=60)
    assert child.returncode is not None, err
    return child.returncode


@pytest.mark.parametrize("how", ["die", "hang"])
def test_a_mail_that_kills_the_process_three_times_is_quarantined_with_its_bytes(
        tmp_path: Path, imap_account: Any, how: str) -> None:
    poison = complaint(1, **{MARK.replace("-", "_"): how})
    imap_account.append("INBOX", complaint(0))
    imap_account.append("INBOX", poison)
    imap_account.append("INBOX", complaint(2))
    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    make_app(tmp_path, db_url, [imap_box(imap_account)]).close()  # the tables

    ended = -signal.SIGKILL if how == "hang" else 9
    codes = [run_child(tmp_path, db_url, imap_account, tmp_path / "hang") for _ in range(4)]
    # Three interrupted tries (the batch's, then the mail alone twice); the fourth run
    # quarantines it unparsed and takes the mail behind it in.
    assert codes == [ended, ended, ended, 0]

    app = make_app(tmp_path, db_url, [imap_box(imap_account)])
    with app.session_factory() as session:
        assert sorted(session.scalars(select(Case.subject))) == ["投诉 0", "投诉 2"]
        (held,) = session.scalars(select(QuarantineItem)).all()
        assert session.scalars(select(IntakeAttempt)).all() == []  # every try finished
    assert "处理 3 次均中断" in held.reason and "interrupted 3 times" in held.reason
    assert held.raw_sha256 is not None
    kept = app.raw_store.get(held.raw_sha256)  # the mail as the server gave it, whole
    assert sha256_hex(kept) == held.raw_sha256 and f"{MARK}: {how}".encode() in kept
    assert kept.replace(b"\r\n", b"\n") == poison.replace(b"\r\n", b"\n")
    assert imap_account.uids("INBOX") == [] and len(imap_account.uids("Processed")) == 3
    outcomes, errors = app.poll_mail()  # nothing is fetched again
    assert (outcomes, errors) == ([], [])
    app.close()


def test_a_try_that_finished_leaves_no_count_behind(tmp_path: Path, sqlite_url: str,
                                                   imap_account: Any) -> None:
    for n in range(3):
        imap_account.append("INBOX", complaint(n))
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account)])
    outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == ["case"] * 3
    assert count(app.session_factory, IntakeAttempt) == 0
    app.close()


def test_the_number_of_tries_is_a_validated_setting() -> None:
    base = {"storage": {"data_dir": "/tmp/x", "database_url": "sqlite://"}}
    assert settings_from_dict(base).intake.poison_after_attempts == 3
    assert settings_from_dict({**base, "intake": {"poison_after_attempts": 5}}
                              ).intake.poison_after_attempts == 5
    for wrong in (0, -1, "many"):
        with pytest.raises(ConfigError, match="poison_after_attempts"):
            settings_from_dict({**base, "intake": {"poison_after_attempts": wrong}})
    with pytest.raises(ConfigError, match="parse_seconds"):
        settings_from_dict({**base, "intake": {"parse_seconds": 0}})


# -- the time limit of a parse in the parse worker -----------------------------------------


class SlowWhileTimed(MailUnderstanding):
    """A parse that never ends on the mail marked "slow" while a time limit is armed (as in
    a parse worker): Python code that runs on, which the alarm interrupts."""

    def _understood(self, item: SourceItem, parsed: Any, digest: str, now: datetime) -> Any:
        if b"X-Test-Slow: yes" in item.raw:
            while signal.getitimer(signal.ITIMER_REAL)[0] > 0:
                pass
        return super()._understood(item, parsed, digest, now)


class StuckInC(MailUnderstanding):
    """A parse stuck where the alarm cannot reach it (the signal blocked, as in a long C
    call): only the hard limit, a killed worker, ends it."""

    def __call__(self, item: SourceItem, digest: str, now: datetime) -> Understood:
        if b"X-Test-Slow: yes" in item.raw and signal.getitimer(signal.ITIMER_REAL)[0] > 0:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(3600)
        return super().__call__(item, digest, now)


def items() -> list[SourceItem]:
    slow = complaint(1, body="药费报销被拒绝", X_Test_Slow="yes")
    return [SourceItem("imap:t", "INBOX", 1, str(n), raw, None)
            for n, raw in enumerate([complaint(0), slow, complaint(2)])]


def test_a_parse_past_the_time_limit_is_ended_and_the_mail_read_degraded(
        tmp_path: Path) -> None:
    pool = ParsePool(RawStore(tmp_path), workers=1, parse_seconds=1.0)
    try:
        assert pool.warm_up()
        started = time.monotonic()
        prepared = pool.start(items(), SlowWhileTimed(), datetime.now(UTC)).result()
        assert time.monotonic() - started < 30
    finally:
        pool.close()
    assert prepared is not None
    understood = [p.understood for p in prepared]
    assert all(isinstance(u, Understood) and u.inbound is not None for u in understood)
    first, slow, last = (u.inbound for u in understood if isinstance(u, Understood))
    assert first is not None and last is not None and slow is not None
    assert "parse_problems" not in first.extra and "parse_problems" not in last.extra
    # Still a complaint: its sender, subject and text, read from the raw mail.
    assert slow.sender_email == "zhang@example.cn" and slow.subject == "投诉 1"
    assert "ParseTimeLimit" in slow.extra["parse_problems"]


def test_a_worker_stuck_past_the_hard_limit_is_killed(tmp_path: Path) -> None:
    pool = ParsePool(RawStore(tmp_path), workers=1, parse_seconds=0.5)
    pool.hard_margin = 1.0
    try:
        assert pool.warm_up()
        started = time.monotonic()
        assert pool.start(items(), StuckInC(), datetime.now(UTC)).result() is None
        assert time.monotonic() - started < 30
        # The next batch gets a fresh worker. It unpickles this test's parser first, which
        # imports this module and with it the whole composition root: seconds on a busy
        # machine, so the tight margin that ended the stuck worker is not its measure.
        pool.hard_margin = 60.0
        assert pool.warm_up()
        prepared = pool.start(items()[:1], StuckInC(), datetime.now(UTC)).result()
        assert prepared is not None and len(prepared) == 1
    finally:
        pool.close()


def test_a_slow_mail_in_a_backlog_becomes_a_flagged_case(tmp_path: Path, sqlite_url: str,
                                                         imap_account: Any) -> None:
    for raw in [*(item.raw for item in items()), complaint(3)]:
        imap_account.append("INBOX", raw)
    app = make_app(tmp_path, sqlite_url, [imap_box(imap_account, batch_size=2)],
                   intake={"parse_workers": 1, "parse_seconds": 1})
    poller = app.imap_poller(app.settings.mailbox[0])  # type: ignore[arg-type]
    poller.parse = SlowWhileTimed()
    assert app.parse_pool.warm_up()
    report = poller.run_once()
    assert [o.kind for o in report.outcomes] == ["case"] * 4
    assert app.parse_pool.sent_to_workers >= 1
    with app.session_factory() as session:
        flagged = {c.subject for c in session.scalars(select(Case)) if c.needs_attention}
    assert flagged == {"投诉 1"}  # read degraded in the worker: staff look at it
    assert count(app.session_factory, Case) == 4 and imap_account.uids("INBOX") == []
    app.close()
