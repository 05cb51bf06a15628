"""Prometheus metrics: counters kept where the daemon's work crosses an edge (mail polled,
call-log rows read, a send round, a sweep), and gauges read from the database at each scrape.

Counters are this process's (Prometheus adds up several daemons by their ``instance``);
the gauges are the database's, so every daemon and console reports the same depth and
the same overdue count. Labels are mailbox names and channels from the settings: never a
complainant's data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import SHANGHAI
from complaintd.ops.health import Mailbox, overdue_count
from intake.hotline.importer import ImportReport
from intake.ledger import Outcome
from intake.tables import MailboxState
from notifications.models import OutboxMail, OutboxStatus

_PREFIX = "complaintd"


class Metrics:
    """One registry per App (never the process-wide default: tests build many Apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.mails = Counter(f"{_PREFIX}_mails_taken", "Mails taken from a mailbox, by outcome",
                             ["mailbox", "outcome"], registry=r)
        self.rows = Counter(f"{_PREFIX}_hotline_rows_taken",
                            "Call-log rows read, by outcome", ["outcome"], registry=r)
        self.cases = Counter(f"{_PREFIX}_cases_opened", "New cases opened by intake",
                             ["channel"], registry=r)
        self.outbox = Counter(f"{_PREFIX}_outbox_mails", "Outbox mails by send result",
                              ["result"], registry=r)
        self.imap_errors = Counter(f"{_PREFIX}_mailbox_errors",
                                   "Failed polls of a mailbox (IMAP or maildir)",
                                   ["mailbox"], registry=r)
        self.smtp_errors = Counter(f"{_PREFIX}_smtp_errors",
                                   "SMTP attempts that failed (retried or given up)", registry=r)
        self.sweep = Histogram(f"{_PREFIX}_sweep_duration_seconds",
                               "How long a deadline sweep took", registry=r,
                               buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))

    def took_mail(self, mailbox: str, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            self.mails.labels(mailbox, outcome.kind).inc()
            if outcome.kind == "case":
                self.cases.labels("email").inc()

    def took_rows(self, reports: Iterable[ImportReport]) -> None:
        for report in reports:
            opened = report.imported - report.follow_ups
            self.rows.labels("case").inc(opened)
            self.rows.labels("follow_up").inc(report.follow_ups)
            self.rows.labels("duplicate").inc(report.duplicates)
            self.rows.labels("rejected").inc(report.rejected_rows)
            self.cases.labels("phone").inc(opened)

    def send_round(self, sent: int, retried: int, failed: int) -> None:
        self.outbox.labels("sent").inc(sent)
        self.outbox.labels("retried").inc(retried)
        self.outbox.labels("failed").inc(failed)
        self.smtp_errors.inc(retried + failed)

    def mailbox_failed(self, mailbox: str) -> None:
        self.imap_errors.labels(mailbox).inc()

    def watch_database(self, collector: Collector) -> None:
        """Add the database's gauges (once; the console and the daemon may both ask)."""
        if not getattr(self, "_watching", False):
            self.registry.register(collector)
            self._watching = True


class DatabaseGauges(Collector):
    """Outbox depth and oldest unsent mail, overdue cases, and intake lag (seconds since
    each mailbox's last good poll), read at each scrape."""

    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime],
                 mailboxes: Sequence[Mailbox]) -> None:
        self.sessions = sessions
        self.now = now
        self.mailboxes = mailboxes

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(f"{_PREFIX}_database_up", "1 when the database answered")
        try:
            gauges = list(self._read())
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from gauges

    def _read(self) -> Iterator[Metric]:
        now = self.now()
        with self.sessions() as session:
            depth, oldest = session.execute(
                select(func.count(OutboxMail.id), func.min(OutboxMail.created_at))
                .where(OutboxMail.status == OutboxStatus.PENDING)).one()
            overdue = overdue_count(session, now.astimezone(SHANGHAI).date())
            states = {(s.source, s.folder): s.last_success_at
                      for s in session.scalars(select(MailboxState))}
        yield _gauge("outbox_depth", "Outbox mails not yet sent", depth)
        yield _gauge("outbox_oldest_unsent_seconds", "Age of the oldest unsent outbox mail",
                     (now - oldest).total_seconds() if oldest else 0)
        yield _gauge("overdue_cases", "Open cases past their resolution deadline", overdue)
        lag = GaugeMetricFamily(f"{_PREFIX}_intake_lag_seconds",
                                "Seconds since a mailbox's last successful poll "
                                "(-1: never)", labels=["mailbox"])
        for box in self.mailboxes:
            last = states.get((box.source, box.folder))
            lag.add_metric([box.source], (now - last).total_seconds() if last else -1)
        yield lag


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{_PREFIX}_{name}", documentation, value=value)
