"""call_log_file: the hotline's call-log files in the raw store, so the retention purge can
remove them once no case names them (filled from the ledger for files taken in before)

Revision ID: 0023
Revises: 0025
Create Date: 2026-12-02 15:40:00
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0025"
branch_labels = None
depends_on = None

# intake.hotline.ledger writes "<file> row <n>; file sha256 <digest>" as the ledger's detail.
_FILE = re.compile(r"file sha256 ([0-9a-f]{64})")


def upgrade() -> None:
    table = op.create_table(
        "call_log_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_index("ix_call_log_file_imported_at", "call_log_file", ["imported_at"])
    _fill_from_ledger(table)


def _fill_from_ledger(table: sa.Table) -> None:
    """Files taken in before this revision, from the ledger's rows of the hotline and its
    quarantined rows."""
    ledger = sa.table("ingested_item", sa.column("source", sa.String()),
                      sa.column("detail", sa.Text()),
                      sa.column("ingested_at", sa.DateTime(timezone=True)))
    rows = op.get_bind().execute(
        sa.select(ledger.c.detail, ledger.c.ingested_at)
        .where(ledger.c.source == "hotline", ledger.c.detail.like("%file sha256 %"))
        .order_by(ledger.c.ingested_at))
    first: dict[str, tuple[str, object]] = {}
    for detail, at in rows:
        found = _FILE.search(detail or "")
        if found and found.group(1) not in first:  # the earliest row: when it came in
            first[found.group(1)] = (detail.split(" row ", 1)[0][:255], at)
    quarantine = sa.table("quarantine_item", sa.column("source", sa.String()),
                          sa.column("location", sa.String()),
                          sa.column("raw_sha256", sa.String()),
                          sa.column("created_at", sa.DateTime(timezone=True)))
    # A file with no good row is known only by its quarantined rows.
    for location, digest, at in op.get_bind().execute(
            sa.select(quarantine.c.location, quarantine.c.raw_sha256, quarantine.c.created_at)
            .where(quarantine.c.source == "hotline", quarantine.c.raw_sha256.is_not(None))
            .order_by(quarantine.c.created_at)):
        if digest not in first:
            first[digest] = ((location or "").split(" row ", 1)[0][:255], at)
    if first:
        op.bulk_insert(table, [{"sha256": digest, "name": name, "size": 0, "imported_at": at}
                               for digest, (name, at) in first.items()])


def downgrade() -> None:
    op.drop_index("ix_call_log_file_imported_at", table_name="call_log_file")
    op.drop_table("call_log_file")
