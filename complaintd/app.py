"""The composition root: every part of complaintd built from one ``Settings``.

Nothing reads the environment or opens a connection at import time; ``App.build`` does
it all in one place, and the scheduler and the CLI only call methods of ``App``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp

from casework import search
from casework.calendar import WorkCalendar, years_from_config
from casework.clock import SHANGHAI, Clock, SystemClock
from casework.db import make_engine, make_sessionmaker
from casework.deadlines import sweep_overdue
from casework.progress import link_key, make_link_token
from casework.rawstore import RawStore
from casework.services import CasePolicy
from complaintd.console_ports import (
    UPLOAD_MAX_BYTES,
    HotlineUploadDoor,
    mailbox_statuses,
    settings_lines,
)
from complaintd.joblocks import locks_for
from complaintd.mailboxes import imap_account
from complaintd.ops.metrics import Metrics
from complaintd.ops.status import status_routes
from complaintd.settings import (
    ImapMailbox,
    MaildirMailbox,
    Settings,
    check_web_secret,
    generated_key,
    previous_thread_keys,
    store_sealer,
    thread_key,
)
from handling.acknowledgement import Acknowledger
from handling.backscatter import Caps
from handling.bounces import record_bounce
from handling.calls import queue_callback_lists
from handling.notices import RefusalNotifier, RefusedMail, RoutingMailer, TriageNotifier
from handling.pipeline import Pipeline
from handling.progress import ProgressQueries
from handling.routing_step import CaseRouter
from intake.hotline import ColumnMap, HotlineFolders, HotlineImporter, ImportReport
from intake.imap import ImapPoller
from intake.ledger import DATABASE_TROUBLE, Ledger, Outcome, RefusalNotice
from intake.mail import parse_mail
from intake.maildir import MaildirSource
from intake.mailstate import MailboxStates
from intake.parallel import ParsePool
from intake.reconcile import ReconcileReport, reconcile
from intake.understand import MailUnderstanding
from intake.webdoor import WebDoor
from notifications.notices import MissingYear, OrganisationInfo, queue_calendar_missing
from notifications.outbox import MailIdentity
from notifications.renderer import TemplateRenderer
from notifications.sender import (
    FileTransport,
    OutboxSender,
    RateLimit,
    RetryPolicy,
    SmtpTransport,
    Transport,
)
from privacy.person import Who, log_action, subject_hash
from privacy.retention import PurgeReport, RetentionPolicy, purge, purge_summary
from routing import commitments
from routing.context import Desk
from routing.directory import RoutingFile
from web.app import build_console
from web.context import Console, WebConfig
from web.public.routes import public_routes
from web.public.site import PublicConfig, PublicSite
from web.public.visitor import PublicConfig as VisitorConfig

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
        self.raw_store = RawStore(settings.data_dir / "raw", store_sealer(settings))
        self.calendar = WorkCalendar.build(
            extra=years_from_config(settings.calendar.years), fallback=settings.calendar.fallback)
        self.renderer = TemplateRenderer(settings.templates.override_dir)
        self.routing_file: RoutingFile | None = None  # set by _desk when rules are configured
        self.policy = CasePolicy(
            reference_prefix=settings.organisation.reference_prefix,
            acknowledge_working_days=settings.deadlines.acknowledge_working_days,
            resolve_working_days=settings.deadlines.resolve_working_days,
            retention_years=settings.deadlines.retention_years,
        )
        self.desk = self._desk()
        router = CaseRouter(self.desk, self.policy.reference_prefix) if self.desk else None
        self.commitments: commitments.SweepReport | None = None
        self.pipeline = Pipeline(calendar=self.calendar, policy=self.policy,
                                 acknowledge=self._acknowledger(), clock=clock, router=router,
                                 tell_triage=self._triage_notifier(),
                                 progress=self._progress_queries())
        self.ledger = Ledger(self.session_factory, self.raw_store, clock, self.pipeline,
                             refusal=self._refusal(), prepare_batch=self.pipeline.prepare_batch,
                             bounce=record_bounce,
                             max_attempts=settings.intake.poison_after_attempts)
        self.mail_states = MailboxStates(self.session_factory, clock)
        # Jobs that must run in one place at a time when several daemons share the
        # database (complaintd.joblocks); sending takes none (its rows carry leases).
        self.locks = locks_for(engine, settings.data_dir)
        self.parse_pool = ParsePool(self.raw_store, settings.intake.parse_workers,
                                    settings.intake.parse_seconds)
        self.metrics = Metrics()  # counters at the edges of each job (complaintd.ops)

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
                            message_id_domain=domain,
                            plus_address=self.settings.security.token_in_reply_to)

    @property
    def organisation(self) -> OrganisationInfo:
        org = self.settings.organisation
        return OrganisationInfo(name=org.name, name_en=org.name_en,
                                hotline_phone=org.hotline_phone,
                                resolve_working_days=self.policy.resolve_working_days)

    @property
    def complainant_language(self) -> str | None:
        """The language of complainant mail; None: each case's own."""
        wanted = self.settings.organisation.complainant_language
        return None if wanted == "auto" else wanted

    def _acknowledger(self) -> Acknowledger:
        return Acknowledger(self.identity, self.renderer, self.organisation, caps=self.caps,
                            language_override=self.complainant_language,
                            progress_url=self.public_url("/public/progress"))

    @property
    def caps(self) -> Caps:
        """The caps on automatic answers to outsiders (backscatter, ``[intake]``)."""
        intake = self.settings.intake
        return Caps(
            acknowledgements_per_sender_per_day=intake.acknowledgements_per_sender_per_day,
            acknowledgements_per_domain_per_hour=intake.acknowledgements_per_domain_per_hour,
            refusals_per_sender_per_day=intake.refusals_per_sender_per_day,
            auto_replies_per_hour=intake.auto_replies_per_hour)

    # -- the public side (issue 15) ----------------------------------------------------

    def public_url(self, path: str) -> str | None:
        """The address of a public page for mail, or None when none is served."""
        if not self.settings.public.pages or not self.settings.web.public_base_url:
            return None
        return self.settings.web.base_url + path

    def public_config(self) -> VisitorConfig:
        public, org = self.settings.public, self.settings.organisation
        return VisitorConfig(
            attempts_per_address=public.attempts_per_address_per_hour,
            attempts_per_reference=public.attempts_per_reference_per_hour,
            forms_per_address=public.forms_per_address_per_hour,
            link_key=self._link_key(), org_zh=org.name, org_en=org.name_en,
            previous_link_keys=self._previous_link_keys())

    def _link_key(self) -> bytes | None:
        return link_key(thread_key(self.settings)) if self.settings.routing.rules_file else None

    def _previous_link_keys(self) -> tuple[bytes, ...]:
        if not self.settings.routing.rules_file:
            return ()
        return tuple(link_key(k) for k in previous_thread_keys(self.settings))

    def survey_link(self, case_id: int, now: datetime) -> str | None:
        """The outcome mail's link to the survey form, valid ``[public] survey_link_days``."""
        key = self._link_key()
        if key is None:
            return None
        days = self.settings.public.survey_link_days
        last = now.astimezone(SHANGHAI).date() + timedelta(days=days)
        return self.public_url(f"/public/survey/{make_link_token(key, case_id, 'survey', last)}")

    def _progress_queries(self) -> ProgressQueries:
        return ProgressQueries(
            self.identity, self.renderer, self.organisation, self.caps,
            self.policy.reference_prefix, names=lambda: self.desk.config if self.desk else None,
            per_case_per_day=self.settings.public.progress_answers_per_case_per_day,
            progress_url=self.public_url("/public/progress"),
            language_override=self.complainant_language)

    def _refusal(self) -> RefusalNotice:
        """Intake's refusal of an oversized mail, told to its sender (headers parsed here)."""
        notifier = RefusalNotifier(self.identity, self.renderer, self.organisation, self.caps)

        def tell(session: Session, headers: bytes, _reason: str, now: datetime) -> str | None:
            # The only refusal is for size; its technical reason stays in the quarantine.
            parsed = parse_mail(headers)
            return notifier(session, RefusedMail(
                parsed.from_email, parsed.from_name or None, parsed.subject,
                parsed.message_id, machine=bool(parsed.machine_reason),
                key=hashlib.sha256(headers).hexdigest()[:32]), now)

        return tell

    def _triage_notifier(self) -> TriageNotifier | None:
        """Without routing rules, who is told of each new case (``[routing] triage_to``)."""
        if self.settings.routing.rules_file is not None or not self.settings.routing.triage_to:
            return None
        return TriageNotifier(tuple(self.settings.routing.triage_to), self.identity,
                              self.renderer, self.organisation,
                              language=self.settings.notices.staff_language)

    def _desk(self) -> Desk | None:
        """The routing desk, or None when no rules file is configured."""
        path = self.settings.routing.rules_file
        if path is None:
            return None
        notices = self.settings.notices
        mailer = RoutingMailer(self.identity, self.renderer, self.organisation,
                               complainant_language=self.complainant_language,
                               staff_language=notices.staff_language,
                               authority_language=notices.authority_language, caps=self.caps,
                               survey_link=self.survey_link)
        self.routing_file = RoutingFile(path)
        return Desk(self.routing_file.config, self.calendar, mailer, thread_key(self.settings),
                    previous_thread_keys(self.settings))

    def reload_routing(self) -> bool:
        """Take up a changed routing file (staff away periods, without a restart); an
        invalid one is logged naming the key and the rules in use are kept. Asked at the
        start of each poll and sweep round; a round in hand keeps the desk it started with."""
        if self.desk is None or self.routing_file is None:
            return False
        config = self.routing_file.changed()
        if config is None:
            return False
        self.desk = replace(self.desk, config=config)
        if self.pipeline.router is not None:
            self.pipeline.router = CaseRouter(self.desk, self.policy.reference_prefix)
        return True

    def start_up_checks(self) -> None:
        """Stop on a template that does not render; warn about missing holiday data."""
        self.renderer.check_all()
        today = self.clock.now().astimezone(SHANGHAI).date()
        for warning in self.calendar.check(today):
            log.warning("calendar: %s", warning.en)

    # -- jobs ----------------------------------------------------------------------

    def poll_mail(self, skip_watched: bool = False) -> tuple[list[Outcome], list[str]]:
        """Poll every mailbox; one that fails is reported and never stops the others.

        ``skip_watched``: leave out the IMAP mailboxes a ``MailboxWatcher`` thread serves.
        """
        self.reload_routing()
        outcomes: list[Outcome] = []
        errors: list[str] = []
        for box in self.settings.mailbox:
            if skip_watched and isinstance(box, ImapMailbox) and box.idle:
                continue
            with self.locks.hold(mailbox_lock(box)) as mine:
                if not mine:
                    continue  # another daemon is polling it now
                try:
                    taken = self._poll(box)
                except Exception as exc:
                    errors.append(self.mailbox_failed(box, exc))
                else:
                    self.metrics.took_mail(box.name, taken)
                    outcomes.extend(taken)
                    self.mail_states.succeeded(f"{box.kind}:{box.name}", _folder(box))
        return outcomes, errors

    def _poll(self, box: ImapMailbox | MaildirMailbox) -> list[Outcome]:
        if isinstance(box, MaildirMailbox):
            source = MaildirSource(box.name, box.path, self.ledger, parse=self.mail_parser())
            return list(source.run_once().outcomes)
        return list(self.imap_poller(box).run_once().outcomes)

    def imap_poller(self, box: ImapMailbox) -> ImapPoller:
        return ImapPoller(imap_account(box), self.ledger,
                          parse=self.mail_parser(box.max_attachment_bytes),
                          states=self.mail_states, pool=self.parse_pool)

    def mail_parser(self, max_attachment_bytes: int | None = None) -> MailUnderstanding:
        """The mail parser with a mailbox's limits and our border's authserv-ids."""
        intake = self.settings.intake
        trusted = frozenset(i.lower() for i in intake.trusted_authserv_ids)
        caps = {"max_attachments": intake.max_attachments,
                "max_attachments_total_bytes": intake.max_attachments_total_bytes}
        if max_attachment_bytes is None:
            return MailUnderstanding(trusted_authserv_ids=trusted, **caps)
        return MailUnderstanding(max_attachment_bytes, trusted_authserv_ids=trusted, **caps)

    def mailbox_failed(self, box: ImapMailbox | MaildirMailbox, exc: BaseException) -> str:
        """The operator alert: an ERROR line and the stored status (``mailboxes status``)."""
        # Not str(exc): a decoding or database error may quote a mail; the traceback is
        # at DEBUG. The type, and an OS error's or an IMAP server's own words, are kept.
        error = safe_error(exc)
        self.metrics.mailbox_failed(box.name)
        if isinstance(exc, DATABASE_TROUBLE):
            error += " (database; the mail stays in the mailbox and is taken at the next poll)"
        try:
            failures = self.mail_states.failed(f"{box.kind}:{box.name}", _folder(box), error)
        except DATABASE_TROUBLE:  # the same trouble: the alert is the log line alone
            failures = 0
        log.error("mailbox %s: poll failed (%d in a row): %s", box.name, failures, error)
        log.debug("mailbox %s traceback", box.name, exc_info=exc)
        return f"mailbox {box.name}: {error}"

    def reconcile_mailboxes(self) -> list[ReconcileReport]:
        """Compare every IMAP mailbox with the ledger; a missing message is an ERROR."""
        reports = []
        for box in self.settings.mailbox:
            if not isinstance(box, ImapMailbox):
                continue
            try:
                # Under the mailbox's lock: a poll in hand elsewhere is no missing mail.
                with self.locks.hold(mailbox_lock(box)) as mine:
                    if not mine:
                        continue
                    poller = self.imap_poller(box)
                    with poller.connect() as client:
                        report = reconcile(poller, client)
            except Exception as exc:
                self.mailbox_failed(box, exc)
                continue
            if report.missing:
                log.error("mailbox %s: %d message(s) neither taken in nor waiting; see "
                          "`complaintd mailboxes status`", box.name, len(report.missing))
            reports.append(report)
        return reports

    def hotline_importer(self) -> HotlineImporter | None:
        """The importer for the configured drop folder; None when the hotline is off."""
        hotline = self.settings.hotline
        if hotline.drop_dir is None:
            return None
        return HotlineImporter(
            self.session_factory, self.raw_store, self.clock, self.pipeline,
            HotlineFolders.inside(hotline.drop_dir),
            columns=ColumnMap.default().extended(hotline.columns), sheet=hotline.sheet or None,
            report_languages=hotline.report_languages, min_age_seconds=hotline.min_age_seconds,
            batch_size=hotline.batch_size,
        )  # fmt: skip

    def import_hotline(self) -> list[ImportReport]:
        importer = self.hotline_importer()
        if importer is None:
            return []
        with self.locks.hold("hotline") as mine:
            reports = importer.scan() if mine else []
        self.metrics.took_rows(reports)
        return reports

    def queue_callback_lists(self) -> int:
        """Mail today's due follow-up calls to each configured recipient; the lists queued."""
        with self.locks.hold("callbacks") as mine:
            return self._queue_callback_lists() if mine else 0

    def _queue_callback_lists(self) -> int:
        now = self.clock.now()
        with self.session_factory.begin() as session:
            calls, queued = queue_callback_lists(
                session, recipients=self.settings.hotline.callback_list_to,
                today=now.astimezone(SHANGHAI).date(),
                language=self.settings.organisation.language, identity=self.identity,
                renderer=self.renderer, org=self.organisation, now=now)
        if queued:
            log.info("hotline: callback list of %d calls queued for %d recipients", calls, queued)
        return queued

    # -- personal information (docs/privacy.md) ---------------------------------------

    def retention_policy(self) -> RetentionPolicy:
        return RetentionPolicy(self.settings.deadlines.retention_years,
                               dict(self.settings.privacy.retention_by_category))

    def purge_personal_data(self, *, dry_run: bool = False,
                            actor: str = "retention") -> PurgeReport:
        """The retention purge (``privacy.retention``), written to the privacy register;
        an empty report when another daemon is purging now."""
        with self.locks.hold("purge") as mine:
            if not mine:
                return PurgeReport()
            return self._purge(dry_run, actor)

    def _purge(self, dry_run: bool, actor: str) -> PurgeReport:
        drop = self.settings.hotline.drop_dir
        now = self.clock.now()
        report = purge(self.session_factory, self.raw_store, now=now,
                       policy=self.retention_policy(), dry_run=dry_run,
                       hotline_archive=drop / "archive" if drop is not None else None)
        with self.session_factory.begin() as session:
            log_action(session, at=now, actor=actor, action="purge", subject=None,
                       dry_run=dry_run, details=purge_summary(report))
        if report.purged or report.quarantine_cleared or report.archive_folders:
            log.info("privacy: purge%s: %d cases, %d held, %d files, %d quarantined mails, "
                     "%d archive folders", " (dry run)" if dry_run else "",
                     len(report.purged), len(report.held), report.files_removed,
                     report.quarantine_cleared, len(report.archive_folders))
        return report

    def privacy_subject(self, who: Who) -> str:
        """The register's keyed hash of a person's address (the key: the data folder's
        ``privacy.salt``, made on first use)."""
        return subject_hash(who, generated_key(self.settings.data_dir / "privacy.salt")
                            .decode("ascii"))

    # -- the staff console ------------------------------------------------------------

    def web_config(self) -> WebConfig:
        """The console's settings; ConfigError when its secret is not in the environment."""
        web = self.settings.web
        due_soon = self.desk.config.clock.due_soon_working_days if self.desk else 3
        return WebConfig(
            secret=check_web_secret(self.settings), base_url=web.base_url,
            secure_cookies=web.secure_cookies,
            session_idle=timedelta(minutes=web.session_idle_minutes),
            session_max=timedelta(hours=web.session_max_hours),
            sign_in_link_age=timedelta(hours=web.sign_in_link_hours),
            organisation=self.settings.organisation.name, due_soon_working_days=due_soon,
            report_threshold=self.settings.reports.small_count_threshold,
            report_min_denominator=self.settings.reports.min_denominator)

    def web_console(self) -> ASGIApp:
        """The staff console over this App's database, desk (read afresh: the routing file
        may change), calendar, clock, raw store and pipeline."""
        public = public_routes(self.public_site()) if self.settings.public.enabled else []
        return build_console(self.console(), trusted_proxies=self.settings.web.trusted_proxies,
                             public=public, visitor=self.public_config(),
                             extra_routes=status_routes(self))

    def console(self) -> Console:
        """What the console is given (its ports); ``web_console`` serves it."""
        return Console(self.web_config(), self.session_factory, lambda: self.desk,
                       self.calendar, self.clock, self.raw_store, self.pipeline,
                       self.identity,
                       mailboxes=lambda session: mailbox_statuses(self.settings, session),
                       settings_view=lambda: settings_lines(self.settings),
                       hotline=self._hotline_uploads(),
                       privacy_subject=self.privacy_subject)

    def _hotline_uploads(self) -> HotlineUploadDoor | None:
        """Call logs uploaded in the console go through the drop folder's importer."""
        drop = self.settings.hotline.drop_dir
        if drop is None:
            return None
        return HotlineUploadDoor(self.hotline_importer, HotlineFolders.inside(drop),
                                 UPLOAD_MAX_BYTES)

    def public_site(self) -> PublicSite:
        """The public pages and the partner API: complaints through the web door (the
        ledger and the pipeline, as mail), the routing file read afresh for the page of
        commitments."""
        settings, public = self.settings, self.settings.public
        boxes = [b for b in settings.mailbox if isinstance(b, ImapMailbox)]
        each = boxes[0].max_attachment_bytes if boxes else \
            ImapMailbox.model_fields["max_attachment_bytes"].default
        org = settings.organisation
        config = PublicConfig(
            secret=check_web_secret(settings), organisation=org.name,
            organisation_en=org.name_en, hotline_phone=org.hotline_phone,
            mailbox=public.mailbox or settings.smtp.reply_to or settings.smtp.from_address,
            max_files=settings.intake.max_attachments, max_file_bytes=each,
            max_total_bytes=settings.intake.max_attachments_total_bytes,
            complaints_per_address_per_hour=public.complaints_per_address_per_hour,
            api_calls_per_key_per_hour=public.api_calls_per_key_per_hour,
            form_hours=public.form_hours, resolve_working_days=self.policy.resolve_working_days)
        door = WebDoor(self.session_factory, self.raw_store, self.clock, self.pipeline)
        return PublicSite(config, self.session_factory, self._fresh_desk, self.clock, door)

    def _fresh_desk(self) -> Desk | None:
        self.reload_routing()
        return self.desk

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
        notices = self.settings.notices
        sender = OutboxSender(self.session_factory, self.transport(), self.clock, policy,
                              batch_size=smtp.batch_size,
                              lease=timedelta(minutes=notices.lease_minutes),
                              rate=RateLimit(notices.rate_per_minute))
        # A backlog (after an outage) goes out over several runs, none much longer than
        # the send interval, so a shutdown never waits long for the job in hand.
        report = sender.drain(budget_seconds=self.settings.schedule.send_seconds)
        self.metrics.send_round(report.sent, report.retried, report.failed)
        return report.sent, report.retried, report.failed

    def alert_calendar(self) -> int:
        """Holiday data missing for this year, or from 1 November for next year: a WARNING
        line and a mail to ``[operator] alert_to`` (once a day each, by the outbox key)."""
        with self.locks.hold("calendar") as mine:
            return self._alert_calendar() if mine else 0

    def _alert_calendar(self) -> int:
        now = self.clock.now()
        today = now.astimezone(SHANGHAI).date()
        warnings = self.calendar.check(today)
        for warning in warnings:
            log.warning("calendar: %s", warning.en)
        if not warnings:
            return 0
        years = [MissingYear(w.year, w.key, w.zh, w.en) for w in warnings]
        queued = 0
        with self.session_factory.begin() as session:
            for address in self.settings.operator.alert_to:
                row = queue_calendar_missing(
                    session, recipient_email=address, today=today, years=years,
                    identity=self.identity, renderer=self.renderer, org=self.organisation,
                    now=now, language=self.settings.notices.staff_language)
                queued += row is not None
        return queued

    def sweep_deadlines(self) -> list[str]:
        with self.locks.hold("sweep") as mine:
            return self._sweep() if mine else []

    def _sweep(self) -> list[str]:
        self.reload_routing()  # out-of-office periods edited since the last round
        now = self.clock.now()
        with self.metrics.sweep.time(), self.session_factory.begin() as session:
            overdue = sweep_overdue(session, today=now.astimezone(SHANGHAI).date(), now=now)
            if self.desk is not None:
                # Reminders, deputies, escalation, violations, referral follow-ups, digests.
                self.commitments = commitments.sweep(session, self.desk, now)
            return overdue

    def index_search(self, budget_seconds: float = 2.0) -> int:
        """Index the cases and messages stored since the last run (``casework.search``), a
        bounded batch per transaction so a backlog never holds the write lock for long.
        How many cases were indexed."""
        started, indexed = time.monotonic(), 0
        while time.monotonic() - started < budget_seconds:
            with self.session_factory.begin() as session:
                done = search.catch_up(session)
            indexed += done
            if not done:
                break
        return indexed

    def repair_search(self) -> int:
        """Index a case the search's high-water mark passed over (``search.repair``)."""
        with self.session_factory.begin() as session:
            return search.repair(session)

    def run_once(self) -> RoundReport:
        """One round of every job, in the order a complaint travels."""
        report = RoundReport()
        report.outcomes, report.errors = self.poll_mail()
        report.hotline = self.import_hotline()
        report.sent, report.retried, report.failed = self.send_outbox()
        report.overdue = self.sweep_deadlines()
        return report

    def close(self) -> None:
        self.parse_pool.close()
        self.engine.dispose()


def safe_error(exc: BaseException) -> str:
    """What an operator may read of ``exc`` without complainant data: its type, and for an
    OS error its errno text, for an IMAP error the server's answer (ASCII, no addresses)."""
    kind = type(exc).__name__
    if isinstance(exc, OSError) and exc.errno:
        return f"{kind}: {os.strerror(exc.errno)}"
    if type(exc).__module__.split(".")[0] in {"imaplib", "imapclient"}:
        words = [w for w in str(exc).split() if w.isascii() and w.isprintable() and "@" not in w]
        return f"{kind}: {' '.join(words)[:120]}"
    return kind


def _folder(box: ImapMailbox | MaildirMailbox) -> str:
    return box.folder if isinstance(box, ImapMailbox) else "INBOX"


def mailbox_lock(box: ImapMailbox | MaildirMailbox) -> str:
    """The lock of one mailbox: polling and reconciling it, in one daemon at a time."""
    return f"mailbox:{box.kind}:{box.name}"
