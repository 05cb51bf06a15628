"""Hotline staff upload a call log in the console: the drop folder's importer takes it
(GBK CSV, Excel), the job's page shows the summary and the error report, the file is
archived like a dropped one, and the same file uploaded twice opens no case twice.
Over HTTP (starlette's TestClient) on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from openpyxl import Workbook
from sqlalchemy import func, select
from starlette.testclient import TestClient

from casework.models import Case
from complaintd.console_ports import HotlineUploadDoor
from intake.hotline import HotlineFolders
from tests.fixtures.web import SECRET, Site, csrf_of
from tests.test_hotline import ZH_HEADER, call
from tests.test_web_browser import Live
from web.app import build_console
from web.serve import Background

HOTLINE = """
[hotline]
drop_dir = "hotline"
min_age_seconds = 0
report_languages = ["zh", "en"]
"""
PEOPLE = {"liuyang": ["hotline"], "wangfang": ["handler", "supervisor"],
          "zhangwei": ["handler"], "zhaolei": ["hotline"]}


@pytest.fixture
def site(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    made = Site(tmp_path, db_url, web_extra=HOTLINE)
    made.add_people(PEOPLE)
    try:
        yield made
    finally:
        made.app.close()


def gbk_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ZH_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("gbk")


GOOD = [call(来电时间="2025-12-01 09:00", 来电号码="13800000001", 来电人="王芳芳", 是否回访="否"),
        call(来电时间="2025-12-01 09:30", 来电号码="13800000002", 来电人="李四", 是否回访="否",
             诉求内容="医院收费不合理")]
BAD = call(来电时间="昨天")  # no date a staff member could check: rejected with its row


def upload(client: TestClient, name: str, data: bytes) -> Response:
    token = csrf_of(client.get("/hotline").text)
    answer: Response = client.post("/hotline", data={"csrf_token": token},
                                   files={"file": (name, data, "application/octet-stream")})
    return answer


def finished(client: TestClient, answer: Response) -> str:
    """The job's page once the import is done (asked as htmx asks, every 50 ms)."""
    assert answer.status_code == 303, answer.text
    job = answer.headers["location"]
    assert job.startswith("/hotline/jobs/")
    for _ in range(600):
        part = client.get(job, headers={"HX-Request": "true"})
        assert part.status_code == 200
        if "hx-get" not in part.text:
            assert "<html" not in part.text  # htmx gets the part alone
            text: str = client.get(job).text
            return text
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def figure(page: str, name: str) -> int:
    marker = f'data-figure="{name}">'
    start = page.index(marker) + len(marker)
    text = page[start:page.index("</dd>", start)]
    return int("".join(c for c in text if c.isdigit()))


def cases(site: Site) -> int:
    with site.app.session_factory() as session:
        return int(session.scalar(select(func.count(Case.id))) or 0)


def test_a_gbk_call_log_is_imported_with_its_summary_and_error_report(site: Site) -> None:
    client = site.signed_in("liuyang")
    page = finished(client, upload(client, "今天的来电.csv", gbk_csv([*GOOD, BAD])))

    assert "今天的来电.csv 已导入" in page
    assert (figure(page, "imported"), figure(page, "opened"), figure(page, "rejected")) == \
        (2, 2, 1)
    assert cases(site) == 2
    # The error report names the row (4: the heading is row 1) and its column.
    report_link = page.index("/errors.csv")
    path = page[page.rindex('"', 0, report_link) + 1:report_link + len("/errors.csv")]
    report = client.get(path)
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["文件 file", "行 row", "列 column"]
    assert [(line[1], line[2].split(" ")[0]) for line in lines[1:]] == [("4", "来电时间")]
    # Kept in the hotline archive like a dropped file, with its report beside it.
    archived = list((site.tmp / "hotline" / "archive").glob("*/今天的来电.csv"))
    assert len(archived) == 1
    assert archived[0].with_name("今天的来电.errors.csv").exists()
    assert archived[0].read_bytes() == gbk_csv([*GOOD, BAD])
    assert not any(p.name.startswith(".upload-")
                   for p in (site.tmp / "hotline" / "processing").iterdir())


def test_the_same_file_uploaded_twice_opens_no_case_twice(site: Site) -> None:
    client = site.signed_in("liuyang")
    data = gbk_csv(GOOD)
    first = finished(client, upload(client, "calls.csv", data))
    again = finished(client, upload(client, "calls.csv", data))

    assert figure(first, "imported") == 2
    assert (figure(again, "imported"), figure(again, "duplicates")) == (0, 2)
    assert "此前都已导入过" in again
    assert cases(site) == 2
    # Both uploads are archived (the second beside the first, under a name of its own).
    assert len(list((site.tmp / "hotline" / "archive").glob("*/calls*.csv"))) == 2


def test_an_excel_call_log_is_imported(site: Site) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ZH_HEADER)
    for row in GOOD:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    client = site.signed_in("wangfang")  # a supervisor stands in for the hotline
    page = finished(client, upload(client, "calls.xlsx", out.getvalue()))
    assert figure(page, "opened") == 2 and cases(site) == 2


def test_what_is_no_call_log_or_too_big_is_refused_and_nothing_is_kept(site: Site) -> None:
    client = site.signed_in("liuyang")
    refused = upload(client, "payload.exe", b"MZ\x90\x00")
    assert refused.status_code == 400 and "不是通话记录文件" in refused.text
    lock_file = upload(client, "~$calls.xlsx", b"PK")  # an open workbook's lock file
    assert lock_file.status_code == 400
    empty = client.post("/hotline", data={"csrf_token": csrf_of(client.get("/hotline").text)})
    assert empty.status_code == 400 and "请选择文件" in empty.text

    # A body declared larger than any upload is refused before it is read.
    huge = client.post("/hotline", content=b"x" * (33 * 1024 * 1024),
                       headers={"content-type": "multipart/form-data; boundary=b"})
    assert huge.status_code == 413 and "超过 32 MB" in huge.text

    # The limit, made small for the test: the same door the composition root builds.
    door = HotlineUploadDoor(site.app.hotline_importer,
                             HotlineFolders.inside(site.tmp / "hotline"), max_bytes=100)
    small = TestClient(build_console(replace(site.app.console(), hotline=door)),
                       base_url="http://console.test", follow_redirects=False)
    small.cookies = client.cookies
    big = upload(small, "calls.csv", gbk_csv(GOOD))
    assert big.status_code == 413 and "超过" in big.text
    assert cases(site) == 0
    assert not list((site.tmp / "hotline" / "archive").rglob("*.csv"))


def test_a_name_with_folders_is_only_a_name(site: Site) -> None:
    client = site.signed_in("liuyang")
    page = finished(client, upload(client, "../../../etc/.calls.csv", gbk_csv(GOOD)))
    assert figure(page, "imported") == 2
    (archived,) = (site.tmp / "hotline" / "archive").rglob("*.csv")
    assert archived.name == "calls.csv"
    assert not (site.tmp / "etc").exists()


def test_who_may_upload_and_whose_job_one_sees(site: Site) -> None:
    handler = site.signed_in("zhangwei")
    assert handler.get("/hotline").status_code == 403
    token = csrf_of(handler.get("/").text)
    assert handler.post("/hotline", data={"csrf_token": token},
                        files={"file": ("c.csv", gbk_csv(GOOD), "text/csv")}).status_code == 403
    assert "导入热线记录" not in handler.get("/").text  # not in the navigation either

    mine = site.signed_in("liuyang")
    answer = upload(mine, "calls.csv", gbk_csv(GOOD))
    finished(mine, answer)
    job = answer.headers["location"]
    other = site.signed_in("zhaolei")  # hotline too, but not the one who uploaded
    assert other.get(job).status_code == 404
    assert other.get(f"{job}/errors.csv").status_code == 404
    assert "calls.csv" not in other.get("/hotline").text
    assert handler.get(job).status_code == 403


def test_without_a_hotline_folder_the_page_says_so(tmp_path: Path, db_url: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    plain = Site(tmp_path, db_url)
    try:
        plain.add_people({"liuyang": ["hotline"]})
        client = plain.signed_in("liuyang")
        page = client.get("/hotline")
        assert page.status_code == 200 and "未配置热线导入目录" in page.text
        assert 'type="file"' not in page.text
        answer = client.post("/hotline", data={"csrf_token": csrf_of(page.text)},
                             files={"file": ("c.csv", gbk_csv(GOOD), "text/csv")})
        assert answer.status_code == 200 and "未配置热线导入目录" in answer.text
    finally:
        plain.app.close()


# -- in Chromium (marker ``browser``) ------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path, db_url: str, browser: Any,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    made = Site(tmp_path, db_url, web_extra=HOTLINE)
    made.add_people(PEOPLE)
    server = Background(made.asgi, "127.0.0.1", 0).start()
    try:
        yield Live(made, f"http://127.0.0.1:{server.port}", browser)
    finally:
        server.stop()
        made.app.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_hotline_staff_upload_in_the_browser_and_see_the_summary_come(live: Live,
                                                                      width: int) -> None:
    log = live.site.tmp / "今天的来电.csv"
    log.write_bytes(gbk_csv([*GOOD, BAD]))
    page = live.page("liuyang", width=width)
    page.get_by_role("link", name="导入热线记录").click()
    page.get_by_label("通话记录文件").set_input_files(str(log))
    page.get_by_role("button", name="上传并导入").click()
    page.wait_for_url("**/hotline/jobs/*")
    # htmx asks again until the import is done, then the summary replaces the progress.
    page.get_by_role("heading", name="今天的来电.csv 已导入").wait_for(timeout=30_000)
    figures = page.locator("dl.summary-figures").inner_text()
    assert "导入的通话\n2" in figures and "新立案件\n2" in figures
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    with page.expect_download() as download:
        page.get_by_role("link", name="下载错误报告（CSV）").click()
    report = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    assert download.value.suggested_filename == "今天的来电.errors.csv"
    assert ",4,来电时间" in report
    assert cases(live.site) == 2 and live.dialogs == []
    page.context.close()
