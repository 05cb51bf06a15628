"""Exactly once, whatever happens: a real process killed (``os._exit``) at every step of a
batch and restarted, and a connection cut in the middle of a FETCH."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select

from casework.models import Case, IngestedItem
from tests.test_intake_support import complaint, count, imap_box, make_app

REPO = Path(__file__).resolve().parents[1]

# The child: one poll with a checkpoint that ends the process at the N-th step (0: never),
# printing how many steps it passed. Steps: fetched, raw_stored, before_commit, committed
# (per message), marked_done, advanced (per batch and poll).
CHILD = r"""
import os, sys
from pathlib import Path
from tests.test_intake_support import imap_box, make_app
from intake.imap import ImapPoller
from intake.understand import MailUnderstanding
from intake.parallel import ParsePool
from complaintd.mailboxes import imap_account

class Imap:
    host, port = os.environ["T_HOST"], int(os.environ["T_PORT"])
    user, password = os.environ["T_USER"], os.environ["T_PASS"]

crash_at, seen = int(os.environ["T_CRASH_AT"]), [0]
def checkpoint(step):
    seen[0] += 1
    if seen[0] == crash_at:
        os._exit(17)

app = make_app(Path(os.environ["T_DIR"]), os.environ["T_DB"], [imap_box(Imap, batch_size=2)])
app.ledger.checkpoint = checkpoint
box = app.settings.mailbox[0]
# With a pool, a backlog takes the path that fetches the next batch in a thread.
pool = ParsePool(app.raw_store, 0) if os.environ["T_POOL"] == "1" else None
poller = ImapPoller(imap_account(box), app.ledger, parse=MailUnderstanding(),
                    states=app.mail_states, checkpoint=checkpoint, pool=pool)
poller.run_once()
print(seen[0])
"""


def run_child(tmp_path: Path, db_url: str, imap: Any, crash_at: int,
              pool: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "T_POOL": "1" if pool else "0", "T_HOST": imap.host,
           "T_PORT": str(imap.port), "T_USER": imap.user, "T_PASS": imap.password,
           "T_CRASH_AT": str(crash_at), "T_DIR": str(tmp_path), "T_DB": db_url,
           "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                          text=True, timeout=120, cwd=REPO)


@pytest.mark.parametrize("pool", [False, True], ids=["in-turn", "fetch-ahead"])
def test_killed_at_every_step_then_restarted_takes_each_mail_once(
        tmp_path: Path, dovecot_server: Any, pool: bool) -> None:
    probe = _fresh(tmp_path / "probe", dovecot_server)
    done = run_child(probe[0], probe[1], probe[2], 0, pool)
    assert done.returncode == 0, done.stderr
    steps = int(done.stdout.strip())
    # 3 mails in batches of 2: a batch of two is one transaction (fetched, raw_stored,
    # before_commit, committed, marked_done), the single mail the same five, then advanced.
    assert steps == 11
    for crash_at in range(1, steps + 1):
        folder, db_url, imap = _fresh(tmp_path / f"crash{crash_at}", dovecot_server)
        crashed = run_child(folder, db_url, imap, crash_at, pool)
        assert crashed.returncode == 17, (crash_at, crashed.stderr[-2000:])
        app = make_app(folder, db_url, [imap_box(imap, batch_size=2)])  # the restart
        _outcomes, errors = app.poll_mail()
        assert errors == []
        with app.session_factory() as session:
            subjects = sorted(session.scalars(select(Case.subject)))
            places = session.scalars(select(IngestedItem.uid)).all()
        assert subjects == ["投诉 0", "投诉 1", "投诉 2"], crash_at  # no loss, no duplicate
        assert len(places) == len(set(places)) == 3, crash_at
        assert imap.uids("INBOX") == [] and len(imap.uids("Processed")) == 3, crash_at
        app.close()


def _fresh(folder: Path, server: Any) -> tuple[Path, str, Any]:
    folder.mkdir(parents=True)
    imap = server.add_user(f"crash{folder.name}{uuid4().hex[:6]}".lower(), "pw")
    for n in range(3):
        imap.append("INBOX", complaint(n))
    return folder, f"sqlite:///{folder / 'db.sqlite3'}", imap


class CuttingProxy:
    """A TCP proxy that forwards to the server and cuts the connection after ``limit``
    bytes from the server (the middle of a FETCH), once; later connections pass."""

    def __init__(self, target: tuple[str, int], limit: int) -> None:
        self.target = target
        self.limit = limit
        self.cuts = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            limit = self.limit if self.cuts == 0 else None
            threading.Thread(target=self._pipe, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, limit), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        passed = 0
        try:
            while data := src.recv(4096):
                if limit is not None and passed + len(data) > limit:
                    dst.sendall(data[:limit - passed])
                    self.cuts += 1
                    break
                dst.sendall(data)
                passed += len(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def cutting_proxy(imap_account: Any) -> Any:
    proxy = CuttingProxy((imap_account.host, imap_account.port), limit=6000)
    yield proxy
    proxy.close()


def test_connection_cut_mid_fetch_then_exactly_once(tmp_path: Path, sqlite_url: str,
                                                    imap_account: Any, cutting_proxy: Any) -> None:
    for n in range(4):
        imap_account.append("INBOX", complaint(n, body="长" * 2000))  # ~6 kB each, base64
    through_proxy = {**imap_box(imap_account), "port": cutting_proxy.port}
    app = make_app(tmp_path, sqlite_url, [through_proxy])
    outcomes, errors = app.poll_mail()
    assert cutting_proxy.cuts == 1 and len(errors) == 1, errors
    assert outcomes == []  # the first FETCH never completed: nothing half-taken
    outcomes, errors = app.poll_mail()  # the proxy lets the reconnect through
    assert errors == [] and [o.kind for o in outcomes] == ["case"] * 4
    assert count(app.session_factory, Case) == 4
    assert imap_account.uids("INBOX") == []
