"""regulator intelligence: saved queue views, analytics rollups, scan counts, alerts,
inspectors and inspections

Revision ID: regulator_01
Revises: dfa128e11d9c
"""

import sqlalchemy as sa
from alembic import op

import complaints.database

revision = "regulator_01"
down_revision = "integration_01"
branch_labels = None
depends_on = None

# Enums stored as VARCHAR with a named CHECK: a new member means a new constraint.
ROLES = ["tourist", "merchant", "handler", "supervisor", "fund_manager", "admin", "system"]
ACCOUNT_ROLES = [
    "handler",
    "supervisor",
    "fund_manager",
    "admin",
    "merchant_owner",
    "merchant_staff",
]
CREDIT_KINDS = [
    "complaint_substantiated",
    "settled_in_time",
    "deadline_missed",
    "mediation_refused",
    "compensation_paid",
    "recovery_repaid_on_time",
    "recovery_overdue",
    "complaint_free_period",
    "serious_listed",
    "repair_granted",
    "serious_list_removed",
]
NEW_CREDIT_KINDS = [
    "inspection_passed",
    "inspection_rectify",
    "rectification_overdue",
    "inspection_referred",
]
SOURCES = ["qr", "search", "api"]
ENUM_COLUMNS = [
    # table, column, constraint name, old values, new values, length
    ("accounts", "role", "account_role", ACCOUNT_ROLES, [*ACCOUNT_ROLES, "inspector"], 22),
    ("case_events", "actor_role", "actor_role", ROLES, [*ROLES, "inspector"], 20),
    ("ledger_transactions", "actor_role", "actor_role", ROLES, [*ROLES, "inspector"], 20),
    ("claim_events", "actor_role", "actor_role", ROLES, [*ROLES, "inspector"], 20),
    ("case_messages", "author_role", "message_author_role", ROLES, [*ROLES, "inspector"], 20),
    ("cases", "source", "case_source", SOURCES, [*SOURCES, "inspection"], (14, 18)),
    ("credit_events", "kind", "credit_event_kind", CREDIT_KINDS, [*CREDIT_KINDS, *NEW_CREDIT_KINDS], 31),
]  # fmt: skip


def _enum(values, name, length):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _swap_enums(forward: bool):
    for table, column, name, old, new, length in ENUM_COLUMNS:
        old_length, new_length = length if isinstance(length, tuple) else (length, length)
        before, after = (old, new) if forward else (new, old)
        before_length, after_length = (
            (old_length, new_length) if forward else (new_length, old_length)
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=_enum(before, name, before_length),
                type_=_enum(after, name, after_length),
                existing_nullable=False,
            )


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
    op.create_table(
        "case_rollups",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "lodging",
                "catering",
                "shopping",
                "attractions",
                "transport",
                "travel_agency",
                "entertainment",
                "other",
                name="rollup_category",
                native_enum=False,
                create_constraint=True,
                length=21,
            ),
            nullable=False,
        ),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_case_rollups_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint(
            "day", "agency_id", "division_code", "category", "metric", name=op.f("pk_case_rollups")
        ),
    )
    op.create_table(
        "stage_rollups",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "merchant_response",
                "merchant_stage",
                "identity_verification",
                "acceptance_decision",
                "mediation",
                "termination_notice",
                "appeal_window",
                "recovery_due",
                "deposit_top_up",
                name="rollup_deadline_kind",
                native_enum=False,
                create_constraint=True,
                length=29,
            ),
            nullable=False,
        ),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("within", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_stage_rollups_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint(
            "day", "agency_id", "kind", "bucket", name=op.f("pk_stage_rollups")
        ),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "acknowledged",
                "closed",
                name="alert_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("raised_at", complaints.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", complaints.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", complaints.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["accounts.id"], name=op.f("fk_alerts_acknowledged_by_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_alerts_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["accounts.id"], name=op.f("fk_alerts_closed_by_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_alerts_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"], ["outlets.id"], name=op.f("fk_alerts_outlet_id_outlets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_alerts_dedupe_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alerts_agency_status", ["agency_id", "status", "raised_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_alerts_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "scan_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outlet_id"], ["outlets.id"], name=op.f("fk_scan_counts_outlet_id_outlets")
        ),
        sa.PrimaryKeyConstraint("day", "outlet_id", name=op.f("pk_scan_counts")),
    )
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "compliant",
                "rectify",
                "refer",
                name="inspection_result",
                native_enum=False,
                create_constraint=True,
                length=17,
            ),
            nullable=False,
        ),
        sa.Column("rectify_by", sa.Date(), nullable=True),
        sa.Column("rectified_at", complaints.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", complaints.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", complaints.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "result <> 'rectify' OR rectify_by IS NOT NULL",
            name=op.f("ck_inspections_rectify_has_date"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_inspections_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_inspections_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_inspections_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["accounts.id"], name=op.f("fk_inspections_inspector_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"], ["outlets.id"], name=op.f("fk_inspections_outlet_id_outlets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspections_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inspections_outlet_id"), ["outlet_id"], unique=False)
        batch_op.create_index(
            "ix_inspections_rectify_due",
            ["result", "rectified_at", "overdue_at", "rectify_by"],
            unique=False,
        )

    op.create_table(
        "inspection_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=96), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspection_photos_inspection_id_inspections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_photos")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_inspection_photos_stored_name")),
    )
    with op.batch_alter_table("inspection_photos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_photos_inspection_id"), ["inspection_id"], unique=False
        )

    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index("ix_case_events_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_agency_amount", ["agency_id", "amount_claimed_fen"], unique=False
        )
    _swap_enums(forward=True)


def downgrade():
    _swap_enums(forward=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_agency_amount")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index("ix_case_events_created_at")

    with op.batch_alter_table("inspection_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_photos_inspection_id"))

    op.drop_table("inspection_photos")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index("ix_inspections_rectify_due")
        batch_op.drop_index(batch_op.f("ix_inspections_outlet_id"))
        batch_op.drop_index(batch_op.f("ix_inspections_enterprise_id"))

    op.drop_table("inspections")
    op.drop_table("scan_counts")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_enterprise_id"))
        batch_op.drop_index("ix_alerts_agency_status")

    op.drop_table("alerts")
    op.drop_table("stage_rollups")
    op.drop_table("case_rollups")
    op.drop_table("saved_filters")
