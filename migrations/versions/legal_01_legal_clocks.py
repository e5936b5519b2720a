"""Legal clocks (issue 12): paused deadlines, stage ceilings, identity verification,
complainant facts, recovery review and deposit top-ups.

Revision ID: legal_01
Revises: dfa128e11d9c
"""

import sqlalchemy as sa
from alembic import op

import complaints.database

revision = "legal_01"
down_revision = "hardening_01"
branch_labels = None
depends_on = None

OLD_KINDS = (
    "merchant_response",
    "acceptance_decision",
    "mediation",
    "termination_notice",
    "appeal_window",
    "recovery_due",
    "deposit_top_up",
)
NEW_KINDS = (
    "merchant_response",
    "merchant_stage",
    "identity_verification",
    "acceptance_decision",
    "mediation",
    "termination_notice",
    "appeal_window",
    "recovery_due",
    "deposit_top_up",
)


ACCOUNT_KINDS_OLD = (
    "fund_cash",
    "tourist_payable",
    "merchant_receivable",
    "merchant_deposit",
    "fund_contributions",
    "deposit_lodged",
)
ACCOUNT_KINDS_NEW = (*ACCOUNT_KINDS_OLD[:4], "fund_expense", *ACCOUNT_KINDS_OLD[4:])
ASSETS_OLD = ("fund_cash", "merchant_deposit", "merchant_receivable", "tourist_payable")
ASSETS_NEW = (
    "fund_cash",
    "fund_expense",
    "merchant_deposit",
    "merchant_receivable",
    "tourist_payable",
)
TRANSACTION_KINDS_OLD = (
    "contribution",
    "payout_reserve",
    "payout",
    "repayment",
    "deposit_deduction",
    "return_to_fund",
    "deposit_lodgement",
)
TRANSACTION_KINDS_NEW = (*TRANSACTION_KINDS_OLD, "liability_found")


def _normal_side(assets):
    quoted = ", ".join(f"'{kind}'" for kind in assets)
    return f"(kind IN ({quoted}) AND balance_fen >= 0) OR (kind NOT IN ({quoted}) AND balance_fen <= 0)"


def _retype_enum(table, column, enum_name, values, old_values, length, *, extra=None):
    """Swap an enum column's CHECK for one with other values (and optionally another CHECK)."""
    with op.batch_alter_table(table) as batch:
        if op.get_bind().dialect.name != "sqlite":
            batch.drop_constraint(op.f(f"ck_{table}_{enum_name}"), type_="check")
            if extra:
                batch.drop_constraint(op.f(f"ck_{table}_{extra[0]}"), type_="check")
        batch.alter_column(
            column,
            type_=sa.Enum(
                *values, name=enum_name, native_enum=False, create_constraint=False, length=length
            ),
            existing_type=sa.Enum(
                *old_values,
                name=enum_name,
                native_enum=False,
                create_constraint=False,
                length=length,
            ),
            existing_nullable=False,
        )
        quoted = ", ".join(f"'{value}'" for value in values)
        batch.create_check_constraint(enum_name, f"{column} IN ({quoted})")
    if extra:
        with op.batch_alter_table(table) as batch:
            if op.get_bind().dialect.name == "sqlite":
                batch.drop_constraint(op.f(f"ck_{table}_{extra[0]}"), type_="check")
            batch.create_check_constraint(extra[0], extra[1])


def _kind_type(values, length):
    return sa.Enum(
        *values, name="deadline_kind", native_enum=False, create_constraint=False, length=length
    )


def _retype_kinds(values, old_values, length, old_length):
    with op.batch_alter_table("case_deadlines") as batch:
        # SQLite's batch copy does not reflect CHECK constraints: the old one goes with the copy.
        if op.get_bind().dialect.name != "sqlite":
            batch.drop_constraint(op.f("ck_case_deadlines_deadline_kind"), type_="check")
        batch.alter_column(
            "kind",
            type_=_kind_type(values, length),
            existing_type=_kind_type(old_values, old_length),
            existing_nullable=False,
        )
        quoted = ", ".join(f"'{value}'" for value in values)
        batch.create_check_constraint("deadline_kind", f"kind IN ({quoted})")


def upgrade():
    utc = complaints.database.UTCDateTime(timezone=True)
    _retype_kinds(NEW_KINDS, OLD_KINDS, 29, 27)
    with op.batch_alter_table("case_deadlines") as batch:
        batch.add_column(sa.Column("paused_at", utc, nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("harm_known_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("contract_ended_on", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("merchant_first", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(
            sa.Column("tourist_address", sa.String(255), server_default="", nullable=False)
        )
    with op.batch_alter_table("claims") as batch:
        batch.add_column(
            sa.Column("merchant_frozen", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    _retype_enum(
        "ledger_accounts",
        "kind",
        "account_kind",
        ACCOUNT_KINDS_NEW,
        ACCOUNT_KINDS_OLD,
        27,
        extra=("balance_on_normal_side", _normal_side(ASSETS_NEW)),
    )
    _retype_enum(
        "ledger_transactions",
        "kind",
        "transaction_kind",
        TRANSACTION_KINDS_NEW,
        TRANSACTION_KINDS_OLD,
        25,
    )


def downgrade():
    _retype_enum(
        "ledger_transactions",
        "kind",
        "transaction_kind",
        TRANSACTION_KINDS_OLD,
        TRANSACTION_KINDS_NEW,
        25,
    )
    _retype_enum(
        "ledger_accounts",
        "kind",
        "account_kind",
        ACCOUNT_KINDS_OLD,
        ACCOUNT_KINDS_NEW,
        27,
        extra=("balance_on_normal_side", _normal_side(ASSETS_OLD)),
    )
    with op.batch_alter_table("claims") as batch:
        batch.drop_column("merchant_frozen")
    with op.batch_alter_table("cases") as batch:
        for column in ("tourist_address", "merchant_first", "contract_ended_on", "harm_known_on"):
            batch.drop_column(column)
    with op.batch_alter_table("case_deadlines") as batch:
        batch.drop_column("paused_at")
    _retype_kinds(OLD_KINDS, NEW_KINDS, 27, 29)
