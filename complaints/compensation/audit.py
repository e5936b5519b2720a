"""Claim events, hash-chained per claim like case events, and claim-to-ledger reconciliation."""

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby

from sqlalchemy import func, select

from complaints.compensation.ledger import Problem
from complaints.compensation.models import (
    AccountKind,
    Claim,
    ClaimEvent,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from complaints.extensions import db
from workflows.states import CompensationState, Role

# Claims whose paid amount is still frozen against the merchant (a receivable).
OUTSTANDING_STATES = (
    CompensationState.PAID,
    CompensationState.RECOVERY_OPEN,
    CompensationState.OVERDUE,
)


def event_digest(event: ClaimEvent) -> str:
    return event.digest()


def append_claim_event(
    claim: Claim,
    *,
    trigger: str,
    from_state: CompensationState | None,
    to_state: CompensationState,
    role: Role,
    actor_id: str | None,
    reason: str,
    now: datetime,
) -> ClaimEvent:
    event = ClaimEvent(
        claim_id=claim.id,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        actor_role=role,
        actor_id=actor_id,
        reason=reason,
        created_at=now,
    )
    return event.append()


def verify_claim_chains() -> Iterator[Problem]:
    events = db.session.scalars(select(ClaimEvent).order_by(ClaimEvent.claim_id, ClaimEvent.seq))
    for claim_id, chain in groupby(events, key=lambda event: event.claim_id):
        broken = ClaimEvent.first_break(chain)
        if broken:
            yield Problem(f"claim {claim_id}: event {broken[0]}: {broken[1]}")


def reconcile_claims() -> Iterator[Problem]:
    """The ledger and the claims must tell the same story."""
    paid_by_claim = dict(
        db.session.execute(
            select(LedgerTransaction.claim_id, func.sum(LedgerEntry.amount_fen))
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(
                LedgerTransaction.kind == TransactionKind.PAYOUT,
                # The payout charged the merchant (frozen) or, for a small claim, the fund.
                LedgerAccount.kind.in_([AccountKind.MERCHANT_RECEIVABLE, AccountKind.FUND_EXPENSE]),
            )
            .group_by(LedgerTransaction.claim_id)
        ).all()
    )
    claims = db.session.execute(
        select(Claim.id, Claim.state, Claim.amount_fen, Claim.paid_at, Claim.enterprise_id)
    ).all()
    for claim_id, state, amount, paid_at, _enterprise in claims:
        paid = paid_by_claim.pop(claim_id, 0)
        expected = amount if paid_at is not None else 0
        if paid != expected:
            yield Problem(f"claim {claim_id} ({state}): paid {paid} fen, expected {expected}")
    for claim_id, paid in paid_by_claim.items():
        yield Problem(f"payout of {paid} fen for unknown claim {claim_id}")
    yield from _receivables_match_claims()
    yield from _payables_match_reservations()


def _receivables_match_claims() -> Iterator[Problem]:
    owed = {
        (fund_id, enterprise_id): total
        for fund_id, enterprise_id, total in db.session.execute(
            select(Claim.fund_id, Claim.enterprise_id, func.sum(Claim.amount_fen))
            .where(Claim.state.in_(OUTSTANDING_STATES), Claim.merchant_frozen.is_(True))
            .group_by(Claim.fund_id, Claim.enterprise_id)
        )
    }
    receivables = db.session.execute(
        select(LedgerAccount.fund_id, LedgerAccount.enterprise_id, LedgerAccount.balance_fen).where(
            LedgerAccount.kind == AccountKind.MERCHANT_RECEIVABLE
        )
    ).all()
    for fund_id, enterprise_id, balance in receivables:
        expected = owed.pop((fund_id, enterprise_id), 0)
        if balance != expected:
            yield Problem(
                f"receivable of merchant {enterprise_id} at fund {fund_id}: "
                f"{balance} fen, but its outstanding claims total {expected}"
            )
    for (fund_id, enterprise_id), amount in owed.items():
        yield Problem(
            f"claims of {amount} fen outstanding against merchant {enterprise_id} "
            f"at fund {fund_id} have no receivable"
        )


def _payables_match_reservations() -> Iterator[Problem]:
    """Money reserved for a payout sits in the tourist payable until that claim is paid."""
    reserved = {
        fund_id: total
        for fund_id, total in db.session.execute(
            select(Claim.fund_id, func.sum(Claim.amount_fen))
            .join(LedgerTransaction, LedgerTransaction.claim_id == Claim.id)
            .where(
                Claim.state == CompensationState.APPROVED,
                LedgerTransaction.kind == TransactionKind.PAYOUT_RESERVE,
            )
            .group_by(Claim.fund_id)
        )
    }
    payables = db.session.execute(
        select(LedgerAccount.fund_id, LedgerAccount.balance_fen).where(
            LedgerAccount.kind == AccountKind.TOURIST_PAYABLE
        )
    ).all()
    for fund_id, balance in payables:
        expected = reserved.pop(fund_id, 0)
        if balance != expected:
            yield Problem(
                f"tourist payable of fund {fund_id}: {balance} fen, "
                f"but approved claims reserved {expected}"
            )
    for fund_id, amount in reserved.items():
        yield Problem(f"fund {fund_id} reserved {amount} fen with no tourist payable")
