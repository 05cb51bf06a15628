"""Personal-information duties (issue 17): the retention purge, a person's copy, correction
and erasure, and the access log — on SQLite and PostgreSQL, with mail taken in from a real
Maildir into the real raw store and outbox, and the commands run as an operator would."""

from __future__ import annotations

import json
import mailbox
import os
import stat
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.clock import SHANGHAI, FixedClock
from casework.models import (
    Attachment,
    Case,
    CaseView,
    Message,
    Party,
    TimelineEvent,
    Violation,
)
from casework.status import CaseStatus
from casework.transitions import transition
from complaintd.app import App
from complaintd.cli import main
from complaintd.migrate import upgrade
from complaintd.settings import load_settings
from notifications.models import OutboxMail
from privacy.models import PrivacyAction
from privacy.person import PersonNotFound, Who, correct_person, erase_person, export_person
from privacy.redact import ERASED

START = datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)
SECRET_WORDS = "我母亲在瑞金医院的救助款迟迟未发放"


def settings_text(db_url: str, extra: str = "") -> str:
    return f"""
[storage]
data_dir = "var"
database_url = "{db_url}"
[[mailbox]]
kind = "maildir"
name = "local"
path = "mail"
[smtp]
transport = "file"
from_address = "complaints@example.org"
{extra}"""


def complaint(n: int, sender: str, *, words: str = SECRET_WORDS,
              attachment: bytes | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"王芳 <{sender}>"
    msg["To"] = "complaints@example.org"
    msg["Subject"] = f"投诉 {n}"
    msg["Message-ID"] = f"<privacy-{n}@example.cn>"
    msg["Date"] = "Mon, 02 Mar 2026 09:00:00 +0800"
    msg.set_content(f"{words}（第{n}封）", charset="utf-8")
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="pdf",
                           filename=f"诊断证明{n}.pdf")
    return bytes(msg)


class Office:
    """One installation over the test database with a fixed clock and a Maildir."""

    def __init__(self, tmp_path: Path, db_url: str, extra: str = "") -> None:
        self.config = tmp_path / "complaintd.toml"
        self.config.write_text(settings_text(db_url, extra), encoding="utf-8")
        self.clock = FixedClock(START)
        self.app = App.build(load_settings(self.config), self.clock)
        upgrade(self.app.engine)
        self.maildir = mailbox.Maildir(tmp_path / "mail", create=True)

    def take(self, *mails: bytes) -> list[str]:
        for raw in mails:
            self.maildir.add(raw)
        outcomes, errors = self.app.poll_mail()
        assert errors == []
        return [o.kind for o in outcomes]

    def case_of(self, session: Session, sender: str) -> Case:
        return session.scalars(select(Case).join(Party, Case.complainant_id == Party.id)
                               .where(Party.email == sender)).one()

    def end(self, sender: str, *, years_ago: float) -> str:
        """Close ``sender``'s case and date its last change ``years_ago``."""
        with self.app.session_factory.begin() as session:
            case = self.case_of(session, sender)
            at = START - timedelta(days=365.25 * years_ago)
            transition(case, CaseStatus.CLOSED, actor="test", at=at, reason="done")
            case.updated_at = at
            return case.reference

    def age(self, sender: str, *, years_ago: float) -> None:
        with self.app.session_factory.begin() as session:
            case = self.case_of(session, sender)
            case.updated_at = START - timedelta(days=365.25 * years_ago)
            if case.complainant is not None:
                case.complainant.retention_until = None

    def digests(self, reference: str) -> set[str]:
        with self.app.session_factory() as session:
            case = session.scalars(select(Case).where(Case.reference == reference)).one()
            found = {m.raw_sha256 for m in case.messages if m.raw_sha256}
            found |= {a.sha256 for m in case.messages for a in m.attachments if a.sha256}
            return found


@pytest.fixture
def office(tmp_path: Path, db_url: str) -> Iterator[Office]:
    o = Office(tmp_path, db_url)
    yield o
    o.app.close()


def _case(session: Session, reference: str) -> Case:
    return session.scalars(select(Case).where(Case.reference == reference)).one()


# -- retention --------------------------------------------------------------------------


def test_the_purge_removes_what_identifies_a_person_and_keeps_what_reports_count(
        office: Office) -> None:
    assert office.take(complaint(1, "old@example.cn", attachment=b"%PDF-1.4 old scan"),
                       complaint(2, "recent@example.cn")) == ["case", "case"]
    office.age("old@example.cn", years_ago=4)
    old = office.end("old@example.cn", years_ago=4)
    recent = office.end("recent@example.cn", years_ago=1)
    files = office.digests(old)
    assert len(files) == 2 and all(d in office.app.raw_store for d in files)

    report = office.app.purge_personal_data()

    assert [ref for ref, _ in report.purged] == [old]
    assert report.files_removed == 2 and report.parties_removed == 1
    assert not any(d in office.app.raw_store for d in files)
    with office.app.session_factory() as session:
        case = _case(session, old)
        # What the reports count stays.
        assert (case.channel, case.status, case.received_at.year) == ("email",
                                                                      CaseStatus.CLOSED, 2026)
        # What identifies the person goes, everywhere it was copied.
        assert case.subject == ERASED and case.summary == "" and case.complainant_id is None
        message = case.messages[0]
        assert (message.body_text, message.sender, message.raw_sha256) == ("", None, None)
        assert [a.filename for a in message.attachments] == [ERASED]
        assert session.scalar(select(func.count(Party.id))
                              .where(Party.email == "old@example.cn")) == 0
        mails = session.scalars(select(OutboxMail).where(OutboxMail.case_id == case.id)).all()
        assert mails and all(m.raw == b"" and m.recipient == ERASED for m in mails)
        texts = json.dumps([e.details for e in case.events], ensure_ascii=False)
        assert "old@example.cn" not in texts and SECRET_WORDS not in texts
        assert [e.kind for e in case.events][-1] == "personal_data_purged"
        assert "status_changed" in [e.kind for e in case.events]
        # The other case keeps everything.
        kept = _case(session, recent)
        assert SECRET_WORDS in kept.messages[0].body_text
        assert kept.complainant is not None and kept.complainant.email == "recent@example.cn"
        register = session.scalars(select(PrivacyAction)).all()
        assert [(r.action, r.dry_run, r.details["cases"]) for r in register] == \
            [("purge", False, [old])]


def test_a_dry_run_lists_and_changes_nothing(office: Office) -> None:
    office.take(complaint(1, "old@example.cn"))
    office.age("old@example.cn", years_ago=5)
    old = office.end("old@example.cn", years_ago=5)
    files = office.digests(old)

    report = office.app.purge_personal_data(dry_run=True)

    assert [ref for ref, _ in report.purged] == [old]
    assert all(d in office.app.raw_store for d in files)
    with office.app.session_factory() as session:
        assert SECRET_WORDS in _case(session, old).messages[0].body_text
        assert session.scalars(select(PrivacyAction.dry_run)).all() == [True]
    # A second real run purges it, and a third finds nothing left to do.
    assert len(office.app.purge_personal_data().purged) == 1
    assert office.app.purge_personal_data().purged == []


def test_open_cases_and_unpaid_compensation_are_held(office: Office) -> None:
    office.take(complaint(1, "open@example.cn"), complaint(2, "owed@example.cn"))
    office.age("open@example.cn", years_ago=6)
    office.age("owed@example.cn", years_ago=6)
    owed = office.end("owed@example.cn", years_ago=6)
    with office.app.session_factory.begin() as session:
        case = _case(session, owed)
        session.add(Violation(case_id=case.id, staff="lina", category="late", clause="七(一)",
                              sanction_tier="批评教育", compensation=Decimal("50"),
                              source="automatic", recorded_at=START))

    report = office.app.purge_personal_data()

    assert report.purged == []
    assert report.held == [(owed, "violation not yet carried out")]
    with office.app.session_factory.begin() as session:
        assert SECRET_WORDS in _case(session, owed).messages[0].body_text
        violation = session.scalars(select(Violation)).one()
        violation.sanction_applied_at = violation.compensation_paid_at = START
    assert [ref for ref, _ in office.app.purge_personal_data().purged] == [owed]


def test_a_category_keeps_personal_data_for_its_own_years(tmp_path: Path, db_url: str) -> None:
    office = Office(tmp_path, db_url, extra="[privacy]\nretention_by_category = "
                                            "{ service = 1, health = 10 }\n")
    try:
        office.take(complaint(1, "short@example.cn"), complaint(2, "long@example.cn"),
                    complaint(3, "plain@example.cn"))
        for sender, category in (("short@example.cn", "service"),
                                 ("long@example.cn", "health"), ("plain@example.cn", None)):
            office.age(sender, years_ago=2)
            with office.app.session_factory.begin() as session:
                office.case_of(session, sender).category = category
        refs = {s: office.end(s, years_ago=2) for s in
                ("short@example.cn", "long@example.cn", "plain@example.cn")}
        report = office.app.purge_personal_data()
        # 1 year for "service" has run; 10 for "health" and the default 3 have not.
        assert [ref for ref, _ in report.purged] == [refs["short@example.cn"]]
    finally:
        office.app.close()


def test_the_complainants_own_retention_date_is_a_floor(office: Office) -> None:
    office.take(complaint(1, "floor@example.cn"))
    office.age("floor@example.cn", years_ago=5)
    ref = office.end("floor@example.cn", years_ago=5)
    with office.app.session_factory.begin() as session:
        party = office.case_of(session, "floor@example.cn").complainant
        assert party is not None
        party.retention_until = (START + timedelta(days=30)).date()
    assert office.app.purge_personal_data().purged == []
    office.clock.set(START + timedelta(days=31))
    assert [r for r, _ in office.app.purge_personal_data().purged] == [ref]


def test_quarantined_mail_past_retention_loses_its_bytes(office: Office) -> None:
    from casework.models import QuarantineItem

    old = office.app.raw_store.put(b"From: wang@example.cn\r\n\r\n" + SECRET_WORDS.encode())
    young = office.app.raw_store.put(b"From: li@example.cn\r\n\r\nbroken")
    with office.app.session_factory.begin() as session:
        for digest, age in ((old, 4 * 366), (young, 30)):
            session.add(QuarantineItem(source="maildir:local", location="new/1",
                                       raw_sha256=digest, reason="unparseable",
                                       created_at=START - timedelta(days=age)))
    assert office.app.purge_personal_data().quarantine_cleared == 1
    assert old not in office.app.raw_store and young in office.app.raw_store
    with office.app.session_factory() as session:
        reasons = {i.raw_sha256: i.reason for i in session.scalars(select(QuarantineItem))}
    assert reasons[None].startswith("unparseable") and "retention" in reasons[None]


def test_old_hotline_archive_folders_go_whole(tmp_path: Path, db_url: str) -> None:
    drop = tmp_path / "drop"
    office = Office(tmp_path, db_url, extra=f'[hotline]\ndrop_dir = "{drop}"\n')
    try:
        old, young = drop / "archive" / "2020-01-05", drop / "archive" / "2025-06-01"
        for folder in (old, young):
            folder.mkdir(parents=True)
            (folder / "calls.csv").write_text("来电号码,内容\n13800000000,投诉\n")
        report = office.app.purge_personal_data()
        assert report.archive_folders == ["2020-01-05"]
        assert not old.exists() and (young / "calls.csv").exists()
    finally:
        office.app.close()


# -- a person's rights --------------------------------------------------------------------


def test_export_holds_everything_about_the_person_and_nothing_of_others(
        office: Office) -> None:
    office.take(complaint(1, "wang@example.cn", attachment=b"%PDF-1.4 wang's scan"),
                complaint(2, "li@example.cn", words="另一位投诉人的私事"))
    with office.app.session_factory() as session:
        data = export_person(session, office.app.raw_store, Who(email="WANG@example.cn"))
    archive = zipfile.ZipFile(__import__("io").BytesIO(data))
    document = json.loads(archive.read("person.json"))
    assert [p["email"] for p in document["parties"]] == ["wang@example.cn"]
    (case,) = document["cases"]
    assert SECRET_WORDS in case["messages"][0]["text"]
    original = archive.read(case["messages"][0]["original"])
    assert b"wang@example.cn" in original
    scan = case["messages"][0]["attachments"][0]["file"]
    assert archive.read(scan) == b"%PDF-1.4 wang's scan"
    assert document["mail_we_sent"] and document["mail_we_sent"][0]["file"]
    everything = b"".join(archive.read(n) for n in archive.namelist())
    assert "另一位投诉人".encode() not in everything and b"li@example.cn" not in everything
    with office.app.session_factory() as session, pytest.raises(PersonNotFound):
        export_person(session, office.app.raw_store, Who(email="nobody@example.cn"))


def test_correction_changes_every_party_and_says_which_fields(office: Office) -> None:
    office.take(complaint(1, "wang@example.cn"))
    with office.app.session_factory.begin() as session:
        refs = correct_person(session, Who(email="wang@example.cn"),
                              {"phone": "+8613912345678", "name": "王芳芳"},
                              now=START, actor="dpo")
    with office.app.session_factory() as session:
        case = _case(session, refs[0])
        assert case.complainant is not None
        assert (case.complainant.name, case.complainant.phone) == ("王芳芳", "+8613912345678")
        event = case.events[-1]
        assert (event.kind, event.details) == ("personal_data_corrected",
                                               {"fields": ["name", "phone"]})
        # Found again by the corrected number, in another format.
        with pytest.raises(ValueError):
            correct_person(session, Who(email="wang@example.cn"), {"subject": "x"},
                           now=START, actor="dpo")
    with office.app.session_factory() as session:
        data = export_person(session, office.app.raw_store, Who(phone="139 1234 5678"))
    assert "王芳芳" in zipfile.ZipFile(__import__("io").BytesIO(data)).read(
        "person.json").decode()


def test_erasure_keeps_open_cases_and_the_violations_register(office: Office) -> None:
    office.take(complaint(1, "wang@example.cn"))
    office.take(complaint(2, "wang@example.cn", words="第二件投诉的内容"))
    with office.app.session_factory() as session:
        refs = sorted(c.reference for c in session.scalars(select(Case)))
    if len(refs) == 1:
        pytest.fail("the second mail was joined to the first case; two cases were wanted")
    first, second = refs
    with office.app.session_factory.begin() as session:
        closed = _case(session, first)
        transition(closed, CaseStatus.CLOSED, actor="test", at=START, reason="done")
        # Carried out: the register keeps it, but it no longer holds the case.
        session.add(Violation(case_id=closed.id, staff="lina", category="late",
                              clause="七(一)", sanction_tier="批评教育", source="automatic",
                              recorded_at=START, sanction_applied_at=START))
    files = office.digests(first)

    with office.app.session_factory.begin() as session:
        report = erase_person(session, office.app.raw_store, Who(email="wang@example.cn"),
                              now=START, actor="dpo")

    assert report.erased == [first]
    assert report.held == [(second, "case open")]
    assert report.violations_kept == 1 and report.files_removed == len(files)
    with office.app.session_factory() as session:
        assert _case(session, first).messages[0].body_text == ""
        assert "第二件投诉" in _case(session, second).messages[0].body_text
        # The open case still needs its complainant: the party stays.
        assert session.scalar(select(func.count(Party.id))
                              .where(Party.email == "wang@example.cn")) == 1
        assert session.scalar(select(func.count(Violation.id))) == 1


def test_the_timeline_stays_append_only_for_everyone_else(office: Office) -> None:
    from casework.models import AppendOnlyError

    office.take(complaint(1, "wang@example.cn"))
    with office.app.session_factory() as session:
        event = session.scalars(select(TimelineEvent)).first()
        assert event is not None
        event.details = {"changed": True}
        with pytest.raises(AppendOnlyError):
            session.flush()


# -- the commands ---------------------------------------------------------------------------


def cli(config: Path, *args: str, input_text: str | None = None) -> Any:
    return CliRunner().invoke(main, ["--config", str(config), "--lang", "en", *args],
                              input=input_text, catch_exceptions=False)


def test_the_commands_as_an_operator_runs_them(office: Office, tmp_path: Path) -> None:
    office.take(complaint(1, "wang@example.cn"))
    office.age("wang@example.cn", years_ago=4)
    ref = office.end("wang@example.cn", years_ago=4)
    os.chdir(tmp_path)

    shown = cli(office.config, "cases", "show", ref, "--as", "auditor-zhou")
    assert shown.exit_code == 0, shown.output
    log = cli(office.config, "privacy", "access-log", "--case", ref, "--csv")
    assert log.exit_code == 0 and f"auditor-zhou,{ref},case" in log.output

    out = tmp_path / "wang.zip"
    exported = cli(office.config, "privacy", "export", "--email", "wang@example.cn",
                   "--out", str(out), "--as", "dpo")
    assert exported.exit_code == 0, exported.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert SECRET_WORDS in zipfile.ZipFile(out).read("person.json").decode()

    dry = cli(office.config, "privacy", "purge", "--dry-run")
    assert dry.exit_code == 0 and ref in dry.output and "would purge 1" in dry.output
    refused = cli(office.config, "privacy", "erase", "--email", "wang@example.cn",
                  input_text="n\n")
    assert refused.exit_code != 0
    erased = cli(office.config, "privacy", "erase", "--email", "wang@example.cn", "--yes")
    assert erased.exit_code == 0 and ref in erased.output
    missing = cli(office.config, "privacy", "export", "--email", "wang@example.cn",
                  "--out", str(tmp_path / "again.zip"))
    assert missing.exit_code == 1 and "Nothing is held" in missing.output
    with office.app.session_factory() as session:
        actions = session.scalars(select(PrivacyAction).order_by(PrivacyAction.id)).all()
        assert [(a.action, a.actor, a.dry_run) for a in actions] == [
            ("export", "dpo", False), ("purge", actions[1].actor, True),
            ("erase", actions[2].actor, False)]
        # The register names the person by a keyed hash, never by the address.
        assert actions[0].subject == actions[2].subject
        assert "wang" not in json.dumps([a.details for a in actions]) + str(actions[0].subject)
        assert session.scalar(select(func.count(CaseView.id))) == 1
        assert session.scalar(select(func.count(Attachment.id))) == 0
        assert set(session.scalars(select(Message.body_text))) == {""}


def test_erasure_holds_a_case_whose_compensation_is_unpaid(office: Office) -> None:
    office.take(complaint(1, "owed@example.cn"))
    ref = office.end("owed@example.cn", years_ago=0)
    with office.app.session_factory.begin() as session:
        session.add(Violation(case_id=_case(session, ref).id, staff="lina", category="late",
                              clause="七(一)", sanction_tier="批评教育",
                              compensation=Decimal("50"), source="automatic",
                              recorded_at=START, sanction_applied_at=START))
    with office.app.session_factory.begin() as session:
        report = erase_person(session, office.app.raw_store, Who(email="owed@example.cn"),
                              now=START, actor="dpo")
    assert report.erased == [] and report.held == [(ref, "violation not yet carried out")]
    with office.app.session_factory() as session:
        assert SECRET_WORDS in _case(session, ref).messages[0].body_text
