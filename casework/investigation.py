"""The data of an investigation beyond the case itself (clauses 四(四), 四(六), 五(三), 七).

Material requests, extensions, exclusions for conflict of interest, the mail threads staff
and authorities answer, satisfaction survey answers and the register of commitment
violations. Casework only stores them; routing decides when they are written.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models import Base, Case


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
    case: Mapped[Case] = relationship()


class Extension(Base):
    """An extension (延期) of the resolution deadline: once per case, approved by a supervisor."""

    __tablename__ = "extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
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

    case: Mapped[Case] = relationship()


class StaffThread(Base):
    """A mail we sent to staff or an authority; a reply must thread to one of these."""

    __tablename__ = "staff_thread"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime]

    case: Mapped[Case] = relationship()


class SurveyResponse(Base):
    """The complainant's satisfaction on the five-level scale (clause 五(三))."""

    __tablename__ = "survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)  # 5 非常满意 … 1 非常不满意
    label: Mapped[str] = mapped_column(String(16))
    answer_text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]


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
