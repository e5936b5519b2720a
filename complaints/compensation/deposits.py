"""Travel agencies' quality guarantee deposits (旅行社质量保证金): lodging and topping up, and
taking a recovery's debt from one.

A deduction clears the recovery like a repayment (the same `claim:<id>:recovery` key) when the
deposit covers the debt; a smaller deposit is taken whole and the rest stays owed. Either way
the agency must top the deposit up within `Policy.deposit_top_up` working days (旅行社条例),
and the tick reports a top-up that did not come, once.
"""

from datetime import datetime

from sqlalchemy import select, update

from complaints.cases.workflow import Actor
from complaints.compensation import ledger
from complaints.compensation.models import (
    AccountKind,
    Claim,
    RecoveryOrder,
    RecoveryState,
    TransactionKind,
)
from complaints.compensation.recovery import clear_receivable, time_limit_due
from complaints.compensation.services import fire
from complaints.database import stamp_once
from complaints.events import CompensationNotice, RecoveryClosed, publish
from complaints.extensions import db
from workflows.states import DeadlineKind


def deduct_deposit(claim: Claim, actor: Actor, *, now: datetime, reason: str = ""):
    """Take what is owed from the travel agency's deposit; it has 5 working days to top up.

    A deposit smaller than the debt is taken whole (`deduct_deposit_partly`): the rest stays
    owed as a receivable, and the recovery order keeps running for it.
    """
    order = claim.recovery
    owed = order.outstanding_fen
    deposit = ledger.account(AccountKind.MERCHANT_DEPOSIT, enterprise_id=claim.enterprise_id)
    lodged = ledger.account(AccountKind.DEPOSIT_LODGED, enterprise_id=claim.enterprise_id)
    take = min(owed, deposit.balance_fen)
    partly = 0 < take < owed
    fire(
        claim,
        "deduct_deposit_partly" if partly else "deduct_deposit",
        actor,
        now=now,
        reason=reason,
    )
    # The deposit pays the debt: its cash moves to the fund, and what the authority owes the
    # agency for its deposit falls by the same amount.
    extra = (ledger.Leg(deposit, -take), ledger.Leg(lodged, take))
    top_up = time_limit_due(DeadlineKind.DEPOSIT_TOP_UP, now, claim.case)
    if partly:
        fund_cash = ledger.account(AccountKind.FUND_CASH, fund_id=claim.fund_id)
        receivable = ledger.account(
            AccountKind.MERCHANT_RECEIVABLE,
            fund_id=claim.fund_id,
            enterprise_id=claim.enterprise_id,
        )
        ledger.post(
            TransactionKind.DEPOSIT_DEDUCTION,
            f"claim:{claim.id}:deposit-part",
            [ledger.Leg(fund_cash, take), ledger.Leg(receivable, -take), *extra],
            actor_role=actor.role,
            actor_id=actor.id,
            now=now,
            case_id=claim.case_id,
            claim_id=claim.id,
            memo=f"deducted {take} fen from a deposit smaller than the debt; the rest is owed",
        )
        _record_deduction(claim, take, top_up.due, state=None)
    else:
        clear_receivable(
            claim, TransactionKind.DEPOSIT_DEDUCTION, actor, now, "deducted from deposit", extra
        )
        _record_deduction(claim, take, top_up.due, state=RecoveryState.DEDUCTED, now=now)
        # Taken, not repaid: no credit points, but the debt is gone, so the list is looked at.
        publish(RecoveryClosed(claim=claim, on_time=False, now=now))
    publish(
        CompensationNotice(
            claim.case,
            f"deposit_top_up_due:{now.isoformat()}",
            {"amount_fen": take, "due_at": top_up.due},
        )
    )


def _record_deduction(claim, take: int, top_up_due, *, state, now=None) -> None:
    values = {
        "deducted_fen": RecoveryOrder.deducted_fen + take,
        "deposit_top_up_due_at": top_up_due,
        "deposit_topped_up_at": None,
        "top_up_escalated_at": None,
    }
    if state is not None:
        values.update(state=state, repaid_at=now)
    db.session.execute(
        update(RecoveryOrder)
        .where(RecoveryOrder.claim_id == claim.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(claim)
    db.session.expire(claim.recovery)


def lodge_deposit(enterprise_id: int, amount_fen: int, *, key: str, actor: Actor, now: datetime):
    """A travel agency lodges (or tops up) its quality guarantee deposit."""
    deposit = ledger.account(AccountKind.MERCHANT_DEPOSIT, enterprise_id=enterprise_id)
    lodged = ledger.account(AccountKind.DEPOSIT_LODGED, enterprise_id=enterprise_id)
    transaction = ledger.post(
        TransactionKind.DEPOSIT_LODGEMENT,
        key,
        [ledger.Leg(deposit, amount_fen), ledger.Leg(lodged, -amount_fen)],
        actor_role=actor.role,
        actor_id=actor.id,
        now=now,
        memo="quality guarantee deposit lodged",
    )
    _mark_topped_up(enterprise_id, amount_fen, now)
    return transaction


def _mark_topped_up(enterprise_id: int, amount_fen: int, now: datetime) -> None:
    """A lodgement tops up the oldest deductions it covers in full."""
    waiting = db.session.scalars(
        select(RecoveryOrder)
        .where(
            RecoveryOrder.enterprise_id == enterprise_id,
            RecoveryOrder.deposit_top_up_due_at.is_not(None),
            RecoveryOrder.deposit_topped_up_at.is_(None),
        )
        .order_by(RecoveryOrder.deposit_top_up_due_at)
    ).all()
    for order in waiting:
        if order.deducted_fen > amount_fen:
            break
        amount_fen -= order.deducted_fen
        order.deposit_topped_up_at = now


def escalate_missed_top_ups(now: datetime, batch: int = 500) -> int:
    """The tick: a deposit not topped up within its limit is reported once (travel agencies
    must restore it within 5 working days of the notice, 旅行社条例)."""
    due = db.session.scalars(
        select(RecoveryOrder.id)
        .where(
            RecoveryOrder.deposit_top_up_due_at < now,
            RecoveryOrder.deposit_topped_up_at.is_(None),
            RecoveryOrder.top_up_escalated_at.is_(None),
        )
        .limit(batch)
    ).all()
    escalated = 0
    for order_id in due:
        if stamp_once(db.session, RecoveryOrder.top_up_escalated_at, order_id, now):
            order = db.session.get(RecoveryOrder, order_id)
            publish(
                CompensationNotice(
                    order.claim.case,
                    f"deposit_top_up_missed:{order.id}",
                    {"amount_fen": order.deducted_fen, "due_at": order.deposit_top_up_due_at},
                )
            )
            escalated += 1
        db.session.commit()
    return escalated
