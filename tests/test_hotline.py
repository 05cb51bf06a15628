"""Hotline call logs: reading and checking files (pure), then importing them (database).

Every file is made by the test in ``tmp_path``. Import tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import fcntl
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import SHANGHAI, FixedClock
from casework.db import make_engine, make_sessionmaker
from casework.inbound import Inbound, Receipt
from casework.models import Case, IngestedItem, QuarantineItem
from casework.rawstore import RawStore, sha256_hex
from casework.status import CaseStatus
from intake.hotline import (
    ColumnMap,
    FieldProblem,
    HotlineFolders,
    HotlineImporter,
    ImportReport,
    RowError,
    normalise_email,
    normalise_phone,
    parse_call_log,
    parse_call_time,
    read_call_log,
)
from intake.hotline.report import write_error_report

# fmt: off
ZH_HEADER = [
    "通话编号", "来电时间", "来电号码", "来电人", "电子邮箱",
    "类别", "诉求内容", "接线员", "是否回访", "关联编号",
]
EN_HEADER = [
    "Call ID", "Call time", "Phone", "Caller name", "Email",
    "Category", "Content", "Operator", "Callback wanted", "Reference",
]
# fmt: on
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)
DEMO = (Path(__file__).resolve().parents[1] / "complaintd" / "cli" / "demo_data"
        / "hotline-2026-11-24.csv")


def call(**cells: str) -> list[str]:
    """A row under ZH_HEADER: a valid call unless a cell is overridden."""
    row = {
        "通话编号": "",
        "来电时间": "2026-11-24 14:05",
        "来电号码": "138-0000-1201",
        "来电人": "王丽华",
        "电子邮箱": "",
        "类别": "药品费用",
        "诉求内容": "医院收费与告知不一致",
        "接线员": "陈敏",
        "是否回访": "是",
        "关联编号": "",
    }
    row.update(cells)
    return [row[h] for h in ZH_HEADER]


def write_log(
    path: Path,
    rows: Sequence[Sequence[str]],
    *,
    header: Sequence[str] = ZH_HEADER,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- reading: encodings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "delimiter", "name", "detected"),
    [
        ("utf-8", ",", "朱镕基", "utf-8"),
        ("utf-8-sig", ",", "陶喆", "utf-8-sig"),
        # 镕 and 喆 are in GBK but not in GB2312: a GB2312 decoder would lose them.
        ("gbk", ",", "朱镕基 陶喆", "gb18030"),
        ("gb18030", ",", "𠮷野家", "gb18030"),  # 𠮷 needs GB18030's four-byte form
        ("utf-16", "\t", "陶喆", "utf-16"),  # Excel's "Unicode text" export
    ],
)
def test_reads_each_encoding_from_the_bytes(
    tmp_path: Path, encoding: str, delimiter: str, name: str, detected: str
) -> None:
    path = write_log(
        tmp_path / "calls.txt",
        [call(来电人=name, 诉求内容="药费报销被拒，要求复核")],
        encoding=encoding,
        delimiter=delimiter,
    )

    log = read_call_log(path)

    assert log.errors == ()
    assert log.encoding == detected
    [record] = log.records
    assert record.caller_name == name
    assert record.content == "药费报销被拒，要求复核"


def test_encoding_is_not_taken_from_the_file_name(tmp_path: Path) -> None:
    path = write_log(tmp_path / "utf8-export.csv", [call(来电人="陶喆")], encoding="gbk")

    [record] = read_call_log(path).records

    assert record.caller_name == "陶喆"


def test_a_broken_workbook_binary_or_empty_file_is_refused_as_a_whole(tmp_path: Path) -> None:
    workbook = parse_call_log(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(64), "calls.xlsx")
    old_excel = parse_call_log(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "calls.xls")
    binary = parse_call_log(b"\x00\x01\x02" * 50, "calls.csv")
    empty = parse_call_log(b"", "calls.csv")

    assert workbook.unreadable and "workbook is damaged" in workbook.errors[0].problem_en
    assert old_excel.unreadable and "old Excel file (.xls)" in old_excel.errors[0].problem_en
    assert binary.unreadable and "not a text file" in binary.errors[0].problem_en
    assert "另存为" in binary.errors[0].problem_zh
    assert empty.unreadable and empty.errors[0].problem_en == "the file is empty"


# --- reading: headings ----------------------------------------------------------------


def test_english_headings(tmp_path: Path) -> None:
    path = write_log(tmp_path / "en.csv", [call(来电人="Li Wei")], header=EN_HEADER)

    [record] = read_call_log(path).records

    assert (record.caller_name, record.phone, record.operator) == (
        "Li Wei",
        "+8613800001201",
        "陈敏",
    )


def test_headings_with_full_width_letters_spaces_and_another_order(tmp_path: Path) -> None:
    header = ["诉求 内容", "ＥＭＡＩＬ", "　来电时间　", "Phone Number", "类　别", "call_id"]
    rows = [["挂号难", "Ma.Li@Example.CN", "2026/11/24 9:30", "(021)5550 1234", "就医", "C-7"]]
    path = write_log(tmp_path / "odd.csv", rows, header=header)

    [record] = read_call_log(path).records

    assert record.content == "挂号难"
    assert record.email == "Ma.Li@example.cn"
    assert record.call_time == datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI)
    assert record.phone == "+862155501234"
    assert (record.category, record.call_id) == ("就医", "C-7")


def test_header_below_a_title_line_keeps_excel_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "titled.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["2026年11月24日 热线来电登记表"])
        writer.writerow(ZH_HEADER)
        writer.writerow(call())
        writer.writerow([""] * len(ZH_HEADER))  # blank rows are not calls
        writer.writerow(call(来电时间="明天"))

    log = read_call_log(path)

    assert [r.row for r in log.records] == [3]
    assert [e.row for e in log.errors] == [5]
    assert log.data_rows == 2


def test_unknown_columns_are_kept_not_lost(tmp_path: Path) -> None:
    path = write_log(tmp_path / "x.csv", [[*call(), "患者在瑞金医院"]], header=[*ZH_HEADER, "备注"])

    [record] = read_call_log(path).records

    assert record.extra == (("备注", "患者在瑞金医院"),)
    assert record.to_inbound("x.csv").extra["column 备注"] == "患者在瑞金医院"


def test_second_column_for_a_field_is_read_when_the_first_is_blank(tmp_path: Path) -> None:
    header = ["来电时间", "诉求内容", "来电号码", "主叫号码"]
    rows = [
        ["2026-11-24 10:00", "a", "", "13800001205"],
        ["2026-11-24 10:00", "b", "13800001206", "13800001207"],
    ]
    path = write_log(tmp_path / "two-phones.csv", rows, header=header)

    phones = [r.phone for r in read_call_log(path).records]

    assert phones == ["+8613800001205", "+8613800001206"]


def test_cells_beyond_the_header_are_an_error_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "typed.csv"
    text = "来电时间,来电号码,诉求内容\n2026-11-24 10:00,13800001201,药费太高,还没有报销\n"
    path.write_text(text, encoding="utf-8")

    [error] = read_call_log(path).errors

    assert (error.row, error.value) == (2, "还没有报销")
    assert "more cells than the header" in error.problem_en


def test_a_site_can_add_heading_aliases(tmp_path: Path) -> None:
    header = ["受理时间", "客户电话", "事由"]
    path = write_log(
        tmp_path / "site.csv", [["2026-11-24 10:00", "13800001208", "退费"]], header=header
    )
    site = ColumnMap.default().extended(
        {"call_time": ["受理时间"], "phone": ["客户电话"], "content": ["事由"]}
    )

    assert read_call_log(path).unreadable
    [record] = read_call_log(path, columns=site).records
    assert (record.phone, record.content) == ("+8613800001208", "退费")


def test_column_map_refuses_unknown_fields_and_ambiguous_aliases() -> None:
    with pytest.raises(ValueError, match="unknown call-log fields: colour"):
        ColumnMap.default().extended({"colour": ["颜色"]})
    with pytest.raises(ValueError, match="both"):
        ColumnMap.default().extended({"operator": ["来电号码"]})


@pytest.mark.parametrize(
    ("drop", "zh", "en"),
    [
        ("来电时间", "来电时间", "call time"),
        ("诉求内容", "诉求内容", "content"),
    ],
)
def test_missing_required_column_is_a_file_error_naming_it(
    tmp_path: Path, drop: str, zh: str, en: str
) -> None:
    keep = [i for i, h in enumerate(ZH_HEADER) if h != drop]
    header = [ZH_HEADER[i] for i in keep]
    path = write_log(tmp_path / "short.csv", [[call()[i] for i in keep]], header=header)

    log = read_call_log(path)

    assert log.unreadable and log.records == ()
    [error] = log.errors
    assert (error.file, error.row, error.column) == ("short.csv", 1, f"{zh} / {en}")
    assert error.problem_zh == f"缺少必需的列：{zh}"
    assert error.problem_en == f"a required column is missing: {en}"
    assert log.data_rows == 1


def test_a_file_without_phone_or_email_column_is_refused(tmp_path: Path) -> None:
    path = write_log(
        tmp_path / "nocontact.csv", [["2026-11-24 10:00", "x"]], header=["来电时间", "诉求内容"]
    )

    [error] = read_call_log(path).errors

    assert error.column == "来电号码 或 电子邮箱 / phone or email"


# --- checking values ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-11-24 14:05", datetime(2026, 11, 24, 14, 5)),
        ("2026/11/24 14:05:00", datetime(2026, 11, 24, 14, 5)),
        ("2026/11/24", datetime(2026, 11, 24)),
        ("2026/1/5 9:05", datetime(2026, 1, 5, 9, 5)),
        ("2026年11月24日 14时05分", datetime(2026, 11, 24, 14, 5)),
        ("2026年11月24日14:05", datetime(2026, 11, 24, 14, 5)),
        ("2026年11月24日 下午2点半", datetime(2026, 11, 24, 14, 30)),
        ("2026/11/24 2:05 PM", datetime(2026, 11, 24, 14, 5)),
        ("２０２６－１１－２４　１４：０５", datetime(2026, 11, 24, 14, 5)),
        ("46350.5", datetime(2026, 11, 24, 12, 0)),
        ("46350.58681", datetime(2026, 11, 24, 14, 5)),
    ],
)
def test_call_times_as_staff_type_them(typed: str, expected: datetime) -> None:
    parsed = parse_call_time(typed)

    assert parsed == expected.replace(tzinfo=SHANGHAI)
    assert parsed.tzinfo is SHANGHAI


def test_a_time_with_an_offset_is_moved_to_shanghai() -> None:
    parsed = parse_call_time("2026-11-24T06:05:00+00:00")

    assert (parsed.hour, parsed.utcoffset()) == (14, timedelta(hours=8))


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("24/11/2026 14:05", "unrecognised time"),
        ("11月24日下午", "unrecognised time"),
        ("2026-02-30 10:00", "no such date"),
        ("2026-11-24 25:00", "no such date"),
        ("12345", "not an Excel date"),
        ("", "empty"),
    ],
)
def test_call_times_that_are_refused(typed: str, problem: str) -> None:
    with pytest.raises(FieldProblem, match=problem):
        parse_call_time(typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("0086 13812345678", "+8613812345678"),
        ("8613812345678", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),
        ("13812345678.0", "+8613812345678"),
        ("021-12345678", "+862112345678"),
        ("(021)12345678", "+862112345678"),
        ("（021）1234 5678", "+862112345678"),
        ("12345678", "+862112345678"),  # 8 digits alone: a Shanghai landline
        ("+86 21 1234 5678", "+862112345678"),
        ("010-87654321", "+861087654321"),
        ("0571-87654321", "+8657187654321"),
        ("021-12345678转801", "+862112345678;ext=801"),
        ("400-123-4567", "+864001234567"),
        ("+852 2123 4567", "+85221234567"),
    ],
)
def test_phone_numbers_are_normalised(typed: str, expected: str) -> None:
    assert normalise_phone(typed) == expected


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("1.38123E+10", "scientific notation"),
        ("1234567", "not a valid phone number"),  # 7 digits: which city?
        ("138123456789", "not a valid phone number"),
        ("12812345678", "not a valid phone number"),  # no mobile prefix 12x
        ("5550123", "not a valid phone number"),
        ("call me", "characters"),
    ],
)
def test_phone_numbers_that_are_refused(typed: str, problem: str) -> None:
    with pytest.raises(FieldProblem, match=problem):
        normalise_phone(typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("li.wei@Example.CN", "li.wei@example.cn"),
        ("李伟 <li.wei@example.com>", "li.wei@example.com"),
        ("ｌｉ＠ｅｘａｍｐｌｅ．ｃｎ", "li@example.cn"),
    ],
)
def test_emails_are_checked_for_form(typed: str, expected: str) -> None:
    assert normalise_email(typed) == expected


@pytest.mark.parametrize(
    "typed", ["li.wei", "li@", "li@example", "a@example.cn; b@example.cn", "li wei@example.cn"]
)
def test_emails_that_are_refused(typed: str) -> None:
    with pytest.raises(FieldProblem):
        normalise_email(typed)


def test_every_kind_of_row_error_names_file_row_and_column(tmp_path: Path) -> None:
    rows = [
        call(来电时间="下周一"),
        call(来电时间=""),
        call(诉求内容="  "),
        call(来电号码="555"),
        call(电子邮箱="wang@"),
        call(来电号码="", 电子邮箱=""),
        call(是否回访="也许"),
        call(关联编号="第3号"),
        call(来电时间="2026-12-24 10:00"),  # after NOW: a mistyped month
        call(来电时间="1999-11-24 10:00"),
    ]
    path = write_log(tmp_path / "bad.csv", rows)

    log = read_call_log(path, now=NOW)

    expected = {
        2: ("来电时间", "下周一", "unrecognised time; write it like 2026-11-24 14:05"),
        3: ("来电时间", "", "required, cannot be blank"),
        4: ("诉求内容", "  ", "required, cannot be blank"),
        5: ("来电号码", "555", "not a valid phone number"),
        6: ("电子邮箱", "wang@", "this is not an email address"),
        7: ("来电号码", "", "no way to reach the caller"),
        8: ("是否回访", "也许", "callback wanted must be 是 (yes) or 否 (no)"),
        9: ("关联编号", "第3号", "the case reference should look like LO-2026-000001"),
        10: ("来电时间", "2026-12-24 10:00", "the call time is in the future"),
        11: ("来电时间", "1999-11-24 10:00", "the year is before 2000"),
    }
    assert [e.row for e in log.errors] == list(expected)
    for error in log.errors:
        column, value, problem = expected[error.row]
        assert (error.file, error.column, error.value) == ("bad.csv", column, value)
        assert error.problem_en.startswith(problem), error
    assert all(e.problem_zh for e in log.errors)
    assert log.records == ()


def test_all_problems_of_a_row_are_reported_together(tmp_path: Path) -> None:
    path = write_log(tmp_path / "bad.csv", [call(来电时间="x", 来电号码="1", 是否回访="?")])

    columns = [e.column for e in read_call_log(path).errors]

    assert columns == ["来电时间", "来电号码", "是否回访"]


def test_anonymous_caller_needs_no_contact(tmp_path: Path) -> None:
    rows = [
        call(来电人="匿名", 来电号码=""),
        call(来电人="", 来电号码="匿名"),
        call(来电人="Anonymous", 来电号码="13800001209"),
    ]
    path = write_log(tmp_path / "anon.csv", rows)

    records = read_call_log(path).records

    assert [(r.anonymous, r.caller_name, r.phone) for r in records] == [
        (True, None, None),
        (True, None, None),
        (True, None, "+8613800001209"),
    ]


def test_record_becomes_an_inbound(tmp_path: Path) -> None:
    content = "医院收费与告知不一致，患者要求院方出具完整的费用明细并书面答复"
    rows = [
        call(
            通话编号="HL-9",
            电子邮箱="wang@example.cn",
            关联编号="lo-2026-000001",
            诉求内容=content + "\n第二行",
            是否回访="否",
        )
    ]
    path = write_log(tmp_path / "calls.csv", rows)
    [record] = read_call_log(path).records

    inbound = record.to_inbound("calls.csv", raw_sha256="ab" * 32, raw_size=99)

    assert inbound.channel == "hotline"
    assert inbound.received_at == datetime(2026, 11, 24, 14, 5, tzinfo=SHANGHAI)
    # Chinese is cut after 30 characters, anywhere: it has no spaces to cut at.
    assert inbound.subject == "药品费用：" + content[:30] + "…"
    assert inbound.text.endswith("\n第二行")
    assert (inbound.language, inbound.sender_name) == ("zh", "王丽华")
    assert (inbound.sender_phone, inbound.sender_email) == ("+8613800001201", "wang@example.cn")
    assert (inbound.reference_hint, inbound.category_hint) == ("LO-2026-000001", "药品费用")
    assert inbound.origin == "hotline calls.csv row 2"
    assert (inbound.raw_sha256, inbound.raw_size) == ("ab" * 32, 99)
    assert inbound.extra == {"operator": "陈敏", "callback": "no", "call_id": "HL-9"}


def test_english_content_gets_an_english_subject_cut_at_a_word(tmp_path: Path) -> None:
    text = "The pharmacy refused my reimbursement form twice"
    path = write_log(tmp_path / "en.csv", [call(类别="billing", 诉求内容=text)])
    [record] = read_call_log(path).records

    inbound = record.to_inbound("en.csv")

    assert inbound.language == "en"
    assert inbound.subject == "billing: The pharmacy refused my…"


def test_demo_call_log_has_three_calls_and_one_bad_row() -> None:
    log = read_call_log(DEMO, now=NOW)

    assert log.encoding == "gb18030"
    assert [r.row for r in log.records] == [2, 3, 4]
    assert [r.email is not None for r in log.records[:2]] == [True, False]
    assert log.records[2].reference == "LO-2026-000001"
    [error] = log.errors
    assert (error.row, error.column) == (5, "来电时间")


# --- importing --------------------------------------------------------------------------


def recording_handler(session: Session, inbound: Inbound) -> Receipt:
    """Casework stand-in: a follow-up when the reference exists, else a new case.

    Fails halfway (after writing its case) on content containing "BOOM", to show that one
    failing row leaves nothing behind and does not stop the file.
    """
    if inbound.reference_hint:
        case = session.scalar(select(Case).where(Case.reference == inbound.reference_hint))
        if case is not None:
            return Receipt(case.id, case.reference, "follow_up")
    number = (session.scalar(select(func.count()).select_from(Case)) or 0) + 1
    case = Case(
        reference=f"LO-2026-{number:06d}",
        status=CaseStatus.RECEIVED,
        channel=inbound.channel,
        subject=inbound.subject,
        summary=inbound.text,
        language=inbound.language,
        category=inbound.category_hint,
        received_at=inbound.received_at,
        created_at=inbound.received_at,
        updated_at=inbound.received_at,
    )
    session.add(case)
    session.flush()
    if "BOOM" in inbound.text:
        raise RuntimeError("handler refused the call")
    return Receipt(case.id, case.reference, "case")


@dataclass
class Desk:
    """A drop folder wired to an importer, and ways to look at what it did."""

    folders: HotlineFolders
    clock: FixedClock
    raw_store: RawStore
    session_factory: sessionmaker[Session]

    def importer(
        self,
        *,
        min_age_seconds: float = 0,
        batch_size: int = 500,
        sessions: sessionmaker[Session] | None = None,
        report_languages: Sequence[str] = ("zh", "en"),
        columns: ColumnMap | None = None,
        sheet: str | None = None,
    ) -> HotlineImporter:
        return HotlineImporter(
            sessions or self.session_factory, self.raw_store, self.clock, recording_handler,
            self.folders, min_age_seconds=min_age_seconds, batch_size=batch_size,
            report_languages=report_languages, columns=columns, sheet=sheet,
        )  # fmt: skip

    def drop(
        self, name: str, rows: Sequence[Sequence[str]], header: Sequence[str] = ZH_HEADER
    ) -> Path:
        return write_log(self.folders.drop / name, rows, header=header)

    def count(self, model: type[object]) -> int:
        with self.session_factory() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0

    def cases(self) -> list[tuple[str, str]]:
        with self.session_factory() as session:
            return [
                (c.reference, c.summary) for c in session.scalars(select(Case).order_by(Case.id))
            ]


@pytest.fixture
def desk(tmp_path: Path, session_factory: sessionmaker[Session]) -> Desk:
    folders = HotlineFolders.inside(tmp_path / "hotline")
    folders.ensure()
    return Desk(folders, FixedClock(NOW), RawStore(tmp_path / "raw"), session_factory)


def read_report(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def test_good_rows_are_imported_and_bad_ones_reported(desk: Desk) -> None:
    path = desk.drop(
        "calls.csv",
        [
            call(通话编号="C1"),
            call(来电时间="下周一"),
            call(诉求内容="挂号难", 来电号码="13800001202"),
        ],
    )
    data = path.read_bytes()

    [report] = desk.importer().scan()

    archived = desk.folders.archive / "2026-11-25" / "calls.csv"
    assert report == ImportReport(
        file="calls.csv", imported=2, follow_ups=0, duplicates=0, rejected_rows=1,
        report_path=archived.with_name("calls.errors.csv"), archived_to=archived,
        errors=report.errors,
    )  # fmt: skip
    assert archived.read_bytes() == data and not path.exists()
    assert sha256_hex(data) in desk.raw_store
    assert [summary for _ref, summary in desk.cases()] == ["医院收费与告知不一致", "挂号难"]
    assert read_report(archived.with_name("calls.errors.csv")) == [
        ["文件 file", "行 row", "列 column", "内容 value", "问题", "problem"],
        [
            "calls.csv", "3", "来电时间", "下周一",
            "无法识别的时间，请写成 2026-11-24 14:05 这样的格式",
            "unrecognised time; write it like 2026-11-24 14:05",
        ],
    ]  # fmt: skip


def test_ledger_and_quarantine_rows(desk: Desk) -> None:
    desk.drop("calls.csv", [call(通话编号="C1"), call(诉求内容="挂号难"), call(来电时间="?")])

    desk.importer().scan()

    with desk.session_factory() as session:
        ledger = session.scalars(select(IngestedItem).order_by(IngestedItem.id)).all()
        quarantined = session.scalars(select(QuarantineItem)).all()
    assert {(i.source, i.folder, i.uidvalidity, i.outcome) for i in ledger} == {
        ("hotline", "calls", 0, "case")
    }
    assert ledger[0].uid == "C1"
    assert len(ledger[1].uid) == 64  # no call id: the fingerprint of time, phone and content
    assert ledger[1].uid == ledger[1].raw_sha256
    [item] = quarantined
    assert (item.source, item.location) == ("hotline", "calls.csv row 4")
    assert "unrecognised time" in item.reason and "archive/2026-11-25/calls.csv" in item.reason


def test_a_follow_up_is_counted_as_one(desk: Desk) -> None:
    desk.drop("calls.csv", [call(), call(诉求内容="补充材料已寄出", 关联编号="LO-2026-000001")])

    [report] = desk.importer().scan()

    assert (report.imported, report.follow_ups) == (2, 1)
    assert desk.count(Case) == 1


def test_dropping_the_same_file_twice_creates_nothing_twice(desk: Desk) -> None:
    rows = [call(通话编号="C1"), call(诉求内容="挂号难"), call(来电时间="?")]
    desk.drop("calls.csv", rows)
    importer = desk.importer()
    importer.scan()
    desk.drop("calls.csv", rows)

    [again] = importer.scan()

    assert (again.imported, again.duplicates, again.rejected_rows) == (0, 2, 1)
    assert again.archived_to == desk.folders.archive / "2026-11-25" / "calls.2.csv"
    assert (desk.count(Case), desk.count(IngestedItem), desk.count(QuarantineItem)) == (2, 2, 1)


def test_the_same_call_with_and_without_a_call_id_is_one_call(desk: Desk) -> None:
    desk.drop("typed.csv", [call()])
    importer = desk.importer()
    importer.scan()
    desk.drop("export.csv", [call(通话编号="PBX-1")])

    [report] = importer.scan()

    assert (report.imported, report.duplicates) == (0, 1)


def test_a_call_id_reused_for_another_call_is_reported(desk: Desk) -> None:
    desk.drop("a.csv", [call(通话编号="7")])
    importer = desk.importer()
    importer.scan()
    desk.drop("b.csv", [call(通话编号="7", 诉求内容="另一件事")])

    [report] = importer.scan()

    assert (report.imported, report.rejected_rows) == (0, 1)
    assert report.errors[0].column == "通话编号 / call id"
    assert report.archived_to.parent == desk.folders.rejected
    assert desk.count(Case) == 1


def test_crash_after_commit_before_archive_is_finished_at_next_scan(desk: Desk) -> None:
    path = desk.drop("calls.csv", [call(), call(诉求内容="挂号难"), call(来电时间="?")])
    data = path.read_bytes()
    importer = desk.importer()
    [first] = importer.scan()
    # The state a crash leaves: rows committed, the file still in processing/, no report.
    os.rename(first.archived_to, desk.folders.processing / "calls.csv")
    assert first.report_path is not None
    first.report_path.unlink()

    [second] = desk.importer().scan()  # a new process: nothing remembered but the database

    assert (second.imported, second.duplicates, second.rejected_rows) == (0, 2, 1)
    assert second.archived_to == first.archived_to and second.archived_to.read_bytes() == data
    assert second.report_path is not None and second.report_path.exists()
    assert list(desk.folders.processing.iterdir()) == []
    assert (desk.count(Case), desk.count(QuarantineItem)) == (2, 1)


def test_a_file_being_imported_by_another_worker_is_left_alone(desk: Desk) -> None:
    path = write_log(desk.folders.processing / "calls.csv", [call()])
    with open(path, "rb") as other_worker:
        fcntl.flock(other_worker.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

        assert desk.importer().scan() == []
        assert path.exists() and desk.count(Case) == 0

    [report] = desk.importer().scan()  # the lock died with its holder: taken up again
    assert report.imported == 1


def test_half_written_file_waits_until_it_settles(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    path = desk.drop("calls.csv", [call(来电时间="2026-11-24 08:00")])
    stat = path.stat()
    desk.clock.set(
        datetime.fromtimestamp(max(stat.st_mtime, stat.st_ctime), UTC) + timedelta(seconds=5)
    )
    importer = desk.importer(min_age_seconds=30)

    with caplog.at_level(logging.INFO, logger="complaintd.hotline"):
        assert importer.scan() == []
    assert path.exists()
    assert "calls.csv is still being written" in caplog.text

    with path.open("a", encoding="utf-8", newline="") as fh:  # the copy goes on
        csv.writer(fh).writerow(call(来电时间="2026-11-24 08:30", 诉求内容="第二通"))
    desk.clock.advance(timedelta(seconds=60))
    assert importer.scan() == []  # changed since the last look: wait again

    desk.clock.advance(timedelta(seconds=31))
    [report] = importer.scan()
    assert report.imported == 2


def test_temporary_and_hidden_names_are_ignored(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    names = ["~$calls.csv", ".calls.csv", "calls.csv.tmp", "calls.csv.part"]
    for name in names:
        desk.drop(name, [call()])
    importer = desk.importer()

    with caplog.at_level(logging.INFO, logger="complaintd.hotline"):
        assert importer.scan() == [] and importer.scan() == []

    assert caplog.text.count("calls.csv.part has a temporary or hidden name") == 1
    assert sorted(p.name for p in desk.folders.drop.iterdir() if p.is_file()) == sorted(names)
    assert desk.count(Case) == 0


def test_file_without_a_required_column_is_rejected(desk: Desk) -> None:
    header = [h for h in ZH_HEADER if h != "诉求内容"]
    desk.drop("calls.csv", [call()[:6] + call()[7:]], header=header)

    [report] = desk.importer().scan()

    assert report.archived_to == desk.folders.rejected / "calls.csv"
    assert (report.imported, report.rejected_rows) == (0, 1)
    assert report.report_path is not None
    [_headings, line] = read_report(report.report_path)
    assert line[:3] == ["calls.csv", "1", "诉求内容 / content"]
    assert line[4:] == ["缺少必需的列：诉求内容", "a required column is missing: content"]
    assert desk.count(Case) == 0
    assert desk.count(QuarantineItem) == 1


def test_a_failing_row_is_quarantined_and_the_rest_imported(desk: Desk) -> None:
    rows = [call(诉求内容=f"第{i}通") for i in range(5)]
    rows[3] = call(诉求内容="BOOM")
    desk.drop("calls.csv", rows)

    [report] = desk.importer(batch_size=2).scan()

    assert (report.imported, report.rejected_rows) == (4, 1)
    assert report.errors[0].row == 5 and "RuntimeError" in report.errors[0].problem_en
    assert [s for _r, s in desk.cases()] == ["第0通", "第1通", "第2通", "第4通"]
    assert desk.count(IngestedItem) == 4
    assert desk.count(QuarantineItem) == 1


def test_a_file_that_keeps_failing_is_rejected_after_three_tries(desk: Desk) -> None:
    path = write_log(desk.folders.processing / "calls.csv", [call()])
    (desk.folders.processing / ".calls.csv.attempts").write_text("3")

    [report] = desk.importer().scan()

    assert report.archived_to == desk.folders.rejected / "calls.csv"
    assert "failed 3 times" in report.errors[0].problem_en
    assert not path.exists() and desk.count(Case) == 0
    assert list(desk.folders.processing.iterdir()) == []


def test_database_down_does_not_use_up_the_tries(
    desk: Desk, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = desk.drop("calls.csv", [call()])
    unreachable = make_sessionmaker(make_engine(f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3"))
    down = desk.importer(sessions=unreachable)

    with caplog.at_level(logging.INFO, logger="complaintd.hotline"):
        for _ in range(5):
            assert down.scan() == []

    claimed = desk.folders.processing / "calls.csv"
    assert claimed.exists() and not path.exists()
    assert "calls.csv not imported (OperationalError); retried at the next scan" in caplog.text
    assert "Traceback" not in caplog.text  # it may quote a caller; DEBUG only
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="complaintd.hotline"):
        down.scan()
    assert "Traceback" in caplog.text
    [report] = desk.importer().scan()  # the database is back
    assert report.imported == 1


def test_no_personal_data_is_logged_above_debug(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    desk.drop(
        "calls.csv", [call(电子邮箱="wang@example.cn"), call(来电号码="1"), call(诉求内容="BOOM")]
    )

    with caplog.at_level(logging.INFO, logger="complaintd.hotline"):
        desk.importer().scan()

    assert "calls.csv" in caplog.text
    for secret in ("王丽华", "138", "wang@example.cn", "医院收费", "BOOM", "handler refused"):
        assert secret not in caplog.text


def test_demo_file_imports_with_one_rejected_row(desk: Desk) -> None:
    (desk.folders.drop / DEMO.name).write_bytes(DEMO.read_bytes())

    [report] = desk.importer().scan()

    assert (report.imported, report.follow_ups, report.rejected_rows) == (3, 1, 1)


def test_error_report_does_not_let_excel_run_a_cell_as_a_formula(tmp_path: Path) -> None:
    error = RowError("a.csv", 2, "来电号码", '=HYPERLINK("http://example.com")', "不对", "wrong")

    [_headings, line] = read_report(write_error_report(tmp_path / "a.errors.csv", [error]))

    assert line[3] == '\'=HYPERLINK("http://example.com")'
