"""extensions: as many per case as [clock] extensions.count allows (clause 八), not one

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:10:00
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# SQLite keeps the constraint unnamed: a name is given to it for the table's rebuild.
_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("extension", recreate="always",
                                  naming_convention=_NAMES) as batch:
            batch.drop_constraint("uq_extension_case_id", type_="unique")
            batch.create_index("ix_extension_case_id", ["case_id"])
        return
    op.drop_constraint("extension_case_id_key", "extension", type_="unique")
    op.create_index("ix_extension_case_id", "extension", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_extension_case_id", table_name="extension")
    with op.batch_alter_table("extension") as batch:
        batch.create_unique_constraint("uq_extension_case_id", ["case_id"])
