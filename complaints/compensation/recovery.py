"""After the payout: recovering the money from the merchant (追偿), or giving it back.

A paid claim leaves a receivable against the merchant (the frozen amount) and a recovery
order due in `Policy.recovery_due` working days. It is cleared exactly once, whichever way:
every clearing transaction uses the key `claim:<id>:recovery`, so a second one cannot be
written even by code that forgot to check the state.

- repay: the merchant transfers the money and a fund manager confirms it arrived;
- deduct: a fund manager takes it from a travel agency's quality guarantee deposit, and the
  agency must top the deposit up within `Policy.deposit_top_up` working days (旅行社条例;
  complaints/compensation/deposits.py);
- overdue: the tick marks it and the merchant leaves the trusted list (it can still repay);
- returned: tourist and merchant settled after the payout; the merchant's settlement money
  comes back to the fund and releases the frozen receivable.
"""

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from complaints.cases.models import Case
from complaints.cases.workflow import SYSTEM, Actor
from complaints.compensation import ledger
from complaints.compensation.models import (
    AccountKind,
    Claim,
    RecoveryOrder,
    RecoveryState,
    TransactionKind,
)
from complaints.compensation.services import ClaimConflict, claim_facts, fire, live_claim
from complaints.events import (
    CompensationNotice,
    MerchantHeldLiable,
    RecoveryClosed,
    RecoveryOpened,
    RecoveryOverdue,
    RepaymentRejected,
    publish,
)
from complaints.extensions import db
from complaints.merchants.models import Enterprise
from complaints.timers.services import current_calendar, current_policy
from workflows.deadlines import add_time_limit
from workflows.machine import TransitionRefused
from workflows.states import CompensationState, DeadlineKind, Role

log = logging.getLogger(__name__)


def time_limit_due(kind: DeadlineKind, now: datetime, case=None):
    return add_time_limit(now, current_policy(case).limit_for(kind), current_calendar())


def is_small_claim(claim: Claim) -> bool:
    return claim.amount_fen <= claim.fund.small_claim_threshold_fen


def hold_merchant_liable(case: Case, *, now: datetime) -> Claim | None:
    """A case found the merchant liable: a small claim paid without freezing it now becomes
    the merchant's debt (receivable, recovery order, credit event), as a large one is at once."""
    claim = live_claim(case.id)
    if claim is None or claim.state is not CompensationState.PAID or claim.merchant_frozen:
        return None
    expense = ledger.account(AccountKind.FUND_EXPENSE, fund_id=claim.fund_id)
    receivable = ledger.account(
        AccountKind.MERCHANT_RECEIVABLE, fund_id=claim.fund_id, enterprise_id=claim.enterprise_id
    )
    ledger.post(
        TransactionKind.LIABILITY_FOUND,
        f"claim:{claim.id}:liable",
        [ledger.Leg(expense, -claim.amount_fen), ledger.Leg(receivable, claim.amount_fen)],
        actor_role=SYSTEM.role,
        actor_id=None,
        now=now,
        case_id=claim.case_id,
        claim_id=claim.id,
        memo=f"case {case.number} found the merchant liable for the small claim paid",
    )
    db.session.execute(update(Claim).where(Claim.id == claim.id).values(merchant_frozen=True))
    db.session.expire(claim)
    publish(MerchantHeldLiable(claim=claim, now=now))
    open_recovery(claim, now=now)
    return claim


def open_recovery(claim: Claim, *, now: datetime) -> RecoveryOrder:
    fire(claim, "open_recovery", SYSTEM, now=now)
    due = time_limit_due(DeadlineKind.RECOVERY_DUE, now)
    order = RecoveryOrder(
        claim_id=claim.id,
        enterprise_id=claim.enterprise_id,
        amount_fen=claim.amount_fen,
        state=RecoveryState.OPEN,
        due_at=due.due,
        due_provisional=due.provisional,
        created_at=now,
    )
    db.session.add(order)
    db.session.flush()
    publish(RecoveryOpened(claim=claim, due_at=due.due, now=now))
    return order


def record_merchant_repayment(claim: Claim, reference: str, actor: Actor, *, now: datetime):
    """The merchant says it paid; the money counts once a fund manager confirms it."""
    reference = (reference or "").strip()
    if actor.role is not Role.MERCHANT or not reference:
        raise ClaimConflict("a merchant records a repayment with its transfer reference")
    changed = db.session.execute(
        update(RecoveryOrder)
        .where(
            RecoveryOrder.claim_id == claim.id,
            RecoveryOrder.state.in_([RecoveryState.OPEN, RecoveryState.OVERDUE]),
        )
        .values(
            state=RecoveryState.REPAYMENT_RECORDED,
            merchant_reference=reference[:96],
            merchant_recorded_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise ClaimConflict(f"claim {claim.id} has no recovery waiting for repayment")
    db.session.expire(claim)


def clear_receivable(
    claim: Claim, kind: TransactionKind, actor: Actor, now: datetime, memo: str, extra=()
):
    fund_cash = ledger.account(AccountKind.FUND_CASH, fund_id=claim.fund_id)
    if claim.merchant_frozen:
        receivable = ledger.account(
            AccountKind.MERCHANT_RECEIVABLE,
            fund_id=claim.fund_id,
            enterprise_id=claim.enterprise_id,
        )
    else:  # an unfrozen small claim: the money comes back against the fund's own cost
        receivable = ledger.account(AccountKind.FUND_EXPENSE, fund_id=claim.fund_id)
    amount = claim.recovery.outstanding_fen if claim.recovery is not None else claim.amount_fen
    legs = [
        ledger.Leg(fund_cash, amount),
        ledger.Leg(receivable, -amount),
        *extra,
    ]
    return ledger.post(
        kind,
        f"claim:{claim.id}:recovery",
        legs,
        actor_role=actor.role,
        actor_id=actor.id,
        now=now,
        case_id=claim.case_id,
        claim_id=claim.id,
        memo=memo,
    )


def _close_order(claim: Claim, state: RecoveryState, now: datetime, **values) -> None:
    db.session.execute(
        update(RecoveryOrder)
        .where(RecoveryOrder.claim_id == claim.id)
        .values(state=state, repaid_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(claim)


def reject_repayment_reference(claim: Claim, actor: Actor, *, now: datetime, reason: str = ""):
    """No money matches the merchant's reference: the order waits for repayment again (or
    stays overdue), and the merchant is told why."""
    order = claim.recovery
    if order is None or order.state is not RecoveryState.REPAYMENT_RECORDED:
        raise ClaimConflict(f"claim {claim.id} has no repayment reference to review")
    rejected = order.merchant_reference or ""
    fire(
        claim,
        "reject_repayment_reference",
        actor,
        now=now,
        reason=f"{(reason or '').strip()} (reference {rejected})" if reason else reason,
    )
    back_to = RecoveryState.OVERDUE if order.overdue_at is not None else RecoveryState.OPEN
    changed = db.session.execute(
        update(RecoveryOrder)
        .where(
            RecoveryOrder.claim_id == claim.id,
            RecoveryOrder.state == RecoveryState.REPAYMENT_RECORDED,
        )
        .values(state=back_to, merchant_reference=None, merchant_recorded_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise ClaimConflict(f"claim {claim.id} has no repayment reference to review")
    db.session.expire(claim)
    publish(RepaymentRejected(claim=claim, reason=reason, due_at=order.due_at, now=now))


def confirm_repayment(claim: Claim, actor: Actor, *, now: datetime, reference: str = ""):
    """A fund manager saw the merchant's money arrive in the fund's account.

    "On time" means the money was confirmed by the due date: a reference typed in time does
    not count, and neither does a confirmation that came late.
    """
    order = claim.recovery
    reference = (reference or "").strip() or (order.merchant_reference if order else "") or ""
    on_time = claim.state is CompensationState.RECOVERY_OPEN and (
        order is not None and now <= order.due_at
    )
    fire(claim, "confirm_repayment", actor, now=now, reason=reference)
    clear_receivable(
        claim, TransactionKind.REPAYMENT, actor, now, f"merchant repaid, reference {reference}"
    )
    _close_order(claim, RecoveryState.REPAID, now)
    publish(RecoveryClosed(claim=claim, on_time=on_time, now=now))


def settle_after_payout(
    case: Case, *, now: datetime, reference: str = "", actor: Actor = SYSTEM
) -> Claim | None:
    """The parties settled after the fund paid: release the frozen amount back to the fund.

    Call when the merchant's settlement money reaches the fund (Sanya: the frozen amount
    flows back). Not for overdue claims, which the table leaves to repayment or deduction.
    """
    claim = live_claim(case.id)
    if claim is None or claim.state not in (
        CompensationState.PAID,
        CompensationState.RECOVERY_OPEN,
    ):
        return None
    facts = claim_facts(claim, now, parties_settled=True)
    fire(claim, "return_to_fund", actor, now=now, reason=reference, facts=facts)
    clear_receivable(
        claim,
        TransactionKind.RETURN_TO_FUND,
        actor,
        now,
        f"parties settled after payout; settlement money returned, reference {reference}",
    )
    if claim.recovery is not None:
        _close_order(claim, RecoveryState.RETURNED, now)
    return claim


def refer_to_regulator(claim: Claim, now: datetime) -> None:
    """Sanya's scheme: a merchant that does not repay is referred to its regulator. The
    referral is part of the case's record (a hash-chained event) and reaches the agency."""
    from complaints.cases.audit import append_event

    case = claim.case
    append_event(
        case,
        trigger="referred_to_regulator",
        from_state=case.state,
        to_state=case.state,
        role=Role.SYSTEM,
        actor_id=None,
        reason=(
            f"advance compensation of {claim.amount_fen} fen (claim {claim.id}) not repaid by "
            f"{claim.recovery.due_at.isoformat()}; the merchant is referred to its regulator"
        ),
        now=now,
    )
    publish(
        CompensationNotice(
            case, f"referred_to_regulator:{claim.id}", {"amount_fen": claim.amount_fen}
        )
    )


def mark_overdue_recoveries(now: datetime, batch: int = 500) -> int:
    """The tick: recoveries past due become overdue, once. Commits per claim; idempotent.

    A repayment the merchant recorded but nobody confirmed does not stop the clock: the order
    keeps its reference for review and the claim goes overdue all the same.
    """
    due = db.session.scalars(
        select(RecoveryOrder.claim_id)
        .join(Claim, Claim.id == RecoveryOrder.claim_id)
        .where(
            Claim.state == CompensationState.RECOVERY_OPEN,
            RecoveryOrder.state.in_([RecoveryState.OPEN, RecoveryState.REPAYMENT_RECORDED]),
            RecoveryOrder.due_at <= now,
        )
        .order_by(RecoveryOrder.due_at)
        .limit(batch)
    ).all()
    marked = 0
    for claim_id in due:
        try:
            claim = db.session.get(Claim, claim_id)
            fire(claim, "mark_overdue", SYSTEM, now=now)
            db.session.execute(
                update(RecoveryOrder)
                .where(
                    RecoveryOrder.claim_id == claim_id,
                    RecoveryOrder.state == RecoveryState.OPEN,
                )
                .values(state=RecoveryState.OVERDUE)
            )
            db.session.execute(
                update(RecoveryOrder)
                .where(RecoveryOrder.claim_id == claim_id)
                .values(overdue_at=now)
            )
            # Sanya: a merchant that does not repay leaves the trusted-merchant list at once;
            # the credit feature records the event and keeps the list's own history.
            db.session.execute(
                update(Enterprise).where(Enterprise.id == claim.enterprise_id).values(trusted=False)
            )
            publish(RecoveryOverdue(claim=claim, now=now))
            refer_to_regulator(claim, now)
            db.session.commit()
            marked += 1
        except (ClaimConflict, TransitionRefused):
            db.session.rollback()  # another tick or a repayment got there first
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("marking recovery of claim %s overdue failed", claim_id)
    return marked
