"""public progress: the verification code's hash, the web survey's answers (solved,
comment, channel; one per case), activity feedback forms and public page attempts

Revision ID: 0018
Revises: 0013
Create Date: 2026-12-02 11:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verify_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("solved", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(length=8), nullable=False,
                                      server_default="mail"))
        # One answer per case: the mail path checked it; the web form's double submit
        # needs the database to say so.
        batch_op.drop_index("ix_survey_response_case_id")
        batch_op.create_index("ix_survey_response_case_id", ["case_id"], unique=True)
    op.create_table(
        "activity_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(length=200), nullable=False),
        sa.Column("attended_on", sa.Date(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_activity_feedback_received_at", "activity_feedback", ["received_at"])
    op.create_table(
        "public_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("what", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_public_attempt_address", "public_attempt", ["address"])
    op.create_index("ix_public_attempt_at", "public_attempt", ["at"])
    op.create_index("ix_public_attempt_reference", "public_attempt", ["reference"])


def downgrade() -> None:
    op.drop_table("public_attempt")
    op.drop_table("activity_feedback")
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_response_case_id")
        batch_op.create_index("ix_survey_response_case_id", ["case_id"], unique=False)
        batch_op.drop_column("channel")
        batch_op.drop_column("comment")
        batch_op.drop_column("solved")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("verify_hash")
