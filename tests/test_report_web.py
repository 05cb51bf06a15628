"""The console's report page: who may see it, the filters, the editions and the exports,
over HTTP on both databases, and in Chromium (charts drawn, no policy violation, a phone).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.fixtures.report_year import COMMENTS, SECRETS, VISITOR_NAMED, build_year
from tests.fixtures.web import SECRET, Site
from tests.test_web_browser import Live
from web.serve import Background


def seeded(site: Site) -> Site:
    with site.app.session_factory() as session:
        build_year(session)
        session.commit()
    site.add_people()
    return site


@pytest.fixture
def site(console_site: Site) -> Site:
    return seeded(console_site)


def test_only_the_roles_that_read_the_register_see_reports(site: Site) -> None:
    handler = site.signed_in("zhangwei")
    assert handler.get("/reports?year=2025").status_code == 403
    assert handler.get("/reports/figures.csv?year=2025").status_code == 403
    assert 'href="/reports"' not in handler.get("/").text
    supervisor = site.signed_in("wangfang")
    assert 'href="/reports"' in supervisor.get("/").text
    assert supervisor.get("/reports?year=2025").status_code == 200
    # The internal edition names staff: the director's and auditors', not a supervisor's.
    assert supervisor.get("/reports/annual.html?year=2025&edition=internal").status_code == 403
    assert site.client().get("/reports?year=2025").status_code == 303  # signed out


def test_the_page_shows_the_figures_and_filters_by_department(site: Site) -> None:
    director = site.signed_in("sunli")
    page = director.get("/reports?year=2025").text
    assert "按渠道" in page and "<th scope=\"row\">邮件</th><td>36</td>" in page
    assert "援助项目办理" in page  # the routing file's label for the category
    assert page.count('src="data:image/svg+xml;base64,') == 6  # and "problem solved"
    assert not [s for s in SECRETS if s in page]
    service = director.get("/reports?year=2025&department=service").text
    assert "<th scope=\"row\">合计</th><td>16</td>" in service
    unknown = director.get("/reports?year=2025&department=%3Cscript%3E").text
    assert "<th scope=\"row\">合计</th><td>54</td>" in unknown  # not a key: no filter


def test_editions_and_exports(site: Site) -> None:
    director = site.signed_in("sunli")
    public = director.get("/reports/annual.html?year=2025&edition=public")
    assert public.status_code == 200
    assert "script-src" not in public.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" in public.headers["content-security-policy"]
    assert not [s for s in SECRETS if s in public.text]
    assert "公开版" in public.text and "&lt;10" in public.text
    internal = director.get("/reports/annual.html?year=2025&edition=internal").text
    assert "staff-wangfang" in internal
    xlsx = director.get("/reports/figures.xlsx?year=2025&category=staff_conduct")
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    rows = list(book["by_channel"].iter_rows(values_only=True))
    assert rows[-1][:2] == ("合计", 16)
    text = director.get("/reports/figures.csv?year=2025").content.decode("utf-8-sig")
    assert ["by_channel", "按渠道", "网页", "案件数", "4"] in list(csv.reader(io.StringIO(text)))
    # Activity feedback: the comments in no edition, an event named on fewer than 10 forms
    # (a name a visitor typed) only in the internal one.
    assert ["activities", "活动意见函（按活动）", "助学金发放仪式", "意见函份数", "24"] in list(
        csv.reader(io.StringIO(text)))
    assert ["solved", "问题是否解决", "已解决", "回复数", "12"] in list(
        csv.reader(io.StringIO(text)))
    for edition in (public.text, text, director.get("/reports?year=2025").text):
        assert not [s for s in (*COMMENTS, VISITOR_NAMED) if s in edition]
    assert VISITOR_NAMED in internal and not [s for s in COMMENTS if s in internal]


@pytest.fixture
def live_reports(tmp_path: Path, db_url: str, browser: Any,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", SECRET)
    site = seeded(Site(tmp_path, db_url))
    server = Background(site.asgi, "127.0.0.1", 0).start()
    try:
        yield Live(site, f"http://127.0.0.1:{server.port}", browser)
    finally:
        server.stop()
        site.app.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_report_page_and_annual_report_in_chromium(live_reports: Live, width: int) -> None:
    page = live_reports.page("sunli", width=width)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text
            else None)
    page.goto(f"{live_reports.url}/reports?year=2025")
    charts = page.locator("img.chart")
    assert charts.count() == 6  # and "problem solved"
    assert all(charts.nth(i).evaluate("i => i.naturalWidth") > 0 for i in range(5))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_label("部门").select_option("service")
    page.get_by_role("button", name="查看").click()
    page.wait_for_url("**department=service**")
    assert "16" in page.locator("#by_channel tr.total").inner_text()
    page.goto(f"{live_reports.url}/reports/annual.html?year=2025&edition=public")
    assert page.locator("section#by_channel svg text").count() > 0  # text kept as text
    assert page.locator("section.rule").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert refused == []
    page.context.close()
