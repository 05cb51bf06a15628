"""hotline follow-up call tasks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 17:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=320), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("call_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_task_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_task_due"), ["due"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_task_due"))
        batch_op.drop_index(batch_op.f("ix_call_task_case_id"))
    op.drop_table("call_task")
