"""A Maildir as a complaint source (the embedded default, and for servers that deliver
to Maildir). Done messages move to the Maildir++ sub-folder ``.Processed``."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from intake.ledger import Ledger, Outcome, Parser, SourceItem
from intake.understand import understand_mail

log = logging.getLogger("complaintd.intake.maildir")


@dataclass(frozen=True)
class MaildirReport:
    seen: int
    outcomes: tuple[Outcome, ...]


class MaildirSource:
    def __init__(self, name: str, path: Path, ledger: Ledger,
                 processed: str = "Processed", parse: Parser = understand_mail) -> None:
        self.name = name
        self.path = path
        self.ledger = ledger
        self.processed = path / f".{processed}"
        self.parse = parse

    def run_once(self) -> MaildirReport:
        for sub in ("new", "cur", "tmp"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        outcomes = []
        files = self._waiting()
        for file in files:
            outcomes.append(self._take(file))
        return MaildirReport(len(files), tuple(outcomes))

    def _waiting(self) -> list[Path]:
        files = [p for sub in ("new", "cur") for p in (self.path / sub).iterdir()
                 if p.is_file() and not p.name.startswith(".")]
        return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))

    def _take(self, file: Path) -> Outcome:
        key = file.name.split(":", 1)[0]
        arrived = datetime.fromtimestamp(file.stat().st_mtime, UTC)
        item = SourceItem(f"maildir:{self.name}", "INBOX", 0, key, file.read_bytes(), arrived)
        outcome = self.ledger.take(item, self.parse)
        self._mark_done(file)  # only after the commit inside take()
        return outcome

    def _mark_done(self, file: Path) -> None:
        target = self.processed / "cur"
        target.mkdir(parents=True, exist_ok=True)
        for sub in ("new", "tmp"):
            (self.processed / sub).mkdir(exist_ok=True)
        name = file.name if ":" in file.name else f"{file.name}:2,S"
        os.replace(file, target / name)
