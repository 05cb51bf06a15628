"""Screenshots of the reports (issue 16) in Chromium: the console's report page and the
annual report's public and internal editions, at desktop (1280 px) and phone (390 px)
widths, into docs/screenshots/ (linked from the README).

    PYTHONPATH=. .venv/bin/python scripts/report_screenshots.py [--out docs/screenshots]

A throw-away installation in a temporary folder (SQLite, the example routing rules) holds
the year of cases the report tests use (``tests.fixtures.report_year``: 2025, known
outcomes), the console is served on a free port and Debian's Chromium is driven through
Playwright (apt-get install chromium fonts-noto-cjk; no browser download).
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
from datetime import datetime
from pathlib import Path

from playwright.sync_api import sync_playwright

from casework.clock import SHANGHAI, FixedClock
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from tests.fixtures.report_year import build_year
from web import accounts
from web.serve import Background

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "demo-password-" + secrets.token_hex(4)
PAGES = [("reports", "/reports?year=2025"),
         ("annual-public", "/reports/annual.html?year=2025&edition=public"),
         ("annual-internal", "/reports/annual.html?year=2025&edition=internal")]
WIDTHS = {"desktop": 1280, "phone": 390}


def build(folder: Path) -> App:
    routing = (ROOT / "config" / "routing.toml").read_text(encoding="utf-8")
    (folder / "routing.toml").write_text(routing, encoding="utf-8")
    (folder / "complaintd.toml").write_text("""
[storage]
data_dir = "var"
[smtp]
transport = "file"
[routing]
rules_file = "routing.toml"
[security]
generate_thread_key = true
[web]
secure_cookies = false
""", encoding="utf-8")
    clock = FixedClock(datetime(2026, 1, 15, 9, tzinfo=SHANGHAI))
    app = App.build(load_settings(folder / "complaintd.toml"), clock)
    upgrade(app.engine)
    assert app.desk is not None
    with app.session_factory.begin() as session:
        build_year(session)
        person = app.desk.config.staff["sunli"]
        user = accounts.add_user(session, staff_id="sunli", email=person.email,
                                 name=person.name, roles=["supervisor", "director"],
                                 now=clock.now())
        accounts.set_password(session, user, PASSWORD, clock.now())
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default=os.environ.get("COMPLAINTD_CHROMIUM",
                                                             "/usr/bin/chromium"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("COMPLAINTD_WEB_SECRET", secrets.token_urlsafe(48))
    with tempfile.TemporaryDirectory() as folder:
        app = build(Path(folder))
        server = Background(app.web_console(), "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{server.port}"
        launch = ["--no-sandbox"] if os.geteuid() == 0 else []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=args.chromium,
                                                     args=[*launch, "--disable-gpu"])
                for width_name, width in WIDTHS.items():
                    context = browser.new_context(viewport={"width": width, "height": 900},
                                                  locale="zh-CN", device_scale_factor=1)
                    page = context.new_page()
                    page.goto(f"{url}/sign-in")
                    page.get_by_label("工号或邮箱").fill("sunli")
                    page.get_by_label("密码").fill(PASSWORD)
                    page.get_by_role("button", name="登录").click()
                    page.wait_for_url(f"{url}/")
                    for name, path in PAGES:
                        page.goto(url + path)
                        page.wait_for_load_state("networkidle")
                        wide = page.evaluate("document.documentElement.scrollWidth")
                        if wide > width:  # a phone must never scroll sideways
                            print(f"warning: {name} is {wide} px wide at {width} px")
                        target = args.out / f"{name}-{width_name}.png"
                        page.screenshot(path=str(target), full_page=True)
                        print(target.relative_to(ROOT) if target.is_relative_to(ROOT)
                              else target)
                    context.close()
                browser.close()
        finally:
            server.stop()
            app.close()


if __name__ == "__main__":
    main()
