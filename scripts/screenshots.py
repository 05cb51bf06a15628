"""Screenshots of the staff console's main pages, in Chinese, at desktop (1280 px) and
phone (390 px) widths, into docs/screenshots/ (linked from the README).

    COMPLAINTD_WEB_SECRET is not needed: the script makes a throw-away installation in a
    temporary folder (SQLite, the example routing rules, a few sample complaints, staff
    accounts), serves the console on a free port and drives Debian's Chromium through
    Playwright (apt-get install chromium fonts-noto-cjk; no browser download).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select

from casework.clock import SHANGHAI, FixedClock
from casework.models import Case
from casework.progress import issue_code
from complaintd.app import App
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from web import accounts
from web.serve import Background

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "demo-password-" + secrets.token_hex(4)
COMPLAINTS = [
    ("张女士", "zhang.nvshi@example.cn", "接线员态度问题",
     "12月1日下午拨打热线，接线员态度粗暴，没有听完就挂断电话。希望中心核实并给个说法。"),
    ("王先生", "wang.xiansheng@example.cn", "项目款迟迟未到账",
     "我孩子参加了大病救助项目，审核通过已经两个月，项目款一直没有到账，也没人回复。"),
    ("李女士", "li.nvshi@example.cn", "志愿者服务投诉",
     "上周志愿者上门探访时迟到一个多小时，而且没有提前通知，老人等了很久。"),
    ("陈先生", "chen.xiansheng@example.cn", "热线工作人员推诿",
     "多次来电咨询救助申请进度，工作人员互相推诿，请尽快处理。"),
]
PAGES = [("sign-in", "/sign-in", None), ("my-work", "/", "zhangwei"),
         ("cases", "/cases", "wangfang"), ("case", "/cases/{ref}", "zhangwei"),
         ("new-case", "/new", "zhangwei"), ("calendar", "/calendar", "wangfang"),
         ("public-complain", "/public/complain", None),
         ("public-commitments", "/public/commitments", None),
         ("public-progress", "/public/progress", None),
         ("public-progress-result", "/public/progress", "look-up"),
         ("public-feedback", "/public/feedback", None),
         # administration (web.hotline_page, web.admin): the upload ends on its summary
         ("hotline-upload", "/hotline", "liuyang"), ("mailboxes", "/mailboxes", "zhaolei"),
         ("settings", "/settings", "zhaolei"), ("accounts", "/admin/accounts", "zhaolei")]
# The case's verification code, for the public progress page ("look-up" above).
CODES: dict[str, str] = {}
WIDTHS = {"desktop": 1280, "phone": 390}


# issue 14: the case page's checklist with its preview, the referral letter previewed, the
# list with a selection, the shortcuts' help (each page set up before the picture).
def _checklist(page: Page) -> None:
    page.locator("#action-request-material summary").click()
    page.get_by_label("相关证明材料（如申请表、收据、照片）").check()
    page.get_by_label("其他材料（每行一项）").fill("通话录音")
    page.locator("#action-request-material").get_by_role("button", name="预览").click()
    page.locator("#preview-request-material .mail-text").wait_for()
    page.locator("#action-request-material").scroll_into_view_if_needed()


def _referral(page: Page) -> None:
    page.locator("#action-refer summary").click()
    page.locator("#refer-target").fill("civil_affairs")
    page.locator("#action-refer").get_by_role("button", name="预览").click()
    page.locator("#preview-refer .mail-text").first.wait_for()


def _selected(page: Page) -> None:
    for box in page.locator("td.pick input").all()[:2]:
        box.check()
    page.get_by_label("对选中的案件").select_option("note")
    page.locator("h1").click()
    page.keyboard.press("j")


def _shortcuts(page: Page) -> None:
    page.locator("h1").click()
    page.keyboard.press("?")
    page.locator("#shortcuts").wait_for()


PAGES += [("case-checklist", "/cases/{ref}", "zhangwei"),
          ("case-referral-preview", "/cases/{ref}", "zhangwei"),
          ("cases-selected", "/cases", "wangfang"), ("shortcuts", "/cases", "wangfang")]
SETUPS = {"case-checklist": _checklist, "case-referral-preview": _referral,
          "cases-selected": _selected, "shortcuts": _shortcuts}


# issue 17: the privacy page (web.privacy_page): an erasure's confirmation step with its dry
# run, then the register holding that dry run.
def _erase_confirm(page: Page) -> None:
    form = page.locator("#request-erase")
    form.get_by_label("电子邮箱").fill(COMPLAINTS[0][1])
    form.get_by_role("button", name="下一步").click()
    page.locator("#will-erase").wait_for()


PAGES += [("privacy-erase-confirm", "/privacy", "zhaolei"), ("privacy", "/privacy", "zhaolei")]
SETUPS["privacy-erase-confirm"] = _erase_confirm


def build(folder: Path) -> tuple[App, str]:
    (folder / "mail" / "new").mkdir(parents=True)
    routing = (ROOT / "config" / "routing.toml").read_text(encoding="utf-8")
    (folder / "routing.toml").write_text(routing, encoding="utf-8")
    (folder / "complaintd.toml").write_text("""
[storage]
data_dir = "var"
[[mailbox]]
kind = "maildir"
name = "local"
path = "mail"
[smtp]
transport = "file"
[routing]
rules_file = "routing.toml"
[security]
generate_thread_key = true
[hotline]
drop_dir = "hotline"
[web]
secure_cookies = false
""", encoding="utf-8")
    clock = FixedClock(datetime(2026, 11, 16, 9, tzinfo=SHANGHAI))
    app = App.build(load_settings(folder / "complaintd.toml"), clock)
    upgrade(app.engine)
    for number, (name, email, subject, text) in enumerate(COMPLAINTS, 1):
        msg = EmailMessage()
        msg["From"] = f"{name} <{email}>"
        msg["Subject"] = subject
        msg["Message-ID"] = f"<shot-{number}@example.cn>"
        msg.set_content(text, charset="utf-8")
        (folder / "mail" / "new" / f"{number}.M1.host").write_bytes(bytes(msg))
        app.run_once()
        clock.advance(timedelta(days=4))  # received days apart: some due soon, one late
    assert app.desk is not None
    with app.session_factory.begin() as session:
        for staff, roles in {"zhangwei": ["handler"], "wangfang": ["handler", "supervisor"],
                             "lina": ["handler"], "liuyang": ["hotline"],
                             "zhaolei": ["administrator"]}.items():
            person = app.desk.config.staff[staff]
            user = accounts.add_user(session, staff_id=staff, email=person.email,
                                     name=person.name, roles=roles, now=clock.now())
            accounts.set_password(session, user, PASSWORD, clock.now())
        cases = list(session.scalars(select(Case).order_by(Case.id)))
        mine = next(c for c in cases if c.assignments and c.assignments[-1].handler == "zhangwei")
        reference = mine.reference
        CODES[reference] = issue_code(session, mine)
    return app, reference


def sign_in(page: Page, url: str, staff: str) -> None:
    page.goto(f"{url}/sign-in")
    page.get_by_label("工号或邮箱").fill(staff)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{url}/")


def upload_call_log(page: Page, folder: Path) -> None:
    """A call log with one row in error, uploaded; waits for the summary."""
    log = folder / "今天的来电.csv"
    rows = ["通话编号,来电时间,来电号码,来电人,诉求内容,是否回访",
            "C-1001,2026-11-16 08:40,13800000001,赵先生,救助款发放进度无人答复,是",
            "C-1002,2026-11-16 09:05,13800000002,钱女士,志愿者服务迟到,否",
            "C-1003,昨天,13800000003,孙先生,热线占线,否"]
    log.write_bytes(("\n".join(rows) + "\n").encode("gbk"))
    page.get_by_label("通话记录文件").set_input_files(str(log))
    page.get_by_role("button", name="上传并导入").click()
    page.get_by_role("heading", name="今天的来电.csv 已导入").wait_for(timeout=60_000)
def look_up(page: Page, url: str, reference: str) -> None:
    page.goto(f"{url}/public/progress")
    page.get_by_label("受理编号").fill(reference)
    page.get_by_label("查询码 / 回执码 / 来电号码后四位").fill(CODES[reference])
    page.get_by_role("button", name="查询").click()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default=os.environ.get("COMPLAINTD_CHROMIUM",
                                                             "/usr/bin/chromium"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("COMPLAINTD_WEB_SECRET", secrets.token_urlsafe(48))
    with tempfile.TemporaryDirectory() as folder:
        app, reference = build(Path(folder))
        server = Background(app.web_console(), "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{server.port}"
        launch = ["--no-sandbox"] if os.geteuid() == 0 else []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=args.chromium,
                                                     args=[*launch, "--disable-gpu"])
                for name, path, staff in PAGES:
                    for width_name, width in WIDTHS.items():
                        context = browser.new_context(viewport={"width": width, "height": 900},
                                                      locale="zh-CN", device_scale_factor=1)
                        page = context.new_page()
                        if staff == "look-up":
                            look_up(page, url, reference)
                        elif staff:
                            sign_in(page, url, staff)
                        if staff != "look-up":
                            page.goto(url + path.format(ref=reference))
                        page.wait_for_load_state("networkidle")
                        if name == "hotline-upload":
                            upload_call_log(page, Path(folder))
                        if name in SETUPS:
                            SETUPS[name](page)
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
