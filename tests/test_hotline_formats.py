"""Hotline call logs in every format staff save: xlsx (written here with openpyxl), JSON
lines, CSV read as a stream; and importing them (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from casework.clock import SHANGHAI
from casework.models import Case, IngestedItem, QuarantineItem
from intake.hotline import ColumnMap, parse_call_log, read_call_log
from intake.hotline.reader import CallLogScan
from tests.test_hotline import EN_HEADER, NOW, ZH_HEADER, Desk, call, desk, read_report

__all__ = ["desk"]  # the fixture, shared with test_hotline


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_call(**cells: object) -> list[object]:
    """A row under ZH_HEADER with the cell types Excel keeps: a datetime, a number."""
    row: dict[str, object] = dict(zip(ZH_HEADER, call(), strict=True))
    row.update({"来电时间": datetime(2026, 11, 24, 14, 5), "来电号码": 13800001201})
    row.update(cells)
    return [row[h] for h in ZH_HEADER]


# --- reading workbooks -------------------------------------------------------------------


def test_xlsx_cells_keep_their_meaning() -> None:
    data = workbook({"来电": [
        ["2026年11月 热线来电登记"],  # a title line above the header
        ZH_HEADER,
        xlsx_call(),
        xlsx_call(来电时间=46350.5, 来电号码=2155501234, 通话编号=1001, 诉求内容="挂号难"),
        xlsx_call(来电时间=datetime(2026, 11, 24, 14, 4, 59, 999000), 诉求内容="第三通"),
    ]})  # fmt: skip

    log = parse_call_log(data, "calls.xlsx")

    assert log.errors == () and log.encoding == "xlsx"
    first, serial, rounded = log.records
    assert first.row == 3 and first.source == "calls.xlsx [来电]"
    assert first.call_time == datetime(2026, 11, 24, 14, 5, tzinfo=SHANGHAI)
    assert first.phone == "+8613800001201"  # a number cell, not 13800001201.0
    assert serial.call_time == datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI)  # Excel serial
    assert serial.phone == "+862155501234"  # the trunk 0 Excel dropped is put back
    assert serial.call_id == "1001"
    assert rounded.call_time == datetime(2026, 11, 24, 14, 5, tzinfo=SHANGHAI)


def test_xlsx_with_english_headings() -> None:
    row = xlsx_call(来电人="Li Wei", 诉求内容="The pharmacy refused my prescription")
    data = workbook({"Sheet1": [EN_HEADER, row]})

    [record] = parse_call_log(data, "calls.xlsx").records

    assert (record.caller_name, record.content, record.to_inbound("x").language) == (
        "Li Wei", "The pharmacy refused my prescription", "en")  # fmt: skip


def test_every_sheet_is_read_and_a_notes_sheet_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = workbook({
        "11月24日": [ZH_HEADER, xlsx_call(诉求内容="甲")],
        "说明": [["本表由热线组填写"], ["请勿修改表头"]],
        "11月25日": [ZH_HEADER, xlsx_call(诉求内容="乙"), xlsx_call(来电时间="下周一")],
    })  # fmt: skip

    with caplog.at_level(logging.INFO, logger="complaintd.hotline"):
        log = parse_call_log(data, "week.xlsx")

    assert [(r.source, r.content) for r in log.records] == [
        ("week.xlsx [11月24日]", "甲"), ("week.xlsx [11月25日]", "乙")]  # fmt: skip
    [error] = log.errors
    assert (error.file, error.row, error.column) == ("week.xlsx [11月25日]", 3, "来电时间")
    assert "sheet 2 has no call-log headings; skipped" in caplog.text


def test_a_configured_sheet_is_the_only_one_read() -> None:
    data = workbook({"草稿": [ZH_HEADER, xlsx_call(诉求内容="草稿")],
                     "正式": [ZH_HEADER, xlsx_call(诉求内容="正式")]})  # fmt: skip

    chosen = parse_call_log(data, "calls.xlsx", sheet="正式")
    missing = parse_call_log(data, "calls.xlsx", sheet="汇总")

    assert [r.content for r in chosen.records] == ["正式"]
    assert missing.unreadable
    assert missing.errors[0].problem_en == (
        "the workbook has no sheet named '汇总' (it has: 草稿、正式)")  # fmt: skip


def test_every_kind_of_row_error_in_a_workbook() -> None:
    rows: list[list[object]] = [
        ZH_HEADER,
        xlsx_call(来电时间="昨天下午"),  # unreadable time
        xlsx_call(来电时间=datetime(2027, 1, 1, 9, 0)),  # in the future
        xlsx_call(来电号码="1.38E+10"),  # Excel's scientific notation
        xlsx_call(来电号码=12345),  # not a phone number
        xlsx_call(电子邮箱="wang@"),  # not an email address
        xlsx_call(诉求内容=None),  # required content missing
        xlsx_call(来电号码=None, 电子邮箱=None, 来电人="王丽华"),  # no way to reach the caller
        xlsx_call(是否回访="也许"),  # callback neither yes nor no
        xlsx_call(关联编号="2026-1"),  # not a reference number
        [*xlsx_call(), "多出来的格子"],  # a cell beyond the header
    ]
    log = parse_call_log(workbook({"来电": rows}), "bad.xlsx", now=NOW)

    assert log.records == ()
    assert [(e.row, e.column) for e in log.errors] == [
        (2, "来电时间"), (3, "来电时间"), (4, "来电号码"), (5, "来电号码"), (6, "电子邮箱"),
        (7, "诉求内容"), (8, "来电号码"), (9, "是否回访"), (10, "关联编号"), (11, ""),
    ]  # fmt: skip
    assert "scientific notation" in log.errors[2].problem_en
    assert log.rejected_rows == 10 and log.data_rows == 10


def test_a_workbook_without_call_log_columns_names_what_is_missing() -> None:
    data = workbook({"Sheet1": [["日期", "备注"], ["2026-11-24", "今天没有来电"]]})

    log = parse_call_log(data, "notes.xlsx")

    assert log.unreadable and log.rejected_rows == 1
    assert {e.column for e in log.errors} == {"来电时间 / call time", "诉求内容 / content",
                                              "来电号码 或 电子邮箱 / phone or email"}  # fmt: skip


def test_an_empty_workbook_is_refused() -> None:
    log = parse_call_log(workbook({"Sheet1": []}), "empty.xlsx")

    assert log.unreadable and log.errors[0].problem_en == "the workbook is empty"


def test_a_half_written_workbook_is_refused_as_damaged() -> None:
    data = workbook({"来电": [ZH_HEADER, xlsx_call()]})

    log = parse_call_log(data[: len(data) // 2], "copying.xlsx")

    assert log.unreadable and "damaged or incomplete" in log.errors[0].problem_en


# --- JSON lines -------------------------------------------------------------------------


def test_json_lines_keys_are_read_like_headings() -> None:
    lines = [
        {"Call time": "2026-11-24 09:30", "phone": 13800001201, "content": "挂号难",
         "备注": "转医务处"},
        {"来电时间": "2026/11/24 10:00", "电子邮箱": "li@example.cn", "诉求内容": "药费",
         "是否回访": True},
        "[1, 2]",
        "{not json",
        {"来电时间": "2026-11-24 11:00", "来电号码": "13800001203"},
    ]  # fmt: skip
    text = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)

    log = parse_call_log(("\n" + text + "\n\n").encode("utf-8"), "pbx.jsonl")

    first, second = log.records
    assert (first.row, first.phone, first.content) == (2, "+8613800001201", "挂号难")
    assert first.extra == (("备注", "转医务处"),)
    assert (second.email, second.callback) == ("li@example.cn", True)
    assert [(e.row, e.column) for e in log.errors] == [(4, ""), (5, ""), (6, "诉求内容 / content")]
    assert "JSON object" in log.errors[0].problem_en
    assert "not valid JSON" in log.errors[1].problem_en


# --- CSV as a stream, encodings, configured headings ------------------------------------


def test_a_csv_is_read_as_a_stream_not_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="gbk", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ZH_HEADER)
        for i in range(5_000):
            writer.writerow(call(诉求内容=f"第{i}通：药费报销被拒，要求复核"))
    size = path.stat().st_size

    with open(path, "rb") as fh:
        scan = iter(CallLogScan(fh, path.name))
        first = next(scan)
        position = fh.tell()

    assert first.row == 2  # type: ignore[union-attr]
    assert position < size / 4  # only the first chunks were read to give the first call


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_a_large_csv_in_each_encoding_is_detected_across_chunks(
    tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "calls.csv"
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ZH_HEADER)
        for i in range(2_500):  # > 1 MiB: detection reads more than one chunk
            text = f"第{i}通 朱镕基 陶喆 " + "药费报销被拒，要求复核。" * 25
            writer.writerow(call(诉求内容=text))
    assert path.stat().st_size > 1 << 20

    log = read_call_log(path)

    assert len(log.records) == 2_500 and log.errors == ()
    assert log.records[-1].content.startswith("第2499通 朱镕基 陶喆 药费")


def test_configured_headings_map_a_sites_own_columns(tmp_path: Path) -> None:
    header = ["来电时间", "来电号码", "问题描述"]
    path = tmp_path / "site.csv"
    path.write_text("\n".join([",".join(header), "2026-11-24 09:00,13800001201,挂号难"]),
                    encoding="utf-8")  # fmt: skip

    default = read_call_log(path)
    site = ColumnMap.default().extended({"content": ["问题描述"]})
    configured = read_call_log(path, columns=site)

    assert default.unreadable and "content" in default.errors[0].problem_en
    assert [r.content for r in configured.records] == ["挂号难"]


# --- importing workbooks ----------------------------------------------------------------


def drop_xlsx(desk: Desk, name: str, rows: list[list[object]]) -> Path:
    path = desk.folders.drop / name
    path.write_bytes(workbook({"来电": [ZH_HEADER, *rows]}))
    return path


def test_xlsx_import_archives_and_reports(desk: Desk) -> None:
    path = drop_xlsx(desk, "calls.xlsx", [xlsx_call(), xlsx_call(来电时间="?"),
                                          xlsx_call(诉求内容="挂号难")])  # fmt: skip
    data = path.read_bytes()

    [report] = desk.importer().scan()

    archived = desk.folders.archive / "2026-11-25" / "calls.xlsx"
    assert (report.imported, report.rejected_rows, report.archived_to) == (2, 1, archived)
    assert archived.read_bytes() == data
    assert report.report_path == archived.with_name("calls.errors.csv")
    [_headings, line] = read_report(report.report_path)
    assert line[:4] == ["calls.xlsx [来电]", "3", "来电时间", "?"]
    with desk.session_factory() as session:
        [quarantined] = session.scalars(select(QuarantineItem)).all()
        details = [i.detail.split(";")[0] for i in session.scalars(select(IngestedItem))]
    assert quarantined.location == "calls.xlsx [来电] row 3"
    assert details == ["calls.xlsx [来电] row 2", "calls.xlsx [来电] row 4"]


def test_the_same_xlsx_dropped_twice_and_as_csv_creates_nothing_twice(desk: Desk) -> None:
    rows = [xlsx_call(), xlsx_call(诉求内容="挂号难")]
    importer = desk.importer()
    drop_xlsx(desk, "calls.xlsx", rows)
    importer.scan()
    drop_xlsx(desk, "calls.xlsx", rows)
    desk.drop("calls.csv", [call(), call(诉求内容="挂号难")])  # the same calls, typed as text

    reports = importer.scan()

    assert sorted((r.file, r.imported, r.duplicates) for r in reports) == [
        ("calls.csv", 0, 2), ("calls.xlsx", 0, 2)]  # fmt: skip
    assert (desk.count(Case), desk.count(IngestedItem)) == (2, 2)


def test_xlsx_crash_between_import_and_archive_loses_and_doubles_nothing(desk: Desk) -> None:
    path = drop_xlsx(desk, "calls.xlsx", [xlsx_call(诉求内容=f"第{i}通") for i in range(7)])
    data = path.read_bytes()
    [first] = desk.importer(batch_size=3).scan()
    # What a crash after the commits and before the move leaves behind.
    os.rename(first.archived_to, desk.folders.processing / "calls.xlsx")

    [second] = desk.importer(batch_size=3).scan()

    assert (first.imported, second.imported, second.duplicates) == (7, 0, 7)
    assert second.archived_to.read_bytes() == data
    assert [s for _r, s in desk.cases()] == [f"第{i}通" for i in range(7)]


def test_a_half_written_xlsx_waits_then_a_truncated_one_is_rejected_whole(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    data = workbook({"来电": [ZH_HEADER, xlsx_call()]})
    path = desk.folders.drop / "copying.xlsx"
    path.write_bytes(data[:200])
    stat = path.stat()
    desk.clock.set(datetime.fromtimestamp(max(stat.st_mtime, stat.st_ctime), UTC)
                   + timedelta(seconds=5))  # fmt: skip
    importer = desk.importer(min_age_seconds=30)

    with caplog.at_level(logging.INFO, logger="complaintd.hotline"):
        assert importer.scan() == []  # still being copied: left alone
    assert "copying.xlsx is still being written" in caplog.text

    desk.clock.advance(timedelta(seconds=60))  # the copy died: the file stays truncated
    [report] = importer.scan()
    assert report.archived_to == desk.folders.rejected / "copying.xlsx"
    assert report.archived_to.read_bytes() == data[:200]  # kept as it came, for staff
    assert "damaged or incomplete" in report.errors[0].problem_en
    assert desk.count(Case) == 0 and desk.count(QuarantineItem) == 1


def test_files_that_are_not_call_logs_are_left_alone_with_one_log_line(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    (desk.folders.drop / "会议纪要.pdf").write_bytes(b"%PDF-1.7\n")
    (desk.folders.drop / "README").write_text("drop call logs here", encoding="utf-8")
    importer = desk.importer()

    with caplog.at_level(logging.INFO, logger="complaintd.hotline"):
        assert importer.scan() == [] and importer.scan() == []

    assert caplog.text.count("会议纪要.pdf is not a call log") == 1
    assert caplog.text.count("README is not a call log") == 1
    assert "left in the folder" in caplog.text
    assert (desk.folders.drop / "会议纪要.pdf").exists()


def test_an_old_xls_workbook_is_rejected_with_a_clear_message(desk: Desk) -> None:
    (desk.folders.drop / "calls.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))

    [report] = desk.importer().scan()

    assert report.archived_to == desk.folders.rejected / "calls.xls"
    assert "save it as .xlsx or CSV" in report.errors[0].problem_en


@pytest.mark.parametrize(
    ("languages", "headings"),
    [
        (("zh",), ["文件", "行", "列", "内容", "问题"]),
        (("en",), ["file", "row", "column", "value", "problem"]),
        (("zh", "en"), ["文件 file", "行 row", "列 column", "内容 value", "问题", "problem"]),
    ],
)
def test_error_report_languages(desk: Desk, languages: tuple[str, ...],
                                headings: list[str]) -> None:  # fmt: skip
    desk.drop("calls.csv", [call(来电时间="?")])

    [report] = desk.importer(report_languages=languages).scan()

    assert report.report_path is not None
    [top, line] = read_report(report.report_path)
    assert top == headings and len(line) == len(headings)


def test_the_same_call_twice_in_one_file_is_one_case(desk: Desk) -> None:
    desk.drop("calls.csv", [call(), call(诉求内容="挂号难"), call(), call(诉求内容="挂号难")])

    [report] = desk.importer(batch_size=3).scan()  # copies in the same batch and the next

    assert (report.imported, report.duplicates, report.rejected_rows) == (2, 2, 0)
    assert desk.count(Case) == 2


def test_a_file_imported_by_hand_from_another_disk_is_moved_in(desk: Desk) -> None:
    other_disk = Path("/dev/shm")
    if not other_disk.is_dir() or os.stat(other_disk).st_dev == os.stat(desk.folders.drop).st_dev:
        pytest.skip("needs /dev/shm on a file system of its own to test a move across disks")
    source = other_disk / f"hotline-test-{os.getpid()}.xlsx"
    source.write_bytes(workbook({"来电": [ZH_HEADER, xlsx_call()]}))
    try:
        report = desk.importer().import_file(source)
    finally:
        source.unlink(missing_ok=True)

    assert report is not None and report.imported == 1
    assert report.archived_to.parent.parent == desk.folders.archive and not source.exists()
