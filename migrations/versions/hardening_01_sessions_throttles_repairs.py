"""hardening: session generations, sign-in throttles per client, two-person repairs,
per-number SMS budget index, personal data retention

Revision ID: hardening_01
Revises: dfa128e11d9c
Create Date: 2026-12-04 17:20:00

"""
from alembic import op
import sqlalchemy as sa

import complaints.database


revision = "hardening_01"
down_revision = "pipeline_01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )

    op.create_table(
        "login_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", complaints.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", complaints.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_login_throttles_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttles")),
        sa.UniqueConstraint("account_id", "client", name=op.f("uq_login_throttles_account_id")),
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttles_account_id"), ["account_id"], unique=False
        )

    with op.batch_alter_table("credit_repair_applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_approved_by", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "first_approved_at", complaints.database.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("first_approval_reason", sa.Text(), nullable=True))


    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_recipient_created", ["recipient", "created_at"], unique=False
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "personal_data_purged_at",
                complaints.database.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_index(
            "ix_cases_retention_due",
            ["state", "state_entered_at"],
            unique=False,
            postgresql_where=sa.text("personal_data_purged_at IS NULL"),
            sqlite_where=sa.text("personal_data_purged_at IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_cases_retention_due",
            postgresql_where=sa.text("personal_data_purged_at IS NULL"),
            sqlite_where=sa.text("personal_data_purged_at IS NULL"),
        )
        batch_op.drop_column("personal_data_purged_at")

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_recipient_created")

    with op.batch_alter_table("credit_repair_applications", schema=None) as batch_op:
        batch_op.drop_column("first_approval_reason")
        batch_op.drop_column("first_approved_at")
        batch_op.drop_column("first_approved_by")

    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_account_id"))
    op.drop_table("login_throttles")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
