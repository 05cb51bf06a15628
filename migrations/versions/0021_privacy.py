"""privacy: the register of privacy actions (exports, corrections, erasures, purges)

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-02 12:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('privacy_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=True),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('privacy_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_action_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacy_action_subject'), ['subject'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('privacy_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_action_subject'))
        batch_op.drop_index(batch_op.f('ix_privacy_action_at'))
    op.drop_table('privacy_action')
