"""tokens: a reply token's nonce and a closed mark on each staff thread (issue 12)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_thread") as batch:
        batch.add_column(sa.Column("nonce", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_why", sa.String(length=64), nullable=True))
        batch.create_index("ix_staff_thread_nonce", ["nonce"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("staff_thread") as batch:
        batch.drop_index("ix_staff_thread_nonce")
        batch.drop_column("closed_why")
        batch.drop_column("closed_at")
        batch.drop_column("nonce")
