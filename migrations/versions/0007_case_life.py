"""the whole life of a case: merged cases, major matters, who recorded consent, sanctions
and compensation carried out (issue 13)

A case merged into another points at the surviving case; a major or difficult matter is
flagged (clause 四(五)); a party's health-data consent records who took it and from what
(PIPL art. 29); a violation records that its sanction was applied and its compensation
paid, by whom and when (clause 七).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("party", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_recorded_by", sa.String(320), nullable=True))
        batch_op.add_column(sa.Column("consent_source", sa.String(16), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("major", sa.Boolean(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_cases_merged_into_id", ["merged_into_id"])
        batch_op.create_foreign_key("fk_cases_merged_into_id_cases", "cases",
                                    ["merged_into_id"], ["id"])
    with op.batch_alter_table("violation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sanction_applied_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("sanction_applied_by", sa.String(320), nullable=True))
        batch_op.add_column(sa.Column("compensation_paid_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("compensation_paid_by", sa.String(320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("violation", schema=None) as batch_op:
        for name in ("compensation_paid_by", "compensation_paid_at", "sanction_applied_by",
                     "sanction_applied_at"):
            batch_op.drop_column(name)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint("fk_cases_merged_into_id_cases", type_="foreignkey")
        batch_op.drop_index("ix_cases_merged_into_id")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("major")
    with op.batch_alter_table("party", schema=None) as batch_op:
        batch_op.drop_column("consent_source")
        batch_op.drop_column("consent_recorded_by")
