"""search: a bigram GIN index on case descriptions, for two-character words

Revision ID: search_02
Revises: analytics_01
Create Date: 2026-12-05 05:40:00

Most Chinese words are two characters (退货, 发票), and a trigram needs three: the console's
search for such a word walked all of an agency's cases when the word was rare or absent (1.2 s
at a million cases). anxin_bigrams() lists the distinct lower-cased two-character substrings of
a text; a GIN index on it answers `anxin_bigrams(description) @> ARRAY['退货']`, which for a
two-character word is exactly "contains it". PostgreSQL only (SQLite, the development default,
filters).
"""

import sqlalchemy as sa
from alembic import op

revision = "search_02"
down_revision = "analytics_01"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        sa.text(
            """
            CREATE OR REPLACE FUNCTION anxin_bigrams(t text) RETURNS text[]
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$
              SELECT coalesce(array_agg(DISTINCT substr(lower(t), i, 2)), '{}')
              FROM generate_series(1, char_length(t) - 1) AS i
            $$
            """
        )
    )
    op.execute(
        sa.text(
            "CREATE INDEX ix_cases_description_bigrams ON cases"
            " USING gin (anxin_bigrams(description))"
        )
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(sa.text("DROP INDEX IF EXISTS ix_cases_description_bigrams"))
    op.execute(sa.text("DROP FUNCTION IF EXISTS anxin_bigrams(text)"))
