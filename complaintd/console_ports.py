"""What the staff console reads and does through the composition root, since ``web`` may
not import ``intake`` or the settings: the mailboxes' health, the effective settings with
every secret reduced to "set"/"not set", and the hotline import of an uploaded call log."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from casework.models import QuarantineItem
from complaintd.settings import ImapMailbox, MaildirMailbox, Settings
from intake.hotline import HotlineImporter, ImportReport
from intake.hotline.folders import WORK_FOLDER_MODE, HotlineFolders, is_ignored
from intake.hotline.formats import estimate_rows, is_call_log_name
from intake.hotline.problems import WHOLE_FILE
from intake.tables import IntakeAttempt, MailboxState
from web.context import MailboxStatus, SettingLine
from web.uploads import UploadProblem, UploadRefused, UploadSummary

# -- the mailboxes ----------------------------------------------------------------------


def mailbox_statuses(settings: Settings, session: Session) -> list[MailboxStatus]:
    """Each configured mailbox with its last poll (``mailbox_state``), the mails waiting
    (a Maildir's files; an IMAP server is not asked from a page) and those quarantined,
    read in the request's own session."""
    return [_status(session, box) for box in settings.mailbox]


def _status(session: Session, box: ImapMailbox | MaildirMailbox) -> MailboxStatus:
    source = f"{box.kind}:{box.name}"
    folder = box.folder if isinstance(box, ImapMailbox) else "INBOX"
    state = session.scalar(select(MailboxState).where(MailboxState.source == source,
                                                      MailboxState.folder == folder))
    times = [t for t in (state.last_success_at, state.last_error_at) if t] if state else []
    quarantined = session.scalar(select(func.count(QuarantineItem.id)).where(
        QuarantineItem.source == source, QuarantineItem.resolved_at.is_(None)))
    retrying = session.scalar(select(func.count(IntakeAttempt.id)).where(
        IntakeAttempt.source == source))
    if isinstance(box, ImapMailbox):
        place, waiting = f"{box.host}:{box.port} / {box.folder}", None
    else:
        place, waiting = str(box.path), _maildir_waiting(box.path)
    failing = state is not None and state.failures > 0
    return MailboxStatus(
        name=box.name, kind=box.kind, place=place, last_poll=max(times) if times else None,
        last_success=state.last_success_at if state else None,
        last_error=state.last_error if failing and state else None,
        last_error_at=state.last_error_at if state else None,
        failures=state.failures if state else 0, waiting=waiting,
        retrying=int(retrying or 0), quarantined=int(quarantined or 0))


def _maildir_waiting(path: Path) -> int:
    # As MaildirSource takes them: regular files of new/ and cur/, not hidden ones.
    count = 0
    for sub in ("new", "cur"):
        folder = path / sub
        if folder.is_dir():
            count += sum(1 for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return count


# -- the settings, without their secrets ------------------------------------------------

# A key naming a secret; its value is never shown ("set" / "not set" only). A key ending
# in ``_env`` names an environment variable (shown); a yes/no is no secret.
_SECRET_KEY = re.compile(r"password|passphrase|secret|token|key|credential|client_secret",
                         re.IGNORECASE)


def settings_lines(settings: Settings) -> list[SettingLine]:
    """The effective settings, section by section; secrets as set/not set (the effective
    value: from the file or from the environment variable that stands for it)."""
    lines: list[SettingLine] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, BaseModel):
            lines += _section(name, value)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                label = f"{name}[{index}]" + (f" {item.name}" if hasattr(item, "name") else "")
                lines += _section(label, item) if isinstance(item, BaseModel) else \
                    [SettingLine(name, str(index), _shown(item))]
        else:
            lines.append(SettingLine("", name, _shown(value)))
    return [_database_url(line) for line in lines]


def _section(label: str, section: BaseModel) -> Iterator[SettingLine]:
    for key in type(section).model_fields:
        value = getattr(section, key)
        if _is_secret(key, value):
            yield SettingLine(label, key, "", secret=True, is_set=_effective(section, key))
        else:
            yield SettingLine(label, key, _shown(value))
    if hasattr(section, "secret_env"):  # [web]: the secret lives in the environment alone
        yield SettingLine(label, "secret", "", secret=True,
                          is_set=bool(os.environ.get(str(section.secret_env), "")))


def _is_secret(key: str, value: object) -> bool:
    return bool(_SECRET_KEY.search(key)) and not key.endswith("_env") \
        and not isinstance(value, bool)


def _effective(section: BaseModel, key: str) -> bool:
    """Whether the secret is there to use: given in the file, or in its variable."""
    if getattr(section, key):
        return True
    variable = getattr(section, f"{key}_env", "")
    return bool(variable and os.environ.get(str(variable), ""))


def _shown(value: object) -> str:
    if isinstance(value, BaseModel):
        return json.dumps(value.model_dump(mode="json"), ensure_ascii=False)[:500]
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)[:500]
    return "" if value is None else str(value)


def _database_url(line: SettingLine) -> SettingLine:
    """The database URL without its password (``postgresql://user:***@host/db``)."""
    if line.key != "database_url" or not line.value:
        return line
    try:
        url = make_url(line.value)
    except ArgumentError:
        return SettingLine(line.section, line.key, "", secret=True, is_set=True)
    return SettingLine(line.section, line.key, url.render_as_string(hide_password=True))


# -- a call log uploaded through the console --------------------------------------------


# An uploaded call log is read whole into memory (a day's log is a few hundred kB).
UPLOAD_MAX_BYTES = 20 * 1024 * 1024


class HotlineUploadDoor:
    """An uploaded call log taken as if dropped in the folder: put beside the work folders
    (a hidden folder of ``processing/``, which the scan passes over), then claimed and
    imported by the same importer, archived with its error report, every call through the
    ledger (a second upload of the same file finds every row a duplicate)."""

    def __init__(self, importer: Callable[[], HotlineImporter | None], folders: HotlineFolders,
                 max_bytes: int) -> None:
        self._importer = importer
        self._folders = folders
        self.max_bytes = max_bytes

    def check(self, name: str, size: int) -> None:
        self.checked_name(name)
        if size > self.max_bytes:
            raise UploadRefused("upload_too_big")

    def estimate_rows(self, data: bytes) -> int | None:
        return estimate_rows(io.BytesIO(data))

    def import_upload(self, name: str, data: bytes,
                      progress: Callable[[int], None]) -> UploadSummary | None:
        self.check(name, len(data))
        safe = self.checked_name(name)
        importer = self._importer()
        if importer is None:
            raise UploadRefused("hotline_off")
        self._folders.ensure()
        folder = Path(tempfile.mkdtemp(prefix=".upload-", dir=self._folders.processing))
        try:
            os.chmod(folder, WORK_FOLDER_MODE)
            path = folder / safe
            with open(path, "xb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            report = importer.import_file(path, progress)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return None if report is None else summary_of(report, self._folders.drop)

    @staticmethod
    def checked_name(name: str) -> str:
        """The file's own name (no folder, no control characters), or UploadRefused."""
        base = re.sub(r"[\x00-\x1f\x7f/\\]", "_", name.replace("\\", "/").rsplit("/", 1)[-1])
        base = base.strip().lstrip(".")[-120:]
        if not base or is_ignored(base) or not is_call_log_name(base):
            raise UploadRefused("upload_not_call_log")
        return base


def summary_of(report: ImportReport, drop: Path) -> UploadSummary:
    problems = tuple(UploadProblem(
        e.file, "" if e.row == WHOLE_FILE else str(e.row), e.column, e.value,
        e.problem_zh, e.problem_en) for e in report.errors)
    csv = report.report_path.read_bytes() if report.report_path else None
    return UploadSummary(
        file=report.file, imported=report.imported, follow_ups=report.follow_ups,
        duplicates=report.duplicates, rejected_rows=report.rejected_rows,
        archived_as=os.path.relpath(report.archived_to, drop), problems=problems, report_csv=csv)
