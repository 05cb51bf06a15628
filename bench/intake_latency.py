"""APPEND → acknowledgement received by the SMTP server, with IMAP IDLE.

    /tmp/venv/bin/python bench/intake_latency.py [N]      (default 100 complaints)

Starts a private Dovecot (the test fixture's server) and an aiosmtpd server, runs the real
daemon (``complaintd.service.run_forever``: a MailboxWatcher thread in IDLE, the outbox
sender woken when a case is taken in) on a SQLite file, then APPENDs one complaint at a
time and waits until its acknowledgement has arrived over SMTP. Prints p50/p95/max.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' server fixtures

from complaintd.service import run_forever
from tests.fixtures.dovecot import DovecotServer, find_dovecot
from tests.fixtures.smtp import SmtpServer
from tests.test_intake_support import complaint, imap_box, make_app


def main(n: int) -> int:
    binary = find_dovecot()
    if binary is None:
        print("dovecot is not installed", file=sys.stderr)
        return 2
    smtp = SmtpServer()
    smtp.start()
    with DovecotServer(binary) as dovecot, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = make_app(folder, f"sqlite:///{folder / 'db.sqlite3'}",
                       [imap_box(dovecot.account, idle_seconds=300)],
                       schedule={"poll_seconds": 3600, "send_seconds": 3600},
                       smtp={"transport": "smtp", "host": smtp.host, "port": smtp.port,
                             "security": "plain"},
                       intake={"acknowledgements_per_sender_per_day": 1000})
        stop = threading.Event()
        daemon = threading.Thread(target=run_forever, args=(app, stop), daemon=True)
        daemon.start()
        time.sleep(2)  # the watcher's first poll, then IDLE
        latencies = _measure(dovecot, smtp, n)
        stop.set()
        daemon.join(30)
        app.close()
    smtp.stop()
    _report(latencies)
    return 0


def _measure(dovecot: DovecotServer, smtp: SmtpServer, n: int) -> list[float]:
    latencies = []
    with dovecot.imap_client() as client:
        for i in range(n):
            raw = complaint(i, subject="延迟测试", sender=f"p{i}@example.cn")
            started = time.monotonic()
            client.append("INBOX", raw)
            smtp.wait_for(i + 1, timeout=60)
            latencies.append(time.monotonic() - started)
    return latencies


def _report(latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(f"APPEND -> acknowledgement at the SMTP server, IDLE, n={len(ordered)}: "
          f"p50 {statistics.median(ordered):.3f} s, p95 {p95:.3f} s, max {ordered[-1]:.3f} s, "
          f"mean {statistics.mean(ordered):.3f} s")


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
