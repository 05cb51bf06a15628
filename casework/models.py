"""The database model of casework (SQLAlchemy 2.0, typed): every table of a case's life.

The case and its parties, messages, assignments, referrals and timeline; the ledger and
the quarantine of intake; and the data of an investigation beyond the case itself
(clauses 四(四), 四(六), 五(三), 七): material requests, extensions, exclusions for conflict
of interest, the mail threads staff and authorities answer, survey answers and the register
of commitment violations (casework stores them; routing decides when they are written).

Times are stored in UTC and always come back timezone-aware, on SQLite as on PostgreSQL.
Deadlines are plain dates: they are counted in Shanghai working days.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, Session, mapped_column, relationship

from casework.status import CaseStatus

_BindProcessor = Callable[[Any], Any]
_UNSEEN = object()
_BIND_MEMO = 4096


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> _BindProcessor | None:
        """The usual conversion, remembered per instant: a batch writes the same few times
        (the moment of the batch, a day's receipt times) on every row of every table, and
        converting and formatting each again was a tenth of the batch's final write.
        Equal aware datetimes are the same instant, so they store the same value."""
        convert = super().bind_processor(dialect)
        if convert is None:
            return None
        known: dict[datetime, Any] = {}

        def process(value: Any) -> Any:
            if value is None or value.tzinfo is None:
                return convert(value)  # (a naive one raises there)
            found = known.get(value, _UNSEEN)
            if found is _UNSEEN:
                if len(known) >= _BIND_MEMO:
                    known.clear()
                found = known[value] = convert(value)
            return found

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# A row's link up to its case (or message) does not carry ``session.add`` on to it: the
# case is in the session first and takes its rows in through its own collections. The
# default ("save-update") made every row added walk the whole case again, every event,
# message and assignment of it: a tenth of a call log's import.
UP = "merge"


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime(),
        date: Date(),
        dict[str, Any]: JSON(),
        str: String(255),
    }

    def __init__(self, **kwargs: Any) -> None:
        """SQLAlchemy's declarative constructor (each keyword set as the attribute; one the
        class does not have is a TypeError), made for the fifteen rows a complaint makes.

        A column's value goes straight into the new object's dict, where a flush reads a
        new row's values; an object being made has no history to keep and no session to
        tell, so the attribute events would only cost time (a fifth of the ORM's share of
        a call log's import). Relationships still go through the attribute, which links
        both sides and takes the new row into its case's session.
        """
        columns, others = _attribute_names(type(self))
        values = self.__dict__
        for key, value in kwargs.items():
            if key in columns:
                values[key] = value
            elif key in others:
                setattr(self, key, value)
            else:
                raise TypeError(f"{key!r} is an invalid keyword argument for "
                                f"{type(self).__name__}")


@functools.cache
def _attribute_names(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    """The class's plain column attributes, and every other name it has."""
    mapper: Mapper[Any] = inspect(cls)
    columns = frozenset(prop.key for prop in mapper.column_attrs)
    return columns, frozenset(dir(cls)) - columns


class Party(Base):
    """A person who complains (or is otherwise party to a case)."""

    __tablename__ = "party"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None]
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    # PIPL art. 28-29: health details are sensitive; processing them needs separate consent.
    consent_health_data: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_recorded_at: Mapped[datetime | None]
    # Who recorded the consent (or its refusal) and from what: "call", "letter", "intake".
    consent_recorded_by: Mapped[str | None] = mapped_column(String(320))
    consent_source: Mapped[str | None] = mapped_column(String(16))
    retention_until: Mapped[date | None]
    created_at: Mapped[datetime]


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[CaseStatus] = mapped_column(
        Enum(CaseStatus, native_enum=False, length=32,
             values_callable=lambda e: [m.value for m in e]),
        index=True,
    )
    channel: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(998))
    summary: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    category: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime]
    acknowledge_due: Mapped[date | None]
    resolve_due: Mapped[date | None] = mapped_column(index=True)
    complainant_id: Mapped[int | None] = mapped_column(ForeignKey("party.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Set when a promised mail could not be delivered (the timeline says which and why);
    # staff clear it once they have dealt with it. phone_follow_up: call the complainant.
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    phone_follow_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Clause 四(五): a major or difficult matter, escalated to the supervisor (the reason is
    # on the timeline); it allows an appointment or a deferral (clause 四(六)).
    major: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # A case merged into another (a duplicate, or linked_for_review): closed, its timeline
    # and messages kept and shown with the surviving case.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # The hash of the complainant's verification code (casework.progress): the second
    # factor of the public progress page. The code itself is only ever in the mail.
    verify_hash: Mapped[str | None] = mapped_column(String(64))
    # The deadline whose after-deadline work the sweep has finished (routing.sweep_candidates):
    # a case equal to its resolve_due is not looked at again; a new deadline differs.
    swept_due: Mapped[date | None]

    complainant: Mapped[Party | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="case", order_by="Message.id", cascade="all, delete-orphan"
    )
    # One way only: an event is added to its case (``transitions.record``) and never
    # moved, so the link back is for reading; keeping the two in step on every event
    # recorded was a third of what recording cost.
    events: Mapped[list[TimelineEvent]] = relationship(
        order_by="TimelineEvent.id", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="case", order_by="Assignment.id", cascade="all, delete-orphan"
    )
    referrals: Mapped[list[Referral]] = relationship(
        back_populates="case", order_by="Referral.id", cascade="all, delete-orphan"
    )
    # Who must never see the case; a new exclusion is in this list before it is written,
    # so a batch checks its own cases without searching everything the batch has made.
    exclusions: Mapped[list[CaseExclusion]] = relationship(
        back_populates="case", order_by="CaseExclusion.id"
    )

    # The sweep's candidate queries (routing.sweep_candidates): open cases by deadline, the
    # triage queue by status.
    __table_args__ = (
        # swept_due too, so the overdue query reads the index alone (SQLite scanned the
        # table rather than look each row up).
        Index("ix_cases_status_resolve_due", "status", "resolve_due", "swept_due"),
        Index("ix_cases_department_status", "department", "status"),
    )


class Message(Base):
    """One mail or call in a case, inbound or outbound. Raw bytes live in the raw store."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    channel: Mapped[str] = mapped_column(String(16))
    # The Message-ID header as it came: an index for threading, not a unique key
    # (the same complaint may reach us through two addresses).
    message_id: Mapped[str | None] = mapped_column(String(998))
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(998), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    raw_size: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime]
    # Intake: the HTML body sanitised (nh3), the sender's DKIM/SPF/DMARC results (shown to
    # staff, never used to drop), and how the mail was classified and why.
    body_html: Mapped[str | None] = mapped_column(Text)
    authentication: Mapped[str | None] = mapped_column(String(255))
    classification: Mapped[str | None] = mapped_column(String(500))

    case: Mapped[Case] = relationship(back_populates="messages", cascade=UP)
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_message_message_id", "message_id"),)


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Why the file was not stored (over the size limit); sha256 is then empty.
    refused: Mapped[str | None] = mapped_column(String(255))

    message: Mapped[Message] = relationship(back_populates="attachments", cascade=UP)


class Assignment(Base):
    """Who works on a case: a department queue and, once assigned, a handler."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department: Mapped[str] = mapped_column(String(64))
    handler: Mapped[str | None] = mapped_column(String(320))
    delegate_for: Mapped[str | None] = mapped_column(String(320))
    assigned_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="assignments", cascade=UP)

    # The sweep finds an absent handler's, a returning one's and an excluded one's active
    # assignments by these (routing.sweep_candidates).
    __table_args__ = (
        Index("ix_assignment_handler_ended_at", "handler", "ended_at"),
        Index("ix_assignment_delegate_for_ended_at", "delegate_for", "ended_at"),
    )


class Referral(Base):
    """A case reported to the administrative authority responsible for it (clause 三(五))."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    authority: Mapped[str] = mapped_column(String(255))
    authority_email: Mapped[str | None] = mapped_column(String(320))
    sent_at: Mapped[datetime | None]
    answer_due: Mapped[date | None]
    answered_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="referrals", cascade=UP)

    # The sweep's late referrals: unanswered, by answer date (routing.sweep_candidates).
    __table_args__ = (Index("ix_referral_answered_at_answer_due", "answered_at", "answer_due"),)


class TimelineEvent(Base):
    """The append-only audit trail of a case: who did what, when and why."""

    __tablename__ = "timeline_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    case: Mapped[Case] = relationship(viewonly=True)


class ReferenceCounter(Base):
    """The last reference number given out, per prefix and year (never reused)."""

    __tablename__ = "reference_counter"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger, default=0)


class IngestedItem(Base):
    """The ledger of every source item taken in, so nothing is taken in twice.

    Keyed by where it came from (source, folder, UIDVALIDITY, UID); the hash of the raw
    bytes catches the same item seen at a new place (after a UIDVALIDITY change).
    """

    __tablename__ = "ingested_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    folder: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[str] = mapped_column(String(255))
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    # An index (threading, the same complaint through two addresses, reconciliation), never
    # a unique key.
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    detail: Mapped[str] = mapped_column(Text, default="")
    ingested_at: Mapped[datetime]
    # Lets a batch link the row to a case that gets its id at the batch's one flush.
    case: Mapped[Case | None] = relationship(cascade=UP)

    __table_args__ = (
        UniqueConstraint("source", "folder", "uidvalidity", "uid", name="uq_ingested_item_place"),
    )


class QuarantineItem(Base):
    """Input that could not be processed, kept with its raw bytes and the reason."""

    __tablename__ = "quarantine_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(1000))
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _keep_timeline_append_only(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TimelineEvent) and (
            obj in session.deleted or session.is_modified(obj, include_collections=False)
        ):
            raise AppendOnlyError(f"timeline event {obj.id} is append-only")


# -- the investigation (migration 0005) ----------------------------------------------


class MaterialRequest(Base):
    """One notice of missing material (clause 四(四): there should be only one)."""

    __tablename__ = "material_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    items: Mapped[list[str]] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(320))
    requested_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]

    # Written in one flush with a case that is new in the same batch: the relationship
    # tells the flush to insert the case first (so do those below).
    case: Mapped[Case] = relationship(cascade=UP)


class Extension(Base):
    """An extension (延期) of the resolution deadline, approved by a supervisor; as many per
    case as ``[clock] extensions.count`` allows (one by default, clause 四(六))."""

    __tablename__ = "extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(320))
    requested_at: Mapped[datetime]
    approved_by: Mapped[str | None] = mapped_column(String(320))
    approved_at: Mapped[datetime | None]
    old_due: Mapped[date | None]
    new_due: Mapped[date | None]


class CaseExclusion(Base):
    """A staff member who must never see a case (conflict of interest)."""

    __tablename__ = "case_exclusion"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    staff: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]

    case: Mapped[Case] = relationship(back_populates="exclusions", cascade=UP)


class StaffThread(Base):
    """A mail we sent to staff or an authority; a reply must thread to one of these."""

    __tablename__ = "staff_thread"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime]
    # The reply token's nonce (casework.tokens): the token itself is not stored. None for
    # mail sent before tokens (migration 0009): such a thread is answered by nobody.
    nonce: Mapped[str | None] = mapped_column(String(16), index=True, unique=True)
    # A closed thread is answered by nobody: the case moved away from the recipient, ended,
    # or the authority's answer was already taken on it.
    closed_at: Mapped[datetime | None]
    closed_why: Mapped[str | None] = mapped_column(String(64))

    case: Mapped[Case] = relationship(cascade=UP)


class SurveyResponse(Base):
    """The complainant's satisfaction on the five-level scale (clause 五(三)); one per case.

    ``solved`` (yes / partly / no) is asked apart from satisfaction, as the 12345 hotlines'
    回访 does; it is None for an answer by mail, which gives a level only. ``channel``:
    "mail" or "web". ``comment``: what the complainant added on the web form."""

    __tablename__ = "survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True, unique=True)
    level: Mapped[int] = mapped_column(Integer)  # 5 非常满意 … 1 非常不满意
    label: Mapped[str] = mapped_column(String(16))
    answer_text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    solved: Mapped[str | None] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(8), default="mail", server_default="mail")


class ActivityFeedback(Base):
    """An activity feedback form (意见函, clause 五(三)) about an event or a visit, not tied
    to a case: counted in the reports. Anonymous: no name, address or phone is asked."""

    __tablename__ = "activity_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity: Mapped[str] = mapped_column(String(200))
    attended_on: Mapped[date | None]
    level: Mapped[int] = mapped_column(Integer)  # 5 非常满意 … 1 非常不满意
    comment: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    received_at: Mapped[datetime] = mapped_column(index=True)


class PublicAttempt(Base):
    """An attempt on a public page (progress look-up, survey, feedback form), for its rate
    limits per address and per reference. ``address``: the client address (no personal
    data beyond it); ``reference`` as typed, cut to 32 characters."""

    __tablename__ = "public_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    what: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64), index=True)
    reference: Mapped[str | None] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class Violation(Base):
    """The register of commitment violations (clause 七) with sanction tier and compensation."""

    __tablename__ = "violation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    staff: Mapped[str | None] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(64))
    clause: Mapped[str] = mapped_column(String(32))
    sanction_tier: Mapped[str] = mapped_column(String(255))
    compensation: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    source: Mapped[str] = mapped_column(String(16))  # "automatic" or "finding"
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recorded_at: Mapped[datetime]
    # Clause 七 carried out: the sanction applied (批评教育 given, apology made, 效能告诫
    # issued) and the compensation paid, each with who recorded it and when.
    sanction_applied_at: Mapped[datetime | None]
    sanction_applied_by: Mapped[str | None] = mapped_column(String(320))
    compensation_paid_at: Mapped[datetime | None]
    compensation_paid_by: Mapped[str | None] = mapped_column(String(320))


# -- the access log (migration 0012; read by the privacy audit) -------------------------


class CaseView(Base):
    """The access log: who opened which case (or one of its files), and when:
    the console records every view, the CLI's ``cases show`` too (PIPL art. 51, 55)."""

    __tablename__ = "case_view"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    staff: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime]
    what: Mapped[str] = mapped_column(String(64))  # "case" or "attachment:<id>"
# -- the search index (migration 0013) ---------------------------------------------------


class CaseSearch(Base):
    """The search terms of one case (``casework.search``): character pairs of its Chinese
    text, the tails of its other words, written by the indexer after the case is stored.

    SQLite reads ``terms`` through an FTS5 table kept by triggers, PostgreSQL through a GIN
    index of ``array_to_tsvector``; both are made beside this table (``SEARCH_DDL``).
    ``stale``: the case changed since (its row is not trusted until indexed again);
    ``partial``: too much text to index, so the case is always read by substring.
    ``messages``: how many messages the case had when indexed (a message committed late by
    a second writer, below the mark, shows as a count that no longer matches).
    ``case_id`` is no foreign key: an erased case leaves a row for the indexer to remove.
    """

    __tablename__ = "case_search"

    case_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    terms: Mapped[str] = mapped_column(Text)
    stale: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    partial: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    messages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SearchMark(Base):
    """How far the indexer has read: the highest case id and message id it has indexed."""

    __tablename__ = "search_mark"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


# The FTS5 table and its triggers (SQLite), the GIN index (PostgreSQL): not mapped, made
# and dropped with ``case_search`` (migration 0013 runs the same statements).
SEARCH_DDL = {
    "sqlite": [
        "CREATE VIRTUAL TABLE case_search_fts USING fts5(terms, content='case_search', "
        "content_rowid='case_id', tokenize='unicode61 remove_diacritics 0')",
        "CREATE TRIGGER case_search_ai AFTER INSERT ON case_search BEGIN "
        "INSERT INTO case_search_fts(rowid, terms) VALUES (new.case_id, new.terms); END",
        "CREATE TRIGGER case_search_ad AFTER DELETE ON case_search BEGIN "
        "INSERT INTO case_search_fts(case_search_fts, rowid, terms) "
        "VALUES ('delete', old.case_id, old.terms); END",
        "CREATE TRIGGER case_search_au AFTER UPDATE OF terms ON case_search BEGIN "
        "INSERT INTO case_search_fts(case_search_fts, rowid, terms) "
        "VALUES ('delete', old.case_id, old.terms); "
        "INSERT INTO case_search_fts(rowid, terms) VALUES (new.case_id, new.terms); END",
    ],
    "postgresql": [
        "CREATE INDEX ix_case_search_terms ON case_search "
        "USING gin (array_to_tsvector(string_to_array(terms, ' '))) "
        "WITH (fastupdate = off)",
    ],
}
SEARCH_DROP = {"sqlite": ["DROP TABLE IF EXISTS case_search_fts"], "postgresql": []}


def _search_ddl(statements: dict[str, list[str]]) -> Callable[..., None]:
    def run(_table: Any, connection: Any, **_kw: Any) -> None:
        for statement in statements.get(connection.dialect.name, []):
            connection.exec_driver_sql(statement)

    return run


event.listen(CaseSearch.__table__, "after_create", _search_ddl(SEARCH_DDL))
event.listen(CaseSearch.__table__, "before_drop", _search_ddl(SEARCH_DROP))


def compared(name: str | None, type_: str, _parents: Any) -> bool:
    """For Alembic's comparison: the search's own SQLite and PostgreSQL objects are not
    described by the models (``SEARCH_DDL``), so they are left out of it."""
    return not (name or "").startswith(("case_search_fts", "ix_case_search_terms"))


class CallLogFile(Base):
    """A call-log file whose bytes are in the raw store (``sha256``): one file, many callers.

    The retention purge removes the bytes once no case and no waiting quarantined row
    names the file any more (``privacy.calllogs``); this row stays, with ``removed_at``,
    so the statistics of what was taken in keep their source.
    """

    __tablename__ = "call_log_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    imported_at: Mapped[datetime] = mapped_column(index=True)
    removed_at: Mapped[datetime | None]
