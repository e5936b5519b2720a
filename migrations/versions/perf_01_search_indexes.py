"""Search indexes: pg_trgm GIN on case text and merchant names, an outlet's recent cases

Revision ID: perf_01
Revises: dfa128e11d9c
Create Date: 2026-12-04 17:10:00

The console's free-text and merchant-name filters and the similar-text duplicate candidates are
substring/similarity searches that no btree answers. pg_trgm is a trusted extension (PostgreSQL
13+), so the database owner may create it. On SQLite the same indexes are plain ones.
"""

import sqlalchemy as sa
from alembic import op

revision = "perf_01"
down_revision = "legal_01"
branch_labels = None
depends_on = None

TRIGRAM = {
    "cases": (("ix_cases_description_trgm", "description"), ("ix_cases_number_trgm", "number")),
    "enterprises": (
        ("ix_enterprises_name_zh_trgm", "name_zh"),
        ("ix_enterprises_name_en_trgm", "name_en"),
    ),
}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    for table, indexes in TRIGRAM.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column in indexes:
                batch_op.create_index(
                    name,
                    [column],
                    unique=False,
                    postgresql_using="gin",
                    postgresql_ops={column: "gin_trgm_ops"},
                )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_outlet_created", ["outlet_id", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_outlet_created")
    for table, indexes in TRIGRAM.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _column in indexes:
                batch_op.drop_index(name)
    # The extension stays: other objects may use it, and it costs nothing unused.
