"""search: the search terms of each case (character pairs and word tails) with an FTS5
table (SQLite) or a GIN index (PostgreSQL), and the indexer's high-water marks

Revision ID: 0013
Revises: 0015
Create Date: 2026-12-02 12:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0015"
branch_labels = None
depends_on = None

# The same statements as casework.models.SEARCH_DDL, copied: migrations outlive the code.
SQLITE = [
    "CREATE VIRTUAL TABLE case_search_fts USING fts5(terms, content='case_search', "
    "content_rowid='case_id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER case_search_ai AFTER INSERT ON case_search BEGIN "
    "INSERT INTO case_search_fts(rowid, terms) VALUES (new.case_id, new.terms); END",
    "CREATE TRIGGER case_search_ad AFTER DELETE ON case_search BEGIN "
    "INSERT INTO case_search_fts(case_search_fts, rowid, terms) "
    "VALUES ('delete', old.case_id, old.terms); END",
    "CREATE TRIGGER case_search_au AFTER UPDATE OF terms ON case_search BEGIN "
    "INSERT INTO case_search_fts(case_search_fts, rowid, terms) "
    "VALUES ('delete', old.case_id, old.terms); "
    "INSERT INTO case_search_fts(rowid, terms) VALUES (new.case_id, new.terms); END",
]
POSTGRESQL = [
    "CREATE INDEX ix_case_search_terms ON case_search "
    "USING gin (array_to_tsvector(string_to_array(terms, ' '))) WITH (fastupdate = off)",
]


def upgrade() -> None:
    op.create_table('case_search',
    sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('partial', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('case_search', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_search_partial'), ['partial'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_search_stale'), ['stale'], unique=False)

    op.create_table('search_mark',
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(dialect, []):
        op.execute(statement)
    # The cases already stored are indexed by the daemon's search job (the marks start at
    # nothing); until then a search reads them by substring, as before.


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS case_search_fts")
    op.drop_table('search_mark')
    with op.batch_alter_table('case_search', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_search_stale'))
        batch_op.drop_index(batch_op.f('ix_case_search_partial'))

    op.drop_table('case_search')
