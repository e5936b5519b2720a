"""regulator intelligence: saved queue views, analytics rollups, scan counts, alerts,
inspectors and inspections

Revision ID: regulator_01
Revises: dfa128e11d9c
"""

import sqlalchemy as sa
from alembic import op

import complaints.database

revision = "regulator_01"
down_revision = "dfa128e11d9c"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", complaints.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_saved_filters_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_filters")),
        sa.UniqueConstraint("account_id", "name", name="uq_saved_filters_account_name"),
    )


def downgrade():
    op.drop_table("saved_filters")
