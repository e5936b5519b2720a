"""What the fund console shows: figures derived from the ledger, and the claims behind each."""

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from complaints.compensation.audit import OUTSTANDING_STATES
from complaints.compensation.models import (
    AccountKind,
    Claim,
    Fund,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    RecoveryState,
    TransactionKind,
)
from complaints.exports.streams import csv_safe
from complaints.extensions import db
from complaints.presentation import fen_to_yuan
from workflows.states import CompensationState

C = CompensationState
RECOVERY_KINDS = (
    TransactionKind.REPAYMENT,
    TransactionKind.DEPOSIT_DEDUCTION,
    TransactionKind.RETURN_TO_FUND,
)

# figure -> (label, which claims are behind it)
FIGURES = {
    "requested": (_l("Waiting for a decision"), Claim.state == C.REQUESTED),
    "approved": (_l("Approved, not yet paid"), Claim.state == C.APPROVED),
    "paid": (_l("Paid"), Claim.paid_at.is_not(None)),
    "frozen": (_l("Frozen against merchants"), Claim.state.in_(OUTSTANDING_STATES)),
    "recovered": (
        _l("Recovered"),
        Claim.state.in_([C.RECOVERED, C.DEDUCTED, C.RETURNED]),
    ),
    "overdue": (_l("Overdue"), Claim.state == C.OVERDUE),
    "rejected": (_l("Rejected"), Claim.state == C.REJECTED),
}
LIST_LIMIT = 500

CLAIM_STATE_LABELS = {
    C.REQUESTED: _l("Waiting for a decision"),
    C.APPROVED: _l("Approved"),
    C.REJECTED: _l("Rejected"),
    C.PAID: _l("Paid"),
    C.RECOVERY_OPEN: _l("Paid; recovering from the merchant"),
    C.RECOVERED: _l("Recovered: the merchant repaid"),
    C.DEDUCTED: _l("Recovered from the deposit"),
    C.OVERDUE: _l("Recovery overdue"),
    C.RETURNED: _l("Returned: the parties settled"),
}
# The claim's record (its hash-chained events), one line each in the reader's language.
CLAIM_TRIGGER_LABELS = {
    "request": _l("Asked for"),
    "payee_given": _l("Payee account given"),
    "approve": _l("Approved"),
    "auto_approve": _l("Approved automatically"),
    "reject": _l("Rejected"),
    "pay": _l("Paid"),
    "open_recovery": _l("Recovery opened"),
    "confirm_repayment": _l("Repayment confirmed"),
    "deduct_deposit": _l("Deducted from the deposit"),
    "mark_overdue": _l("Recovery overdue"),
    "return_to_fund": _l("Returned to the fund"),
}
RECOVERY_STATE_LABELS = {
    RecoveryState.OPEN: _l("Open"),
    RecoveryState.REPAYMENT_RECORDED: _l("The merchant says it repaid; confirm when it arrives"),
    RecoveryState.REPAID: _l("Repaid"),
    RecoveryState.DEDUCTED: _l("Deducted from the deposit"),
    RecoveryState.OVERDUE: _l("Overdue"),
    RecoveryState.RETURNED: _l("Returned to the fund"),
}


@dataclass(frozen=True)
class Figures:
    balance_fen: int
    reserved_fen: int
    paid_fen: int
    frozen_fen: int
    recovered_fen: int
    overdue_fen: int
    counts: dict[str, int]
    mean_minutes_to_pay: float | None
    max_minutes_to_pay: float | None


def funds_for(account) -> list[Fund]:
    """A fund manager sees the funds of their agency's city or county, and no other."""
    agency = account.agency
    if agency is None:
        return []
    return list(db.session.scalars(select(Fund).where(Fund.division_code == agency.division_code)))


def _balance(kind: AccountKind, fund_id: int) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerAccount.balance_fen), 0)).where(
            LedgerAccount.kind == kind, LedgerAccount.fund_id == fund_id
        )
    )
    return int(total)


def _receivable_movements(fund_id: int, kinds) -> int:
    """Sum of entries on the fund's merchant receivables made by transactions of `kinds`."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerAccount.kind == AccountKind.MERCHANT_RECEIVABLE,
            LedgerAccount.fund_id == fund_id,
            LedgerTransaction.kind.in_(kinds),
        )
    )
    return int(total)


def figures(fund: Fund) -> Figures:
    counts = {
        name: db.session.scalar(
            select(func.count(Claim.id)).where(Claim.fund_id == fund.id, condition)
        )
        for name, (_label, condition) in FIGURES.items()
    }
    overdue = db.session.scalar(
        select(func.coalesce(func.sum(Claim.amount_fen), 0)).where(
            Claim.fund_id == fund.id, Claim.state == C.OVERDUE
        )
    )
    durations = [
        (paid - approved) / timedelta(minutes=1)
        for approved, paid in db.session.execute(
            select(Claim.approved_at, Claim.paid_at)
            .where(Claim.fund_id == fund.id, Claim.paid_at.is_not(None))
            .order_by(Claim.paid_at.desc())
            .limit(LIST_LIMIT)
        )
    ]
    return Figures(
        balance_fen=_balance(AccountKind.FUND_CASH, fund.id),
        reserved_fen=_balance(AccountKind.TOURIST_PAYABLE, fund.id),
        paid_fen=_receivable_movements(fund.id, [TransactionKind.PAYOUT]),
        frozen_fen=_balance(AccountKind.MERCHANT_RECEIVABLE, fund.id),
        recovered_fen=-_receivable_movements(fund.id, RECOVERY_KINDS),
        overdue_fen=int(overdue),
        counts=counts,
        mean_minutes_to_pay=sum(durations) / len(durations) if durations else None,
        max_minutes_to_pay=max(durations) if durations else None,
    )


def claims_behind(fund: Fund, figure: str | None, limit: int | None = LIST_LIMIT) -> list[Claim]:
    """The claims behind one figure, newest first; every claim of the fund for None."""
    query = select(Claim).options(joinedload(Claim.case), joinedload(Claim.recovery))
    query = query.where(Claim.fund_id == fund.id)
    if figure is not None:
        query = query.where(FIGURES[figure][1])
    query = query.order_by(Claim.requested_at.desc(), Claim.id.desc()).limit(limit)
    return list(db.session.scalars(query).unique())


def minutes_to_pay(claim: Claim) -> float | None:
    if claim.approved_at is None or claim.paid_at is None:
        return None
    return (claim.paid_at - claim.approved_at) / timedelta(minutes=1)


CSV_COLUMNS = (
    "claim",
    "case",
    "state",
    "amount_cny",
    "requested_at",
    "approved_at",
    "paid_at",
    "minutes_approved_to_paid",
    "payout_reference",
    "recovery_state",
    "recovery_due_at",
    "recovered_at",
    "decision_reason",
)


def export_csv(fund: Fund, figure: str | None) -> str:
    rows = sorted(claims_behind(fund, figure, limit=None), key=lambda c: c.id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for claim in rows:
        recovery = claim.recovery
        minutes = minutes_to_pay(claim)
        writer.writerow(
            csv_safe(value)
            for value in (
                claim.id,
                claim.case.number,
                claim.state.value,
                fen_to_yuan(claim.amount_fen),
                claim.requested_at.isoformat(),
                claim.approved_at.isoformat() if claim.approved_at else "",
                claim.paid_at.isoformat() if claim.paid_at else "",
                f"{minutes:.1f}" if minutes is not None else "",
                claim.payout_reference or "",
                recovery.state.value if recovery else "",
                recovery.due_at.isoformat() if recovery else "",
                recovery.repaid_at.isoformat() if recovery and recovery.repaid_at else "",
                claim.decision_reason,
            )
        )
    return out.getvalue()
