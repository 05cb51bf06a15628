"""``complaintd backup`` and ``complaintd restore``: an installation with cases, mails and
attachments, backed up while in use and restored into an empty data folder (and an empty
PostgreSQL database): every case, message and file comes back the same, and the restored
installation takes the next mail in with the next reference."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.exc import ProgrammingError

from casework.models import Attachment, Case, Message
from complaintd.app import App
from complaintd.cli import main
from complaintd.settings import load_settings
from tests.fixtures.database import (
    PG_DEFAULT_ADMIN_URL,
    PG_URL_ENV,
    _create_database,
    _drop_database,
)
from tests.fixtures.web import Site, complaint

TEXTS = ["12月1日在门诊挂号处排队两小时，工作人员态度恶劣。", "药房发错了药，请核实。",
         "住院部收费不透明，多收了费用。"]


@pytest.fixture
def empty_database_like(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'var' / 'complaintd.sqlite3'}"
        return
    with fresh_pg_database() as url:
        yield url


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    admin = os.environ.get(PG_URL_ENV, PG_DEFAULT_ADMIN_URL)
    url = _create_database(admin)
    try:
        yield url
    finally:
        _drop_when_free(admin, url)


def _drop_when_free(admin: str, url: str) -> None:
    # After a restore of many rows the server's autovacuum may be in the database; it
    # runs as the superuser, so our role cannot end it with DROP … WITH (FORCE): wait.
    for _ in range(30):
        try:
            _drop_database(admin, url)
            return
        except ProgrammingError:
            time.sleep(1)
    _drop_database(admin, url)


def with_attachment(text: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "patient2@example.cn"
    msg["Subject"] = "投诉附病历"
    msg["Message-ID"] = "<attached-1@example.cn>"
    msg.set_content(text, charset="utf-8")
    msg.add_attachment(b"%PDF-1.4 medical record " + bytes(range(256)), maintype="application",
                       subtype="pdf", filename="病历.pdf")
    return bytes(msg)


def holdings(app: App) -> dict[str, Any]:
    """Every case, message and file of an installation, as plain values."""
    with app.session_factory() as session:
        cases = {c.reference: (c.status, c.subject, c.summary, c.resolve_due)
                 for c in session.scalars(select(Case))}
        messages = {m.id: (m.body_text, m.subject, app.raw_store.get(m.raw_sha256)
                           if m.raw_sha256 else None)
                    for m in session.scalars(select(Message))}
        files = {a.sha256: app.raw_store.get(a.sha256)
                 for a in session.scalars(select(Attachment)) if a.sha256}
    return {"cases": cases, "messages": messages, "files": files}


def restored_settings(site: Site, folder: Path, url: str) -> Path:
    """The site's settings in a new folder (its own empty data folder), on ``url``."""
    (folder / "mail" / "new").mkdir(parents=True, exist_ok=True)
    text = site.config.read_text(encoding="utf-8").replace(
        _url_line(site), f'database_url = "{url}"')
    (folder / "routing.toml").write_text((site.tmp / "routing.toml").read_text("utf-8"), "utf-8")
    (folder / "complaintd.toml").write_text(text, encoding="utf-8")
    return folder / "complaintd.toml"


def _url_line(site: Site) -> str:
    return next(line for line in site.config.read_text("utf-8").splitlines()
                if line.startswith("database_url"))


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["--lang", "en", *args])


def test_backup_then_restore_brings_back_every_case_and_file(
        console_site: Site, empty_database_like: str, tmp_path: Path) -> None:
    for text in TEXTS:
        console_site.mail(text)
    (tmp_path / "mail" / "new" / "99.M1.host").write_bytes(with_attachment("附上病历，请查收。"))
    console_site.app.run_once()
    before = holdings(console_site.app)
    assert len(before["cases"]) == 4 and len(before["files"]) == 1

    backup = tmp_path / "backup.tar"
    result = cli("--config", str(console_site.config), "backup", str(backup))
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output and "4 cases" in result.output
    assert not list(tmp_path.glob(".backup.tar.partial"))

    config = restored_settings(console_site, tmp_path / "restored", empty_database_like)
    result = cli("--config", str(config), "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert "Restored: 4 cases" in result.output and "every one checked" in result.output

    restored = App.build(load_settings(config), console_site.clock)
    try:
        assert holdings(restored) == before
        (config.parent / "mail" / "new" / "500.M1.host").write_bytes(complaint(
            "急诊科医生拒绝接诊。", sender="other@example.cn", number=77))
        restored.run_once()
        with restored.session_factory() as session:
            references = sorted(session.scalars(select(Case.reference)))
        assert len(references) == 5 and references[-1] > max(before["cases"])
    finally:
        restored.close()

    # A second restore over it is refused: restore only fills an empty folder.
    again = cli("--config", str(config), "restore", str(backup))
    assert again.exit_code == 1 and "not empty" in again.output


def rewrite(backup: Path, target: Path, change: Any) -> None:
    """A copy of ``backup`` with ``change(name, data) -> (name, data) | None`` applied."""
    with tarfile.open(backup) as source, tarfile.open(target, "w") as out:
        for member in source.getmembers():
            handle = source.extractfile(member)
            data = handle.read() if handle else b""
            changed = change(member.name, data)
            if changed is None:
                continue
            info = tarfile.TarInfo(changed[0])
            info.size = len(changed[1])
            out.addfile(info, io.BytesIO(changed[1]))


def test_a_damaged_or_foreign_backup_is_caught(sqlite_url: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTD_WEB_SECRET", "s" * 40)
    site = Site(tmp_path, sqlite_url)
    try:
        site.mail(TEXTS[0])
        backup = tmp_path / "backup.tar"
        assert cli("--config", str(site.config), "backup", str(backup)).exit_code == 0
    finally:
        site.app.close()

    flipped = tmp_path / "flipped.tar"
    rewrite(backup, flipped, lambda name, data: (
        name, data[:-1] + bytes([data[-1] ^ 1]) if name.startswith("raw/") else data))
    config = restored_settings(site, tmp_path / "r1", f"sqlite:///{tmp_path / 'r1' / 'db.sqlite3'}")
    result = cli("--config", str(config), "restore", str(flipped))
    assert result.exit_code == 1
    assert "content does not match its name" in result.output

    for name, why in (("../escape", "unexpected entry"), ("raw/../../x", "unexpected entry"),
                      ("etc/passwd", "unexpected entry")):
        hostile = tmp_path / "hostile.tar"
        shutil.copyfile(backup, hostile)
        with tarfile.open(hostile, "a") as tar:
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        folder = tmp_path / f"r-{len(list(tmp_path.iterdir()))}"
        config = restored_settings(site, folder, f"sqlite:///{folder / 'db.sqlite3'}")
        result = cli("--config", str(config), "restore", str(hostile))
        assert result.exit_code == 1 and why in result.output, result.output
        assert not (tmp_path / "escape").exists()

    not_ours = tmp_path / "not-ours.tar"
    rewrite(backup, not_ours, lambda name, data: None if name == "manifest.json" else (name, data))
    result = cli("--config", str(config), "restore", str(not_ours))
    assert result.exit_code == 1 and "not a complaintd backup" in result.output


def test_a_backup_taken_while_mail_comes_in_restores_whole(
        console_site: Site, empty_database_like: str, tmp_path: Path) -> None:
    """The snapshot first, the raw store after: whatever the snapshot names is in the
    backup, however the intake and the backup interleave."""
    console_site.mail(TEXTS[0])
    stop = threading.Event()

    def keep_taking_mail() -> None:
        number = 0
        while not stop.is_set() and number < 20:
            number += 1
            console_site.mail(f"第{number}封：{TEXTS[number % len(TEXTS)]}",
                              sender=f"p{number}@example.cn")

    writer = threading.Thread(target=keep_taking_mail)
    writer.start()
    backup = tmp_path / "busy.tar"
    try:
        result = cli("--config", str(console_site.config), "backup", str(backup))
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    config = restored_settings(console_site, tmp_path / "restored", empty_database_like)
    result = cli("--config", str(config), "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert "every one checked" in result.output
