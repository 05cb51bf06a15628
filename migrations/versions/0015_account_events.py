"""account_event: the audit of console accounts changed by an administrator

Revision ID: 0015
Revises: 0021
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('staff_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('account_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_event_staff_id'), ['staff_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('account_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_event_staff_id'))
        batch_op.drop_index(batch_op.f('ix_account_event_at'))
    op.drop_table('account_event')
