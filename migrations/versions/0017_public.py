"""public: partner API keys and the public side's rate-limit hits

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('partner_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('key_sha256', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_sha256')
    )
    with op.batch_alter_table('partner_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_key_partner'), ['partner'], unique=False)

    op.create_table('public_hit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('who', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('public_hit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_hit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_public_hit_who'), ['who'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('public_hit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_hit_who'))
        batch_op.drop_index(batch_op.f('ix_public_hit_at'))

    op.drop_table('public_hit')
    with op.batch_alter_table('partner_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_key_partner'))

    op.drop_table('partner_key')
