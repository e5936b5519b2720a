"""Funds, the double-entry ledger, claims and recovery orders.

Money is integer fen (分) in the database, Decimal yuan only at the edges. Ledger amounts are
signed: positive is a debit, negative a credit, and every transaction's entries sum to zero.
Asset-like accounts (money the fund or a deposit holds, or is owed) sit at or above zero;
source accounts (where money came from) sit at or below zero. A CHECK constraint holds each
account on its normal side, so no bug or race can drive fund cash or a deposit negative.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.audit_chain import HashChained
from complaints.database import UTCDateTime, enum_column_type, utcnow
from complaints.extensions import db
from workflows.states import CompensationState, Role

# Local policy choices, not national rules; each fund may set its own (RULES.md, Sanya's
# scheme): a claim above the per-case cap goes to ordinary mediation instead, and claims up to
# the small-claims threshold are paid at once without review (Sanya's 2024 track).
DEFAULT_PER_CASE_CAP_FEN = 500_000  # ¥5,000
DEFAULT_PER_TOURIST_YEARLY_CAP_FEN = 2_000_000  # ¥20,000
DEFAULT_SMALL_CLAIM_THRESHOLD_FEN = 50_000  # ¥500


class Fund(db.Model):
    """A city's or county's ring-fenced advance-compensation fund."""

    __tablename__ = "compensation_funds"
    __table_args__ = (
        CheckConstraint("per_case_cap_fen > 0", name="per_case_cap_positive"),
        CheckConstraint("per_tourist_yearly_cap_fen > 0", name="yearly_cap_positive"),
        CheckConstraint(
            "small_claim_threshold_fen >= 0 AND small_claim_threshold_fen <= per_case_cap_fen",
            name="small_claims_within_cap",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(160))
    per_case_cap_fen: Mapped[int] = mapped_column(BigInteger, default=DEFAULT_PER_CASE_CAP_FEN)
    per_tourist_yearly_cap_fen: Mapped[int] = mapped_column(
        BigInteger, default=DEFAULT_PER_TOURIST_YEARLY_CAP_FEN
    )
    small_claim_threshold_fen: Mapped[int] = mapped_column(
        BigInteger, default=DEFAULT_SMALL_CLAIM_THRESHOLD_FEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    division = relationship("Division")

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" else self.name_en


class AccountKind(StrEnum):
    # Assets: never below zero.
    FUND_CASH = "fund_cash"  # the fund's free money in its ring-fenced bank account
    TOURIST_PAYABLE = "tourist_payable"  # fund cash set aside for tourists, payout in flight
    MERCHANT_RECEIVABLE = "merchant_receivable"  # paid for a merchant, frozen against it
    MERCHANT_DEPOSIT = "merchant_deposit"  # a travel agency's quality guarantee deposit
    # Small claims the fund paid without freezing anyone (Sanya's 2024 track): the fund's own
    # cost until a case finds the merchant liable and it becomes a receivable after all.
    FUND_EXPENSE = "fund_expense"
    # Sources: never above zero; their balance (negated) is how much came in that way.
    FUND_CONTRIBUTIONS = "fund_contributions"  # budget money paid into the fund
    DEPOSIT_LODGED = "deposit_lodged"  # what the agency lodged, owed back to it one day


ASSET_KINDS = frozenset(
    {
        AccountKind.FUND_CASH,
        AccountKind.TOURIST_PAYABLE,
        AccountKind.MERCHANT_RECEIVABLE,
        AccountKind.MERCHANT_DEPOSIT,
        AccountKind.FUND_EXPENSE,
    }
)
_ASSET_VALUES = ", ".join(f"'{kind.value}'" for kind in sorted(ASSET_KINDS))


class LedgerAccount(db.Model):
    """One account; `balance_fen` caches the sum of its entries (`ledger verify` checks it)."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(
            f"(kind IN ({_ASSET_VALUES}) AND balance_fen >= 0) "
            f"OR (kind NOT IN ({_ASSET_VALUES}) AND balance_fen <= 0)",
            name="balance_on_normal_side",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "fund_cash:f3", "merchant_receivable:f3:e7", ...: unique, because NULL owners would
    # slip past a unique constraint over (kind, fund_id, enterprise_id).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[AccountKind] = mapped_column(enum_column_type(AccountKind, "account_kind"))
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("compensation_funds.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TransactionKind(StrEnum):
    CONTRIBUTION = "contribution"
    PAYOUT_RESERVE = "payout_reserve"
    PAYOUT = "payout"
    REPAYMENT = "repayment"
    DEPOSIT_DEDUCTION = "deposit_deduction"
    RETURN_TO_FUND = "return_to_fund"
    DEPOSIT_LODGEMENT = "deposit_lodgement"
    LIABILITY_FOUND = "liability_found"  # a small claim's cost moves onto the liable merchant


class LedgerTransaction(db.Model):
    """One movement of money. The idempotency key makes a retried job write it only once."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[TransactionKind] = mapped_column(
        enum_column_type(TransactionKind, "transaction_kind")
    )
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    actor_role: Mapped[Role] = mapped_column(enum_column_type(Role, "actor_role"))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    entries: Mapped[list["LedgerEntry"]] = relationship(
        back_populates="transaction", order_by="LedgerEntry.id", viewonly=True
    )


class LedgerEntry(db.Model):
    """Append-only. Signed: debit positive, credit negative."""

    __tablename__ = "ledger_entries"
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="amount_not_zero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()


class Claim(db.Model):
    """A tourist's request that the fund pay first, on one case."""

    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        # One live claim per case; a rejected one does not block asking again with more proof.
        Index(
            "ux_claims_live_case",
            "case_id",
            unique=True,
            postgresql_where=text("state <> 'rejected'"),
            sqlite_where=text("state <> 'rejected'"),
        ),
        Index("ix_claims_fund_state", "fund_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    fund_id: Mapped[int] = mapped_column(ForeignKey("compensation_funds.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    state: Mapped[CompensationState] = mapped_column(
        enum_column_type(CompensationState, "claim_state")
    )
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # Copied from the case so the yearly cap is one indexed sum, not a join per claim.
    tourist_phone: Mapped[str] = mapped_column(String(20), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A payout worker holds this lease while it talks to the provider; expired means retry.
    payout_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the last payout attempt stopped short (no money, waiting for a bank reference).
    payout_note: Mapped[str] = mapped_column(String(64), default="")
    # A bank-transfer reference a fund manager typed in, for the manual backend to confirm.
    entered_reference: Mapped[str | None] = mapped_column(String(96))
    entered_reference_by: Mapped[str | None] = mapped_column(String(64))
    payout_provider: Mapped[str | None] = mapped_column(String(32))
    payout_reference: Mapped[str | None] = mapped_column(String(96))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # False for a small claim paid without freezing the merchant (no receivable, no recovery)
    # until a case finds the merchant liable.
    merchant_frozen: Mapped[bool] = mapped_column(default=True, server_default=true())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every compare-and-set transition: a stale form can be told apart.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Where the money goes (complaints.compensation.payee): shown in full only on the fund's
    # payout screen, masked everywhere else. Required before a claim can be approved.
    payee_method: Mapped[str | None] = mapped_column(String(16))
    payee_account: Mapped[str | None] = mapped_column(String(64))
    payee_name: Mapped[str | None] = mapped_column(String(128))

    case = relationship("Case")
    fund: Mapped[Fund] = relationship()
    enterprise = relationship("Enterprise")
    recovery: Mapped["RecoveryOrder | None"] = relationship(back_populates="claim", uselist=False)
    events: Mapped[list["ClaimEvent"]] = relationship(
        back_populates="claim", order_by="ClaimEvent.seq", viewonly=True
    )


class RecoveryState(StrEnum):
    OPEN = "open"
    REPAYMENT_RECORDED = "repayment_recorded"  # the merchant says it paid; not yet confirmed
    REPAID = "repaid"
    DEDUCTED = "deducted"
    OVERDUE = "overdue"
    RETURNED = "returned"


class RecoveryOrder(db.Model):
    """What the merchant owes the fund for one paid claim, and by when (追偿)."""

    __tablename__ = "recovery_orders"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[RecoveryState] = mapped_column(enum_column_type(RecoveryState, "recovery_state"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_provisional: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    merchant_reference: Mapped[str | None] = mapped_column(String(96))
    merchant_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    repaid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Travel agencies top the deposit up within 5 working days of a deduction (旅行社条例).
    deposit_top_up_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    claim: Mapped[Claim] = relationship(back_populates="recovery")
    enterprise = relationship("Enterprise")


class ClaimEvent(HashChained, db.Model):
    """Append-only audit row per claim transition, hash-chained within its claim."""

    __tablename__ = "claim_events"
    __table_args__ = (UniqueConstraint("claim_id", "seq", name="uq_claim_events_claim_seq"),)
    __chain_owner__ = "claim_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    trigger: Mapped[str] = mapped_column(String(48))
    from_state: Mapped[CompensationState | None] = mapped_column(
        enum_column_type(CompensationState, "from_state")
    )
    to_state: Mapped[CompensationState] = mapped_column(
        enum_column_type(CompensationState, "to_state")
    )
    actor_role: Mapped[Role] = mapped_column(enum_column_type(Role, "actor_role"))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    claim: Mapped[Claim] = relationship(back_populates="events")
