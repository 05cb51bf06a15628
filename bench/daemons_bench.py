"""Intake and outbox with two daemons against one, in one run (issue 17).

    python bench/daemons_bench.py                 # 500 mails and 500 hotline rows each time
    python bench/daemons_bench.py --items 1000

A private Dovecot and an aiosmtpd server (the tests' own servers) and, for each round, a
fresh PostgreSQL database built by ``complaintd db upgrade``: N complaints are APPENDed to
a new IMAP account and N hotline rows written as call logs, then ONE daemon process
(``complaintd run``, as ``tests/test_two_daemons.py`` starts it, with that test's
settings) is started and timed until every item is a case and the outbox holds nothing
unsent (every acknowledgement delivered to the SMTP server). The same again with TWO
daemon processes on one database. Prints items/s for the intake and mails/s for the
outbox for each, counted from the first case (the interpreters' start-up left out) and
from the start, and the ratio two/one. The scratch databases are dropped. Not a test.
"""

from __future__ import annotations

import argparse
import importlib
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.hotline_bench import database, drop_database
from casework.db import make_engine
from casework.models import Case
from complaintd.migrate import upgrade
from notifications.models import OutboxMail, OutboxStatus
from tests.fixtures.dovecot import DovecotServer, find_dovecot
from tests.fixtures.smtp import SmtpServer


def two_daemons_test(items: int) -> ModuleType:
    """The two-daemon test's helpers, sized to ``items`` (it reads its size at import)."""
    os.environ["COMPLAINTD_TEST_TWO_DAEMON_ITEMS"] = str(items)
    return importlib.import_module("tests.test_two_daemons")


def count(engine: Engine, query: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def one_round(test: ModuleType, daemons: int, dovecot: DovecotServer, smtp: SmtpServer,
              items: int, number: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="daemons-bench-") as tmp:
        folder = Path(tmp)
        url, name = database("postgresql", folder)
        assert name is not None
        engine = make_engine(url)
        try:
            upgrade(engine)
            account = dovecot.add_user(f"bench{number}", f"pw-bench{number}")
            for n in range(items):
                account.append("INBOX", test.complaint(n))
            test.write_call_logs(folder / "hotline")
            config = folder / "complaintd.toml"
            config.write_text(test.settings_text(url, account, smtp), encoding="utf-8")
            return _timed(test, engine, config, daemons, items)
        finally:
            engine.dispose()
            drop_database(name)


def _timed(test: ModuleType, engine: Engine, config: Path, daemons: int,
           items: int) -> dict[str, float]:
    cases = select(func.count(Case.id))
    unsent = select(func.count(OutboxMail.id)).where(OutboxMail.status != OutboxStatus.SENT)
    started = time.monotonic()
    running = [test.Daemon(config, f"d{n}") for n in range(daemons)]
    try:
        _wait(test, running, lambda: count(engine, cases) > 0, "the first case")
        first = time.monotonic()
        _wait(test, running, lambda: count(engine, cases) >= 2 * items, "every item a case")
        taken = time.monotonic()
        _wait(test, running, lambda: count(engine, unsent) == 0, "the outbox sent")
        sent = time.monotonic()
        mails = count(engine, select(func.count(OutboxMail.id)))
        stopped = [d.stop() for d in running]
        assert stopped == [0] * daemons, f"a daemon ended badly: {stopped}"
    finally:
        for d in running:
            d.close()
    return {"daemons": daemons, "items": 2 * items, "mails": mails,
            "intake_s": taken - first, "outbox_s": sent - first,
            "intake_from_start_s": taken - started, "outbox_from_start_s": sent - started,
            "items_per_s": 2 * items / (taken - first), "mails_per_s": mails / (sent - first)}


def _wait(test: ModuleType, running: list[Any], done: Callable[[], bool], why: str) -> None:
    """Until ``done``; a daemon that ended (a bad configuration) ends the round with its log."""
    def ended() -> bool:
        return any(d.process.poll() is not None for d in running)

    test.wait_for(lambda: done() or ended(), 3600, why)
    if ended() and not done():
        logs = "\n".join(d.log.read_text(encoding="utf-8")[-2000:] for d in running)
        raise RuntimeError(f"a daemon ended before {why}:\n{logs}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500,
                        help="mails, and hotline rows, per round (a multiple of 10)")
    args = parser.parse_args()
    binary = find_dovecot()
    if binary is None:
        print("dovecot is not installed", file=sys.stderr)
        return 2
    test = two_daemons_test(args.items)
    # The daemons sign reply codes; the tests' key comes from their conftest.
    os.environ.setdefault("COMPLAINTD_THREAD_KEY", secrets.token_hex(32))
    print(f"load average {os.getloadavg()}", flush=True)
    smtp = SmtpServer()
    smtp.start()
    try:
        with DovecotServer(binary) as dovecot:
            rounds = [one_round(test, n, dovecot, smtp, args.items, n) for n in (1, 2)]
    finally:
        smtp.stop()
    for r in rounds:
        print(f"{r['daemons']} daemon(s): {r['items']:.0f} items in {r['intake_s']:.1f} s "
              f"= {r['items_per_s']:.1f} items/s; {r['mails']:.0f} mails sent in "
              f"{r['outbox_s']:.1f} s = {r['mails_per_s']:.1f} mails/s "
              f"(from the start: {r['intake_from_start_s']:.1f} s, "
              f"{r['outbox_from_start_s']:.1f} s)", flush=True)
    one, two = rounds
    print(f"ratio two/one: intake {two['items_per_s'] / one['items_per_s']:.2f}, "
          f"outbox {two['mails_per_s'] / one['mails_per_s']:.2f}")
    print(f"load average {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
