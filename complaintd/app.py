"""The composition root: every part of complaintd built from one ``Settings``.

Nothing reads the environment or opens a connection at import time; ``App.build`` does
it all in one place, and the scheduler and the CLI only call methods of ``App``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from casework.calendar import WorkCalendar, years_from_config
from casework.clock import SHANGHAI, Clock, SystemClock
from casework.db import make_engine, make_sessionmaker
from casework.deadlines import sweep_overdue
from casework.inbound import Inbound
from casework.models import Case
from casework.rawstore import RawStore
from casework.services import CasePolicy
from complaintd.pipeline import Pipeline
from complaintd.settings import ImapMailbox, MaildirMailbox, Settings
from intake.hotline import HotlineFolders, HotlineImporter, ImportReport
from intake.imap import ImapAccount, ImapPoller
from intake.ledger import Ledger, Outcome
from intake.maildir import MaildirSource
from notifications.notices import OrganisationInfo, queue_acknowledgement
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer
from notifications.sender import FileTransport, OutboxSender, RetryPolicy, SmtpTransport, Transport

log = logging.getLogger("complaintd")


@dataclass
class RoundReport:
    """What one round of every job did (``run --once`` prints it)."""

    outcomes: list[Outcome] = field(default_factory=list)
    hotline: list[ImportReport] = field(default_factory=list)
    sent: int = 0
    retried: int = 0
    failed: int = 0
    overdue: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes if o.kind == kind)


class App:
    def __init__(self, settings: Settings, engine: Engine, clock: Clock) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.session_factory: sessionmaker[Session] = make_sessionmaker(engine)
        self.raw_store = RawStore(settings.data_dir / "raw")
        self.calendar = WorkCalendar.build(
            extra=years_from_config(settings.calendar.years), fallback=settings.calendar.fallback)
        self.renderer = TemplateRenderer(settings.templates.override_dir)
        self.policy = CasePolicy(
            reference_prefix=settings.organisation.reference_prefix,
            acknowledge_working_days=settings.deadlines.acknowledge_working_days,
            resolve_working_days=settings.deadlines.resolve_working_days,
            retention_years=settings.deadlines.retention_years,
        )
        self.pipeline = Pipeline(calendar=self.calendar, policy=self.policy,
                                 acknowledge=self._acknowledge, clock=clock)
        self.ledger = Ledger(self.session_factory, self.raw_store, clock, self.pipeline)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> App:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings, make_engine(settings.database_url), clock or SystemClock())

    # -- identity ------------------------------------------------------------------

    @property
    def identity(self) -> MailIdentity:
        smtp = self.settings.smtp
        domain = smtp.message_id_domain or smtp.from_address.rsplit("@", 1)[-1]
        return MailIdentity(from_address=smtp.from_address, from_name=smtp.from_name,
                            reply_to=smtp.reply_to or smtp.from_address,
                            message_id_domain=domain)

    @property
    def organisation(self) -> OrganisationInfo:
        org = self.settings.organisation
        return OrganisationInfo(name=org.name, name_en=org.name_en,
                                hotline_phone=org.hotline_phone,
                                resolve_working_days=self.policy.resolve_working_days)

    def _acknowledge(self, session: Session, case: Case, inbound: Inbound,
                     now: datetime) -> str | None:
        wanted = self.settings.organisation.complainant_language
        mail = queue_acknowledgement(
            session, case, inbound_message_id=inbound.message_id,
            references=inbound.references, identity=self.identity, renderer=self.renderer,
            org=self.organisation, now=now,
            language_override=None if wanted == "auto" else wanted)
        return mail.message_id if mail is not None else None

    def start_up_checks(self) -> None:
        """Stop on a template that does not render; warn about missing holiday data."""
        self.renderer.check_all()
        today = self.clock.now().astimezone(SHANGHAI).date()
        for warning in self.calendar.check(today):
            log.warning("calendar: %s", warning.en)

    # -- jobs ----------------------------------------------------------------------

    def poll_mail(self) -> tuple[list[Outcome], list[str]]:
        """Poll every mailbox; one that fails is reported and never stops the others."""
        outcomes: list[Outcome] = []
        errors: list[str] = []
        for box in self.settings.mailbox:
            try:
                outcomes.extend(self._poll(box))
            except Exception as exc:
                errors.append(f"mailbox {box.name}: {type(exc).__name__}: {exc}")
                log.error("mailbox %s: poll failed: %s: %s", box.name, type(exc).__name__, exc)
                log.debug("mailbox %s traceback", box.name, exc_info=True)
        return outcomes, errors

    def _poll(self, box: ImapMailbox | MaildirMailbox) -> list[Outcome]:
        if isinstance(box, MaildirMailbox):
            return list(MaildirSource(box.name, box.path, self.ledger).run_once().outcomes)
        account = ImapAccount(
            name=box.name, host=box.host, port=box.port, security=box.security,
            username=box.username, password=box.secret(), folder=box.folder,
            processed_folder=box.processed_folder, batch_size=box.batch_size,
            timeout=box.timeout_seconds)
        return list(ImapPoller(account, self.ledger).run_once().outcomes)

    def import_hotline(self) -> list[ImportReport]:
        drop = self.settings.hotline.drop_dir
        if drop is None:
            return []
        importer = HotlineImporter(self.session_factory, self.raw_store, self.clock,
                                   self.pipeline, HotlineFolders.inside(drop),
                                   min_age_seconds=self.settings.hotline.min_age_seconds)
        return importer.scan()

    def transport(self) -> Transport:
        smtp = self.settings.smtp
        if smtp.transport == "file":
            return FileTransport(smtp.outbox_dir)
        return SmtpTransport(host=smtp.host, port=smtp.port, security=smtp.security,
                             username=smtp.username, password=smtp.secret(),
                             timeout=smtp.timeout_seconds)

    def send_outbox(self) -> tuple[int, int, int]:
        smtp = self.settings.smtp
        policy = RetryPolicy(base_seconds=smtp.retry_base_seconds,
                             max_seconds=smtp.retry_max_seconds,
                             give_up_after=timedelta(hours=smtp.give_up_hours))
        sender = OutboxSender(self.session_factory, self.transport(), self.clock, policy,
                              batch_size=smtp.batch_size)
        report = sender.run_once()
        return report.sent, report.retried, report.failed

    def sweep_deadlines(self) -> list[str]:
        now = self.clock.now()
        with self.session_factory.begin() as session:
            return sweep_overdue(session, today=now.astimezone(SHANGHAI).date(), now=now)

    def run_once(self) -> RoundReport:
        """One round of every job, in the order a complaint travels."""
        report = RoundReport()
        report.outcomes, report.errors = self.poll_mail()
        report.hotline = self.import_hotline()
        report.sent, report.retried, report.failed = self.send_outbox()
        report.overdue = self.sweep_deadlines()
        return report

    def close(self) -> None:
        self.engine.dispose()
