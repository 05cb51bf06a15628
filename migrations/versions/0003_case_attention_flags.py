"""case attention flags (needs_attention, phone_follow_up); outbox_mail.retry_since

A promised mail that could not be delivered flags its case for staff, and for a phone
call when the complainant gave a number; a mail retried by hand counts its age for
giving up from the retry (issue 6).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 16:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("needs_attention", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("phone_follow_up", sa.Boolean(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.drop_column("retry_since")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("phone_follow_up")
        batch_op.drop_column("needs_attention")
