"""mail intake: mailbox positions and health; HTML, authentication and classification of
messages; refused attachments (issue 3)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailbox_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reconcile_missing", sa.Integer(), nullable=False),
        sa.Column("reconcile_detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "folder", name="uq_mailbox_state_place"),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("authentication", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("classification", sa.String(length=500), nullable=True))
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refused", sa.String(length=255), nullable=True))
    with op.batch_alter_table("ingested_item", schema=None) as batch_op:
        batch_op.create_index("ix_ingested_item_message_id", ["message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ingested_item", schema=None) as batch_op:
        batch_op.drop_index("ix_ingested_item_message_id")
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("refused")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("classification")
        batch_op.drop_column("authentication")
        batch_op.drop_column("body_html")
    op.drop_table("mailbox_state")
