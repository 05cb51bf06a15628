"""search: how many messages each case had when indexed, so that a message committed late
by a second writer (below the high-water mark) is noticed

Revision ID: 0025
Revises: 0018
Create Date: 2026-12-02 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (copy-and-move) of case_search on SQLite would drop the
    # FTS5 triggers that keep case_search_fts in step.
    op.add_column("case_search", sa.Column("messages", sa.Integer(), nullable=False,
                                           server_default="0"))


def downgrade() -> None:
    op.drop_column("case_search", "messages")
