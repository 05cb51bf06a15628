"""Complaints sent through the public form, per second, into the pipeline (issue 15).

    python bench/form_bench.py                       # 300 forms, SQLite and PostgreSQL
    python bench/form_bench.py --forms 100 --db sqlite --file-kb 200

An installation as ``complaintd web`` builds it (``App.web_console``: routing rules of
config/routing.toml, a file transport for mail) on a fresh database. Each form is fetched
(its one-time token) and sent with a small attachment through starlette's TestClient: the
whole path — multipart read, token check, rate-limit count, the web door (files to the raw
store, ledger row, case, routing, assignment, acknowledgement and staff mail in the
outbox), the answer page. Sequential, one client: the figure is what one server process
takes in. A second set of sends repeats forms already sent (a double submit), which must
find the case and open nothing. Not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from casework.clock import SHANGHAI, FixedClock
from casework.models import Case
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.settings import load_settings

PG_ADMIN = os.environ.get(
    "COMPLAINTD_TEST_PG_URL", "postgresql+psycopg://complaintd:complaintd@127.0.0.1:5432/postgres"
)
ROUTING = Path(__file__).resolve().parents[1] / "config" / "routing.toml"
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
TEXTS = ["12月1日在药品援助窗口，工作人员态度粗暴，和我争吵。",
         "援助项目申请提交两个月没有回音，审核一直拖延，请尽快处理。",
         "医院在诊疗中乱收费，医生态度不耐烦。",
         "我的病历信息被泄露给了无关人员，隐私受到侵害。"]


def install(work: Path, url: str) -> App:
    (work / "routing.toml").write_text(ROUTING.read_text("utf-8"), "utf-8")
    (work / "complaintd.toml").write_text(f"""
[storage]
data_dir = "var"
database_url = "{url}"
[smtp]
transport = "file"
[routing]
rules_file = "routing.toml"
[security]
generate_thread_key = true
[web]
secure_cookies = false
[public]
complaints_per_address_per_hour = 10000
""", "utf-8")
    app = App.build(load_settings(work / "complaintd.toml"),
                    FixedClock(datetime(2026, 12, 2, 10, tzinfo=SHANGHAI)))
    upgrade(app.engine)
    return app


def form(client: TestClient, n: int) -> dict[str, str]:
    token = TOKEN.search(client.get("/public/complain").text)
    assert token is not None
    return {"form_token": token.group(1), "name": f"投诉人{n}", "phone": f"138{n:08d}",
            "email": f"p{n}@example.cn", "category": "", "text": TEXTS[n % len(TEXTS)],
            "consent": "yes", "privacy": "yes"}


def send(client: TestClient, data: dict[str, str], attachment: bytes) -> float:
    started = time.perf_counter()
    answer = client.post("/public/complain", data=data,
                         files=[("files", ("photo.jpg", attachment, "image/jpeg"))])
    took = time.perf_counter() - started
    assert answer.status_code == 200 and 'id="reference"' in answer.text, answer.status_code
    return took


def run(kind: str, url: str, work: Path, forms: int, attachment: bytes) -> None:
    os.environ.setdefault("COMPLAINTD_WEB_SECRET", secrets.token_urlsafe(48))
    app = install(work, url)
    client = TestClient(app.web_console(), base_url="http://bench.test")
    sent = [form(client, n) for n in range(forms)]
    send(client, form(client, forms), attachment)  # warm: jieba, templates, the pool
    times = [send(client, data, attachment) for data in sent]
    again = [send(client, data, attachment) for data in sent[: max(1, forms // 5)]]
    with app.session_factory() as db:
        cases = db.scalar(select(func.count()).select_from(Case))
    assert cases == forms + 1, cases
    total = sum(times)
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"| {kind} | {forms} | {forms / total:.1f} | {statistics.median(times) * 1000:.0f} "
          f"| {p95 * 1000:.0f} | {statistics.median(again) * 1000:.0f} | {cases} |", flush=True)
    client.close()
    app.close()


def database(kind: str, work: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{work / 'bench.sqlite3'}", None
    name = f"complaintd_formbench_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), name


def drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=300)
    parser.add_argument("--file-kb", type=int, default=50)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    attachment = secrets.token_bytes(args.file_kb * 1024)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print("| database | forms | forms/s | median ms | p95 ms | double submit, median ms "
          "| cases |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in kinds:
        with tempfile.TemporaryDirectory() as folder:
            url, name = database(kind, Path(folder))
            try:
                run(kind, url, Path(folder), args.forms, attachment)
            finally:
                if name:
                    drop_database(name)


if __name__ == "__main__":
    main()
