"""the sweep at a million open cases: the deadline a case was swept for, and the indexes of
the sweep's candidate queries (routing.sweep_candidates)

Revision ID: 0022
Revises: 0023
Create Date: 2026-12-02 15:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("swept_due", sa.Date(), nullable=True))
    op.create_index("ix_cases_status_resolve_due", "cases",
                    ["status", "resolve_due", "swept_due"])
    op.create_index("ix_cases_department_status", "cases", ["department", "status"])
    op.create_index("ix_assignment_handler_ended_at", "assignment", ["handler", "ended_at"])
    op.create_index("ix_assignment_delegate_for_ended_at", "assignment",
                    ["delegate_for", "ended_at"])
    op.create_index("ix_referral_answered_at_answer_due", "referral",
                    ["answered_at", "answer_due"])


def downgrade() -> None:
    op.drop_index("ix_referral_answered_at_answer_due", table_name="referral")
    op.drop_index("ix_assignment_delegate_for_ended_at", table_name="assignment")
    op.drop_index("ix_assignment_handler_ended_at", table_name="assignment")
    op.drop_index("ix_cases_department_status", table_name="cases")
    op.drop_index("ix_cases_status_resolve_due", table_name="cases")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("swept_due")
