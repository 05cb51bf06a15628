"""complaintd's ingester for the peer benchmark (called by bench/ingesters/complaintd.sh).

    reset   write $BENCH_WORK/complaintd.toml (SQLite at $BENCH_DB, the bench IMAP account,
            acknowledgements to .eml files; BENCH_ROUTING=1 adds the example routing
            rules, BENCH_BATCH_SIZE sets the mailbox's batch size, default 100) and
            create the schema
    ingest  one poll of the mailbox: every message taken in, then exit
    count   one JSON line: messages in the ledger, cases, follow-ups, ignored, quarantined,
            acknowledgements queued
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from sqlalchemy import func, select

from casework.models import IngestedItem
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from notifications.models import OutboxMail

WORK = Path(os.environ.get("BENCH_WORK", "/tmp/peer-bench-work/complaintd"))
CONFIG = WORK / "complaintd.toml"


def write_config() -> None:
    env = os.environ
    CONFIG.write_text(f"""
[storage]
data_dir = "{WORK / 'data'}"
database_url = "sqlite:///{env.get('BENCH_DB', WORK / 'db.sqlite3')}"

[[mailbox]]
kind = "imap"
name = "bench"
host = "{env.get('BENCH_IMAP_HOST', '127.0.0.1')}"
port = {env.get('BENCH_IMAP_PORT', '11143')}
security = "plain"
username = "{env.get('BENCH_IMAP_USER', 'bench')}"
password = "{env.get('BENCH_IMAP_PASSWORD', 'benchpass')}"
folder = "{env.get('BENCH_IMAP_FOLDER', 'INBOX')}"
batch_size = {env.get("BENCH_BATCH_SIZE", "100")}
idle = false

[intake]
acknowledgements_per_sender_per_day = 1000

[smtp]
transport = "file"
{routing_section()}""", encoding="utf-8")


def routing_section() -> str:
    """BENCH_ROUTING=1: route with the example rules (config/routing.toml) instead of
    sending every case to triage, to see what the router costs."""
    if os.environ.get("BENCH_ROUTING") != "1":
        return ""
    rules = Path(__file__).resolve().parent.parent / "config" / "routing.toml"
    # Routing mails invite answers, so their reply tokens need a key (made for the bench).
    return (f'\n[routing]\nrules_file = "{rules}"\n'
            '\n[security]\ngenerate_thread_key = true\n')



def main(action: str) -> int:
    if action == "reset":
        write_config()
    app = App.build(load_settings(CONFIG))
    try:
        if action == "reset":
            upgrade(app.engine)
        elif action == "ingest":
            _outcomes, errors = app.poll_mail()
            if errors:
                print("\n".join(errors), file=sys.stderr)
                return 1
        elif action == "count":
            print(json.dumps(counts(app), ensure_ascii=False))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    finally:
        app.close()
    return 0


def counts(app: App) -> dict[str, int]:
    with app.session_factory() as session:
        rows: dict[str, int] = dict(session.execute(select(IngestedItem.outcome, func.count())
                                    .group_by(IngestedItem.outcome)).all())
        acks = session.scalar(select(func.count()).select_from(OutboxMail)) or 0
    result = {"messages": sum(rows.values()), "acknowledgements": int(acks)}
    result.update({k: int(v) for k, v in rows.items()})
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
