"""Helpers shared by the intake tests (no tests here): an ``App`` on a test database."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import SystemClock
from casework.db import make_engine
from complaintd.app import App
from complaintd.schema import metadata
from complaintd.settings import anchor_paths, settings_from_dict


def imap_box(imap: Any, name: str = "reporting", **options: Any) -> dict[str, Any]:
    return {"kind": "imap", "name": name, "host": imap.host, "port": imap.port,
            "security": "plain", "username": imap.user, "password": imap.password,
            **options}


def make_app(tmp_path: Path, db_url: str, boxes: list[dict[str, Any]],
             **sections: Any) -> App:
    raw = {"storage": {"data_dir": str(tmp_path / "var"), "database_url": db_url},
           "mailbox": boxes, "smtp": {"transport": "file"}, **sections}
    settings = anchor_paths(settings_from_dict(raw), tmp_path)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_url)
    metadata.create_all(engine)
    return App(settings, engine, SystemClock())


def complaint(n: int, subject: str = "投诉", sender: str = "zhang@example.cn",
              body: str | None = None, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = formataddr(("张先生", sender))
    msg["To"] = "complaints@example.org"
    msg["Subject"] = f"{subject} {n}"
    msg["Message-ID"] = f"<c{n}-{abs(hash(subject)) % 10**8}@example.cn>"
    msg["Date"] = "Tue, 24 Nov 2026 09:00:00 +0800"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body or f"第{n}件投诉：救助款迟迟未发放。", charset="utf-8")
    return bytes(msg)


def count(session_factory: sessionmaker[Session], model: Any, *where: Any) -> int:
    with session_factory() as session:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)
        return int(session.scalar(query) or 0)
