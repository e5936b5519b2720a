"""The payout job: takes a claim id, reloads, and pays at most once however often it runs.

Three steps, each safe to repeat:

1. Lease and reserve (commit): a compare-and-set takes a short lease on the approved claim —
   a second worker finds it taken and stops. The amount moves from fund cash to the tourist
   payable with a conditional UPDATE (never below zero) under the key `claim:<id>:reserve`,
   once. No money, no reservation: the claim waits, noted, and a contribution retries it.
2. Send (no database lock held): the provider is called with the claim's idempotency key,
   so a retry after a crash gets the same transfer back, not a second one.
3. Record (commit): approved -> paid by compare-and-set, the payable leaves to the tourist on
   the merchant's behalf (`claim:<id>:payout`: the frozen receivable), and a recovery order
   opens with its due date.
"""

import logging
from datetime import timedelta

from sqlalchemy import or_, update

from complaints.cases.workflow import SYSTEM
from complaints.compensation import ledger
from complaints.compensation.models import AccountKind, Claim, TransactionKind
from complaints.compensation.payouts import (
    PayoutFailed,
    PayoutInstruction,
    PayoutPending,
    configured_provider,
)
from complaints.compensation.recovery import is_small_claim, open_recovery
from complaints.compensation.services import ClaimConflict, fire
from complaints.database import utcnow
from complaints.events import CompensationPaid, publish
from complaints.extensions import db
from workflows.states import CompensationState, Role

log = logging.getLogger(__name__)

# Long enough for a slow payment API, shorter than the outbox's re-relay lease.
PAYOUT_LEASE = timedelta(minutes=5)


def pay_claim(claim_id: int) -> str:
    """Run by the outbox. Returns what happened, for logs and tests."""
    now = utcnow()
    if not _take_lease(claim_id, now):
        db.session.rollback()
        return "not_payable"  # already paid, not approved, or another worker holds it
    claim = db.session.get(Claim, claim_id)
    try:
        _reserve(claim, now)
    except ledger.InsufficientBalance:
        db.session.rollback()
        _stop(claim_id, "insufficient_funds")
        return "insufficient_funds"
    db.session.commit()

    provider = configured_provider()
    instruction = PayoutInstruction(
        idempotency_key=f"anxin-claim-{claim.id}",
        amount_fen=claim.amount_fen,
        payee_name=claim.case.tourist_name,
        payee_phone=claim.tourist_phone,
        memo=f"Anxin advance compensation {claim.case.number}",
        entered_reference=claim.entered_reference,
    )
    try:
        reference = provider.send(instruction)
    except PayoutPending:
        _stop(claim_id, "awaiting_reference")
        return "pending"
    except PayoutFailed as exc:
        log.warning("payout of claim %s refused by %s: %s", claim_id, provider.name, exc)
        _stop(claim_id, "provider_refused")
        return "failed"

    try:
        _record_payout(claim, reference, provider.name)
    except ClaimConflict:
        db.session.rollback()
        return "not_payable"
    db.session.commit()
    return "paid"


def _take_lease(claim_id: int, now) -> bool:
    taken = db.session.execute(
        update(Claim)
        .where(
            Claim.id == claim_id,
            Claim.state == CompensationState.APPROVED,
            or_(Claim.payout_lease_until.is_(None), Claim.payout_lease_until < now),
        )
        .values(payout_lease_until=now + PAYOUT_LEASE, version=Claim.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    return taken == 1


def _reserve(claim: Claim, now) -> None:
    key = f"claim:{claim.id}:reserve"
    if ledger.transaction_exists(key):
        return  # an earlier attempt reserved it and stopped before paying
    cash = ledger.account(AccountKind.FUND_CASH, fund_id=claim.fund_id)
    payable = ledger.account(AccountKind.TOURIST_PAYABLE, fund_id=claim.fund_id)
    ledger.post(
        TransactionKind.PAYOUT_RESERVE,
        key,
        [ledger.Leg(cash, -claim.amount_fen), ledger.Leg(payable, claim.amount_fen)],
        actor_role=SYSTEM.role,
        actor_id=None,
        now=now,
        case_id=claim.case_id,
        claim_id=claim.id,
        memo="reserved for payout",
    )


def _stop(claim_id: int, note: str) -> None:
    """Give the lease back so the next attempt (a reference entered, a top-up) can run."""
    db.session.execute(
        update(Claim)
        .where(Claim.id == claim_id, Claim.state == CompensationState.APPROVED)
        .values(payout_lease_until=None, payout_note=note)
    )
    db.session.commit()


def _record_payout(claim: Claim, reference: str, provider_name: str) -> None:
    now = utcnow()
    fire(
        claim,
        "pay",
        SYSTEM,
        now=now,
        reason=reference,
        paid_at=now,
        payout_reference=reference[:96],
        payout_provider=provider_name,
        payout_lease_until=None,
        payout_note="",
    )
    payable = ledger.account(AccountKind.TOURIST_PAYABLE, fund_id=claim.fund_id)
    # Small claims pay without freezing the merchant (RULES.md, Sanya 2024): the fund bears
    # the cost, with no receivable and no recovery, unless the case later finds it liable.
    frozen = not is_small_claim(claim)
    if frozen:
        charged = ledger.account(
            AccountKind.MERCHANT_RECEIVABLE,
            fund_id=claim.fund_id,
            enterprise_id=claim.enterprise_id,
        )
    else:
        charged = ledger.account(AccountKind.FUND_EXPENSE, fund_id=claim.fund_id)
        claim.merchant_frozen = False
    ledger.post(
        TransactionKind.PAYOUT,
        f"claim:{claim.id}:payout",
        [ledger.Leg(payable, -claim.amount_fen), ledger.Leg(charged, claim.amount_fen)],
        # With the manual backend the fund manager who typed the reference made the transfer.
        actor_role=Role.FUND_MANAGER if claim.entered_reference_by else Role.SYSTEM,
        actor_id=claim.entered_reference_by,
        now=now,
        case_id=claim.case_id,
        claim_id=claim.id,
        memo=f"paid to the tourist via {provider_name}, reference {reference}",
    )
    publish(CompensationPaid(claim=claim, now=now, merchant_frozen=frozen))
    if frozen:
        open_recovery(claim, now=now)
