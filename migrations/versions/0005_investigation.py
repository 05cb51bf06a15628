"""investigation: material requests, extensions, exclusions, staff threads, surveys, violations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _case_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["case_id"], ["cases.id"])


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _index(table: str, column: str, unique: bool = False) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=unique)


def upgrade() -> None:
    op.create_table(
        "material_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        _when("requested_at"), _when("completed_at", True),
        _case_fk(), sa.PrimaryKeyConstraint("id"),
    )
    _index("material_request", "case_id")
    op.create_table(
        "extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        _when("requested_at"),
        sa.Column("approved_by", sa.String(length=320), nullable=True),
        _when("approved_at", True),
        sa.Column("old_due", sa.Date(), nullable=True),
        sa.Column("new_due", sa.Date(), nullable=True),
        _case_fk(), sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint("case_id"),
    )
    op.create_table(
        "case_exclusion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _when("recorded_at"),
        _case_fk(), sa.PrimaryKeyConstraint("id"),
    )
    _index("case_exclusion", "case_id")
    op.create_table(
        "staff_thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        _when("sent_at"),
        _case_fk(), sa.PrimaryKeyConstraint("id"),
    )
    _index("staff_thread", "case_id")
    _index("staff_thread", "message_id")
    op.create_table(
        "survey_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=False),
        _when("received_at"),
        _case_fk(), sa.PrimaryKeyConstraint("id"),
    )
    _index("survey_response", "case_id")
    op.create_table(
        "violation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("clause", sa.String(length=32), nullable=False),
        sa.Column("sanction_tier", sa.String(length=255), nullable=False),
        sa.Column("compensation", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _when("recorded_at"),
        _case_fk(), sa.PrimaryKeyConstraint("id"),
    )
    _index("violation", "case_id")
    _index("violation", "staff")


def downgrade() -> None:
    for table in ("violation", "survey_response", "staff_thread", "case_exclusion",
                  "extension", "material_request"):
        op.drop_table(table)
