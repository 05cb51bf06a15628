"""100,000 tiny parts do not become 100,000 files (issue 12): attachments are kept as files
up to ``intake.max_attachments`` and ``intake.max_attachments_total_bytes``; the rest stay in
the raw mail, are listed on the case as not kept, and the case is flagged for staff.
A real round: Maildir, SQLite, the raw store on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from casework.models import Attachment, Case
from intake.mail import MAX_PARTS
from tests.test_intake_support import make_app


def with_attachments(sizes: list[int]) -> bytes:
    parts = b"".join(
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename=f%d.bin\r\n\r\n" % n
        + (b"%06d" % n) * (size // 6) + b"\r\n"
        for n, size in enumerate(sizes))
    return ("From: 张先生 <zhang@example.cn>\r\nSubject: 投诉\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b"\r\n\r\n').encode() + (
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "救助款未发放".encode()
        + b"\r\n" + parts + b"--b--\r\n")


def take(tmp_path: Path, sqlite_url: str, raw: bytes, **intake: Any) -> tuple[Any, Case]:
    box = tmp_path / "Maildir"
    (box / "new").mkdir(parents=True)
    (box / "new" / "1.M1.host").write_bytes(raw)
    app = make_app(tmp_path, sqlite_url, [{"kind": "maildir", "name": "local", "path": str(box)}],
                   intake=intake)
    outcomes, errors = app.poll_mail()
    assert errors == [] and [o.kind for o in outcomes] == ["case"]
    session = app.session_factory()
    return (app, session), session.scalars(select(Case)).one()


def stored_files(tmp_path: Path) -> int:
    return sum(1 for p in (tmp_path / "var" / "raw").rglob("*") if p.is_file())


def test_attachments_past_the_count_stay_in_the_raw_mail(tmp_path: Path,
                                                         sqlite_url: str) -> None:
    (app, session), case = take(tmp_path, sqlite_url, with_attachments([12] * 150))
    rows = session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert len(rows) == 150  # every one listed on the case …
    assert [r.refused is None for r in rows] == [True] * 100 + [False] * 50
    assert all("more than 100 attachments" in (r.refused or "") for r in rows[100:])
    assert stored_files(tmp_path) == 1 + 100  # … the raw mail and the first 100 as files
    assert case.needs_attention
    (event,) = [e for e in case.events if e.kind == "read_in_part"]
    assert any("more than 100 attachments" in p for p in event.details["problems"])
    session.close()
    app.close()


def test_attachments_past_the_total_size_stay_in_the_raw_mail(tmp_path: Path,
                                                              sqlite_url: str) -> None:
    (app, session), case = take(tmp_path, sqlite_url, with_attachments([600, 600, 300]),
                                max_attachments_total_bytes=1000)
    rows = session.scalars(select(Attachment).order_by(Attachment.id)).all()
    # 600 kept; 600 more would pass 1000; 300 still fits.
    assert [r.refused is None for r in rows] == [True, False, True]
    assert "1000 bytes together" in (rows[1].refused or "")
    assert stored_files(tmp_path) == 1 + 2 and case.needs_attention
    session.close()
    app.close()


def test_a_mail_within_the_caps_is_not_flagged(tmp_path: Path, sqlite_url: str) -> None:
    (app, session), case = take(tmp_path, sqlite_url, with_attachments([60] * 3))
    assert all(r.refused is None for r in session.scalars(select(Attachment)))
    assert stored_files(tmp_path) == 1 + 3 and not case.needs_attention
    session.close()
    app.close()


def test_100000_tiny_parts_become_a_bounded_number_of_files(tmp_path: Path,
                                                            sqlite_url: str) -> None:
    (app, session), case = take(tmp_path, sqlite_url, with_attachments([6] * 100_000))
    assert stored_files(tmp_path) <= 1 + min(100, MAX_PARTS)
    assert case.needs_attention
    session.close()
    app.close()
