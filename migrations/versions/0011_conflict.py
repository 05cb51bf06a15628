"""backscatter caps: outbox mail indexed by kind and time (recent automatic answers counted)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 08:10:00
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_mail_kind_created", "outbox_mail", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_mail_kind_created", table_name="outbox_mail")
