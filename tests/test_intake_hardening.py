"""Issue 12, "nothing stalls or poisons intake": a stranger's mail cannot make intake's work
grow faster than its size, cannot pick a codec, and a mail that fails to parse is still a
complaint. No test here times anything: each checks the bound itself (the pattern engine is
linear by construction, the input is cut, the parts are counted)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl.xml
import pytest
import re2  # type: ignore[import-untyped]
from openpyxl import Workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

import casework.quotes
import intake.biglinks
import intake.machine
import intake.mail
import intake.threading_hints
import intake.understand
from casework.db import make_engine
from casework.models import Case
from casework.quotes import strip_quoted
from casework.rawstore import RawStore, sha256_hex
from intake.biglinks import large_file_links
from intake.charsets import decode_bytes, normalise_charset
from intake.hotline import HotlineFolders, RowError, formats, parse_call_log
from intake.hotline.report import write_error_report
from intake.htmltext import MAX_NESTING, html_to_text, too_complex
from intake.ledger import SourceItem
from intake.mail import MAX_CONTAINERS, MAX_PARTS, parse_mail
from intake.threading_hints import reference_hint
from intake.understand import MailUnderstanding
from tests.test_hotline import ZH_HEADER, Desk, call, desk, read_report, write_log
from tests.test_intake_support import make_app

__all__ = ["desk"]  # the fixture, shared with tests/test_hotline.py

MB = 1 << 20


def understand(raw: bytes) -> Any:
    item = SourceItem("maildir", "INBOX", 0, "1", raw)
    return MailUnderstanding()(item, "0" * 64, datetime(2026, 12, 2, tzinfo=UTC))


def mail(body: bytes, *headers: str, content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = ["From: 张先生 <zhang@example.cn>", "Subject: 投诉", "Message-ID: <h1@example.cn>",
            "MIME-Version: 1.0", f"Content-Type: {content_type}", *headers]
    return "\r\n".join(head).encode() + b"\r\n\r\n" + body


# -- 1. no super-linear pattern on mail text ------------------------------------------------


def test_patterns_on_mail_text_run_on_a_linear_engine() -> None:
    # RE2 matches in time linear in the text by construction: no input can make it backtrack.
    patterns = [intake.biglinks.LINK, casework.quotes._MARKERS, intake.threading_hints._LOOSE,
                intake.machine._DAEMONS, intake.machine._AUTO_SUBJECT,
                intake.machine._DAEMON_NAMES]
    compiled_type = type(re2.compile("x"))
    assert all(isinstance(p, compiled_type) for p in patterns)


def test_bounce_patterns_run_on_a_linear_engine() -> None:
    import intake.bounces

    compiled_type = type(re2.compile("x"))
    assert isinstance(intake.bounces._QUOTED_ID, compiled_type)
    assert isinstance(intake.bounces._LOOP, compiled_type)


def test_pathological_bodies_are_read_correctly() -> None:
    # Each of these took from seconds to hours with the backtracking patterns.
    assert large_file_links("http://" * (MB // 7), None) == ()
    link = "https://mail.qq.com/cgi-bin/ftnExs_download?k=1"
    assert large_file_links("http://" * 10_000 + " " + link, None) == (link,)
    assert strip_quoted("新内容" + "\n" * MB + "在 2026年12月1日 张三 写道：\n旧") == "新内容"
    assert strip_quoted(" \n" * (MB // 2) + "x") == "x"
    assert reference_hint("LO" + " " * MB) is None
    assert reference_hint("回复：【LO－2026－000123】" + " " * MB) == "LO-2026-000123"


def test_large_file_links_are_bounded() -> None:
    links = " ".join(f"https://ftn.qq.com/f{n}" for n in range(100))
    assert len(large_file_links(links, None)) == intake.biglinks.MAX_LINKS
    (long_link,) = large_file_links("https://ftn.qq.com/" + "a" * MB, None)
    assert len(long_link) == intake.biglinks.MAX_LINK


def test_html_that_would_be_quadratic_is_not_given_to_the_html_parser() -> None:
    nested = "<div>" * (MAX_NESTING + 1) + "投诉内容"
    assert too_complex(nested) is not None
    assert too_complex("&" * MB) is not None
    assert too_complex("<div></x>" * (MAX_NESTING + 1)) is not None  # stray closers count not
    assert too_complex("<div>x</div>" * 100_000) is None  # long but flat: fine
    parsed = parse_mail(mail(nested.encode(), content_type="text/html; charset=utf-8"))
    assert parsed.text == "投诉内容" and parsed.html is None
    assert any("HTML body not kept" in p for p in parsed.problems)


def test_html_text_unchanged_for_ordinary_mail() -> None:
    html = ("<html><head><title>T</title><style>p{}</style></head><body><p>a<br>b</p>"
            "<script>x()</script><div>c &amp; d &lt;e&nbsp;f</div><h1>标题</h1>尾</body></html>")
    assert html_to_text(html) == "a\nb\n\nc & d <e f\n\n标题\n尾"


# -- 2. bounded parse work -------------------------------------------------------------------


def nested_mail(depth: int) -> bytes:
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(depth))
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    return (b"From: zhang@example.cn\r\nSubject: nested\r\nMIME-Version: 1.0\r\n" + opening
            + b"Content-Type: text/plain\r\n\r\nhello\r\n" + closing)


def many_parts_mail(parts: int) -> bytes:
    one = (b"--b\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Disposition: attachment; filename=a.bin\r\n\r\nx\r\n")
    return (b"From: zhang@example.cn\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + one * parts + b"--b--\r\n")


def test_deep_nesting_is_cut_before_the_parser_recurses() -> None:
    # 2,000 nested parts made the standard parser raise RecursionError (quarantine).
    understood = understand(nested_mail(5000))
    assert understood.inbound is not None
    assert str(MAX_CONTAINERS) in understood.inbound.extra["parse_problems"]
    assert "read in part" in understood.inbound.extra["classification"]


def test_nesting_within_the_parser_bound_is_read_to_max_depth_only() -> None:
    parsed = parse_mail(nested_mail(MAX_CONTAINERS - 4))
    assert parsed.text == "" and any("nested deeper" in p for p in parsed.problems)
    assert parse_mail(nested_mail(3)).text == "hello" and parse_mail(nested_mail(3)).problems == ()


def test_100000_tiny_parts_do_not_become_100000_files() -> None:
    understood = understand(many_parts_mail(100_000))
    assert understood.inbound is not None
    assert len(understood.blobs) < MAX_PARTS
    assert len(understood.inbound.attachments) < MAX_PARTS
    assert "the rest is in the raw mail only" in understood.inbound.extra["parse_problems"]


def test_part_count_cap_without_the_delimiter_cut() -> None:
    # Within the delimiter bound, the walk itself stops at MAX_PARTS.
    parsed = parse_mail(many_parts_mail(MAX_PARTS + 20))
    assert len(parsed.attachments) == MAX_PARTS - 1  # the root is one of the parts read
    assert any(f"more than {MAX_PARTS} parts" in p for p in parsed.problems)


@pytest.mark.parametrize("label", ["punycode", "idna", "hex", "zlib", "rot13", "base64",
                                   "bz2", "undefined", "unicode_escape", "utf-8\x00",
                                   "x" * 200])
def test_only_text_charsets_are_codecs(label: str) -> None:
    assert normalise_charset(label) is None
    body = "投诉：药费报销".encode()
    assert decode_bytes(body, label) == "投诉：药费报销"
    header = f'text/plain; charset="{label}"'
    assert parse_mail(mail(body, content_type=header)).text == "投诉：药费报销"
    rfc2231 = f"text/plain; charset*={label}''utf-8"
    assert parse_mail(mail(body, content_type=rfc2231)).text == "投诉：药费报销"


@pytest.mark.parametrize("label", ["punycode", "idna", "zlib", "hex"])
def test_rfc2231_file_name_charset_is_not_run_as_a_codec(label: str) -> None:
    raw = mail(b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
               b"Content-Type: application/pdf\r\n"
               b"Content-Disposition: attachment; filename*=" + label.encode()
               + b"''%E7%97%85%E5%8E%86.pdf\r\n\r\nPDF\r\n--b--\r\n",
               content_type='multipart/mixed; boundary="b"')
    (attachment,) = parse_mail(raw).attachments
    assert attachment.filename == "病历.pdf"  # decoded as UTF-8 or GB18030, never by the label


def test_real_charset_labels_still_work() -> None:
    assert normalise_charset("GB2312") == "gb18030"
    assert normalise_charset("Big5") == "big5"
    assert normalise_charset("ISO-8859-1") == "iso8859-1"
    assert decode_bytes("投訴".encode("big5"), "big5") == "投訴"


def test_any_error_in_understanding_gives_a_degraded_case(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    def broken(_raw: bytes) -> None:
        raise LookupError("a secret complainant detail")

    monkeypatch.setattr(intake.understand, "parse_mail", broken)
    understood = understand(mail("我的药费报销被拒绝".encode() + b"\xff"))
    inbound = understood.inbound
    assert inbound is not None and understood.ignore is None
    assert inbound.sender_email == "zhang@example.cn" and inbound.subject == "投诉"
    assert inbound.text == "我的药费报销被拒绝\ufffd"
    assert "LookupError" in inbound.extra["parse_problems"]
    assert "secret" not in inbound.extra["parse_problems"]


def test_degraded_mail_without_headers_is_ignored_with_a_reason(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_raw: bytes) -> None:
        raise ValueError("x")

    monkeypatch.setattr(intake.understand, "parse_mail", broken)
    understood = understand(b"\x00\xff garbage")
    assert understood.inbound is None and understood.ignore


def test_degraded_mail_becomes_a_case_in_a_real_round(tmp_path: Path, sqlite_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_raw: bytes) -> None:
        raise RecursionError("deep")

    monkeypatch.setattr(intake.understand, "parse_mail", broken)
    box = tmp_path / "Maildir"
    (box / "new").mkdir(parents=True)
    (box / "new" / "1.M1.host").write_bytes(mail("救助款未发放".encode()))
    app = make_app(tmp_path, sqlite_url, [{"kind": "maildir", "name": "local", "path": str(box)}])
    outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == ["case"]
    with app.session_factory() as session:
        case = session.scalars(select(Case)).one()
        assert case.summary == "救助款未发放"
        assert "RecursionError" in (case.messages[0].classification or "")
        # Staff are told to look at the raw mail: the case is flagged, the reason on its timeline.
        assert case.needs_attention
        (event,) = [e for e in case.events if e.kind == "read_in_part"]
        assert any("RecursionError" in p for p in event.details["problems"])


def test_a_million_blank_lines_are_collapsed_before_the_line_by_line_parser() -> None:
    body = "新内容".encode() + b"\r\n" * (intake.mail.MAX_LINES + 1) + "旧".encode()
    assert parse_mail(mail(body)).text == "新内容\n\n旧"
    # Below the bound the text is left as sent.
    assert parse_mail(mail(b"a\n\n\n\nb")).text == "a\n\n\n\nb"


def test_a_from_header_that_makes_the_address_parser_recurse_is_no_sender() -> None:
    raw = b"From: " + b"(" * 5000 + b"\r\nSubject: x\r\n\r\nbody"
    parsed = parse_mail(raw)
    assert (parsed.from_email, parsed.text) == ("", "body")
    assert understand(raw).ignore == "no sender address to answer"


# -- 3. raw 8-bit attachment names -----------------------------------------------------------


@pytest.mark.parametrize("codec", ["gbk", "utf-8"])
def test_raw_8bit_attachment_names_are_decoded_like_headers(codec: str) -> None:
    raw = mail(("--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
                "Content-Type: application/pdf; name=\"病历.pdf\"\r\n"
                "Content-Disposition: attachment; filename=\"病历.pdf\"\r\n\r\nPDF\r\n--b--\r\n"
                ).encode(codec), content_type='multipart/mixed; boundary="b"')
    (attachment,) = parse_mail(raw).attachments
    assert attachment.filename == "病历.pdf"


# -- 4. the hotline drop folder --------------------------------------------------------------


def test_a_symlink_in_the_drop_folder_is_refused_never_followed(
        desk: Desk, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret = write_log(tmp_path / "secret.csv", [call(诉求内容="别人的病历")])
    link = desk.folders.drop / "calls.csv"
    link.symlink_to(secret)
    importer = desk.importer()

    with caplog.at_level(logging.INFO, logger="complaintd.hotline"):
        assert importer.scan() == [] and importer.scan() == []

    assert caplog.text.count("calls.csv is a symbolic link; refused, never followed") == 1
    assert link.is_symlink() and desk.count(Case) == 0
    assert sha256_hex(secret.read_bytes()) not in desk.raw_store
    assert list(desk.folders.rejected.iterdir()) == []  # no report quoting its text


def test_a_link_swapped_in_after_the_scan_is_not_opened(desk: Desk, tmp_path: Path) -> None:
    secret = write_log(tmp_path / "secret.csv", [call(诉求内容="别人的病历")])
    (desk.folders.processing / "calls.csv").symlink_to(secret)
    # What the importer does with a file it found in processing/, bypassing the scan.
    assert desk.importer().import_file(desk.folders.processing / "calls.csv") is None
    assert desk.count(Case) == 0 and sha256_hex(secret.read_bytes()) not in desk.raw_store


def test_a_fifo_in_the_drop_folder_is_refused_without_waiting(
        desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    os.mkfifo(desk.folders.drop / "calls.csv")
    with caplog.at_level(logging.INFO, logger="complaintd.hotline"):
        assert desk.importer().scan() == []
    assert "calls.csv is not a regular file" in caplog.text


def test_damaged_json_rows_are_row_problems_and_good_rows_are_kept(desk: Desk) -> None:
    good = {h: v for h, v in zip(ZH_HEADER, call(), strict=True)}
    lines = [json.dumps({**good, "诉求内容": "第一通"}, ensure_ascii=False),
             "[" * 100_000,  # RecursionError in json
             json.dumps({**good, "诉求内容": "\ud800"}),  # a lone surrogate
             '{"通话编号": ' + "9" * 5000 + "}",  # too many digits: ValueError
             json.dumps({**good, "诉求内容": "第二通", "来电号码": "13800001299"},
                        ensure_ascii=False)]
    (desk.folders.drop / "calls.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    [report] = desk.importer().scan()

    assert [s for _r, s in desk.cases()] == ["第一通", "第二通"]
    assert sorted(e.row for e in report.errors) == [2, 3, 4]
    assert any("lone surrogate" in e.problem_en for e in report.errors)
    assert list(desk.folders.processing.iterdir()) == []  # done on the first scan


def broken_workbook(rows: int, damage: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ZH_HEADER)
    for n in range(rows):
        sheet.append(call(诉求内容=f"第{n}通", 来电号码=f"138000{n:05d}"))
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                if damage == "xml":  # cut inside the rows: ParseError after the first ones
                    data = data[: data.index(b"<row r=\"150\"")] + b"<row r=\"150\"><c <<"
                target.writestr(member.filename, data)
            else:
                target.writestr(member, data)
    raw = bytearray(out.getvalue())
    if damage == "zlib":  # flip bytes inside the sheet's compressed data
        start = raw.index(b"xl/worksheets/sheet1.xml") + 200
        raw[start:start + 40] = bytes(40)
    return bytes(raw)


@pytest.mark.parametrize("damage", ["xml", "zlib"])
def test_a_damaged_workbook_is_reported_once_not_a_crash_loop(desk: Desk, damage: str) -> None:
    (desk.folders.drop / "calls.xlsx").write_bytes(broken_workbook(200, damage))

    [report] = desk.importer().scan()

    assert any("damaged" in e.problem_en for e in report.errors)
    assert list(desk.folders.processing.iterdir()) == []  # not left for three more scans
    if damage == "xml":  # the rows read before the damage are kept (the XML comes in chunks)
        kept = [s for _r, s in desk.cases()]
        assert 100 <= len(kept) <= 148 and kept[:2] == ["第0通", "第1通"]


def test_a_workbook_bomb_is_refused_before_openpyxl_reads_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        bomb.writestr("xl/sharedStrings.xml", b" " * (formats.MAX_SHARED_STRINGS_BYTES + 1))
    assert len(out.getvalue()) < 200_000

    def must_not_run(*_args: object, **_kw: object) -> None:
        raise AssertionError("openpyxl was given the bomb")

    monkeypatch.setattr(formats, "load_workbook", must_not_run)
    log = parse_call_log(out.getvalue(), "calls.xlsx")
    assert log.unreadable and "too large once unzipped" in log.errors[0].problem_en


def test_openpyxl_parses_workbook_xml_with_defusedxml() -> None:
    assert openpyxl.xml.DEFUSEDXML


def test_every_cell_of_the_error_report_is_neutralised(tmp_path: Path) -> None:
    error = RowError("=HYPERLINK(\"http://x\").csv", 2, "+来电号码", "@SUM(A1)", "-问题",
                     "\tproblem")
    [_headings, line] = read_report(write_error_report(tmp_path / "a.errors.csv", [error],
                                                       ("zh", "en")))
    assert line == ["'=HYPERLINK(\"http://x\").csv", "2", "'+来电号码", "'@SUM(A1)", "'-问题",
                    "'\tproblem"]


# -- 5. data at rest and in logs -------------------------------------------------------------


def test_a_real_round_leaves_only_private_files(tmp_path: Path) -> None:
    # `complaintd demo` is a whole round: Maildir, hotline drop folder, SQLite, .eml outbox.
    # A subprocess, so that the umask the CLI sets is its own and not the test run's.
    folder = tmp_path / "demo"
    old = os.umask(0o022)  # what a service manager usually gives
    try:
        done = subprocess.run([sys.executable, "-c", "from complaintd.cli import main; main()",
                               "demo", "--dir", str(folder)],
                              capture_output=True, text=True, timeout=300, check=False)
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr[-2000:]
    written = [folder / "var", folder / "hotline" / "processing",
               folder / "hotline" / "archive", folder / "hotline" / "rejected"]
    paths = [p for top in written for p in (top, *top.rglob("*"))]
    assert any(p.name.endswith(".eml") for p in paths)
    assert any(p.suffix in {".sqlite3", ".db"} for p in paths)
    assert len([p for p in paths if p.parent.parent.name == "raw"]) > 3
    loose = {str(p.relative_to(folder)): oct(p.stat().st_mode & 0o777) for p in paths
             if p.stat().st_mode & 0o077}
    assert loose == {}


def test_raw_store_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = RawStore(tmp_path / "raw")
        digest = store.put(b"raw mail")
        store.put_all([b"%d" % n for n in range(20)])
    finally:
        os.umask(old)
    path = store.path_for(digest)
    assert (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    assert all(p.stat().st_mode & 0o077 == 0 for p in (tmp_path / "raw").rglob("*"))


def test_a_failed_raw_write_leaves_no_partial_file(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")

    def fill(fh: Any) -> None:
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        store.write("ab" * 32, fill)
    assert [p.name for p in (tmp_path / "raw").rglob("*") if p.is_file()] == []


def test_hotline_work_folders_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        folders = HotlineFolders.inside(tmp_path / "drop")
        folders.ensure()
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777
             for p in (folders.processing, folders.archive, folders.rejected)}
    assert modes == {"processing": 0o700, "archive": 0o700, "rejected": 0o700}


def test_database_errors_do_not_carry_the_values(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with pytest.raises(DBAPIError) as caught, engine.connect() as connection:
        connection.execute(text("SELECT * FROM no_table WHERE x = :v"), {"v": "张三 13800001201"})
    assert "13800001201" not in str(caught.value)


def test_a_mailbox_failure_stores_no_mail_data(tmp_path: Path, sqlite_url: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    box = tmp_path / "Maildir"
    app = make_app(tmp_path, sqlite_url, [{"kind": "maildir", "name": "local", "path": str(box)}])
    (mailbox,) = app.settings.mailbox
    secret = "'gb18030' codec can't decode: 王丽华 13800001201 乳腺癌"
    with caplog.at_level(logging.DEBUG, logger="complaintd"):
        shown = app.mailbox_failed(mailbox, ValueError(secret))
        app.mailbox_failed(mailbox, OSError(28, "No space left on device: /var/王丽华"))
    (state,) = app.mail_states.all()
    assert "13800001201" not in shown and "13800001201" not in (state.last_error or "")
    assert state.last_error == "OSError: No space left on device"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and not any("王丽华" in e or "13800001201" in e for e in errors)
