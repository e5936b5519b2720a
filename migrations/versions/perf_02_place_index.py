"""duplicates: one index for a place's recent cases whose key holds every equality of the query

Revision ID: perf_02
Revises: search_02
Create Date: 2026-12-06 00:40:00

The duplicate check reads a place's newest cases of a category (outlet, merchant, category,
the last 3 days, newest first, at most 200). With `(outlet_id, created_at)` and `(outlet_id)`
PostgreSQL chose by its statistics: for a stall they still called quiet (a rush, before
autovacuum's next ANALYZE) it read all of the stall's recent cases through `ix_cases_outlet_id`
or `ix_cases_enterprise_id` and sorted them (8,011 rows, 4.0 ms per filing, growing with the
rush). With every equality in the key the backward walk is the cheapest plan whatever the
estimate, and stops after 200 rows (1.7 ms). `ix_cases_outlet_id` only repeated the first
column of the composite index, and cost every filing one more index entry.
"""

from alembic import op

revision = "perf_02"
down_revision = "search_02"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_place_created",
            ["outlet_id", "enterprise_id", "category", "created_at"],
            unique=False,
        )
        batch_op.drop_index("ix_cases_outlet_created")
        batch_op.drop_index("ix_cases_outlet_id")


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_outlet_id", ["outlet_id"], unique=False)
        batch_op.create_index("ix_cases_outlet_created", ["outlet_id", "created_at"], unique=False)
        batch_op.drop_index("ix_cases_place_created")
