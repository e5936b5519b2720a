"""Advance compensation on a real database: eligibility, decision, payout, freeze, recovery.

After every scenario the books must balance: each transaction sums to zero and
`ledger verify` (balances recomputed from entries, claims reconciled) finds nothing.
"""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from complaints.cases.workflow import SYSTEM
from complaints.compensation import deposits, ledger, recovery, services
from complaints.compensation.jobs import pay_claim
from complaints.compensation.models import (
    AccountKind,
    Claim,
    ClaimEvent,
    LedgerAccount,
    LedgerTransaction,
    RecoveryState,
    TransactionKind,
)
from complaints.compensation.services import ClaimRefused, ReasonRequired, request_claim
from complaints.credit.models import CreditEvent
from complaints.database import utcnow
from complaints.extensions import db
from complaints.outbox.models import OutboxMessage
from complaints.outbox.services import relay_pending
from tests.app.test_compensation_support import (
    AH_HAI,
    COCONUT_DREAM,
    FUND_MANAGER,
    MERCHANT,
    QILOU,
    TAXI,
    TEST_PAYEE,
    TOURIST,
    assert_books_balance,
    balance,
    eligible_case,
    fund_cash,
    reload,
    sanya_fund,
    transactions_of,
    withdraw,
)
from workflows.machine import RefusalCode, TransitionRefused
from workflows.states import CompensationState as C

HOTEL = "Coconut Breeze Hotel front desk"
JEWELLERY = "Yalong Bay Jewellery flagship store"
DIVING = "Wuzhizhou Island dive centre"
LARGE = 79_200  # ¥792: above the ¥500 small-claims threshold


def _claim(case, amount_fen: int) -> Claim:
    claim = request_claim(case, amount_fen, TOURIST, now=utcnow(), payee=TEST_PAYEE)
    db.session.commit()
    relay_pending()
    return reload(claim)


def _paid_claim(outlet_name=AH_HAI, amount_fen=30_000, **kwargs) -> Claim:
    """A claim reviewed, paid and frozen against the merchant. Small claims are paid without
    freezing anyone (issue 12 item 11), so the fund's small-claims track is switched off."""
    case = eligible_case(outlet_name, **kwargs)
    services.fund_for_case(case).small_claim_threshold_fen = 0
    claim = _claim(case, amount_fen)
    services.approve(claim, FUND_MANAGER, reason="receipt and menu agree", now=utcnow())
    db.session.commit()
    relay_pending()
    claim = reload(claim)
    assert claim.state is C.RECOVERY_OPEN
    return claim


def _refusals(case, amount_fen: int) -> set[str]:
    with pytest.raises(ClaimRefused) as refused:
        request_claim(case, amount_fen, TOURIST, now=utcnow(), payee=TEST_PAYEE)
    db.session.rollback()
    return {reason.code for reason in refused.value.reasons}


def test_a_small_claim_is_paid_at_once_without_freezing_the_merchant(seeded):
    # RULES.md (Sanya's 2024 small-claims track): paid immediately without freezing. This test
    # asserted a receivable and a recovery order before issue 12 item 11.
    fund = sanya_fund()
    before = fund_cash(fund)
    claim = _claim(eligible_case(), 30_000)
    assert claim.state is C.PAID
    assert claim.paid_at is not None
    assert claim.payout_reference.startswith("SIM-")
    assert [e.trigger for e in claim.events] == ["request", "auto_approve", "pay"]
    assert claim.events[1].actor_role.value == "system"
    assert fund_cash(fund) == before - 30_000
    owed = balance(
        AccountKind.MERCHANT_RECEIVABLE, fund_id=fund.id, enterprise_id=claim.enterprise_id
    )
    assert owed == 0
    assert balance(AccountKind.FUND_EXPENSE, fund_id=fund.id) == 30_000
    assert balance(AccountKind.TOURIST_PAYABLE, fund_id=fund.id) == 0
    assert transactions_of(claim) == ["payout_reserve", "payout"]
    assert claim.recovery is None
    assert not claim.merchant_frozen
    assert_books_balance()


def test_a_large_claim_waits_for_a_fund_managers_reason(seeded):
    claim = _claim(eligible_case(), LARGE)
    assert claim.state is C.REQUESTED
    payout_jobs = select(func.count(OutboxMessage.id)).where(OutboxMessage.job == services.PAY_JOB)
    assert db.session.scalar(payout_jobs) == 0
    with pytest.raises(TransitionRefused) as refused:
        services.approve(claim, TOURIST, reason="please", now=utcnow())
    assert refused.value.code is RefusalCode.ROLE_NOT_ALLOWED
    with pytest.raises(TransitionRefused):
        services.fire(claim, "auto_approve", SYSTEM, now=utcnow())  # not a small claim
    with pytest.raises(ReasonRequired):
        services.approve(claim, FUND_MANAGER, reason="  ", now=utcnow())
    db.session.rollback()
    services.approve(claim, FUND_MANAGER, reason="Receipt shows 880 for 88", now=utcnow())
    db.session.commit()
    relay_pending()
    claim = reload(claim)
    assert claim.state is C.RECOVERY_OPEN
    assert (claim.decided_by, claim.decision_reason) == ("fm-1", "Receipt shows 880 for 88")
    assert_books_balance()


def test_a_rejected_claim_keeps_its_reason_and_moves_no_money(seeded):
    fund = sanya_fund()
    before = fund_cash(fund)
    claim = _claim(eligible_case(), LARGE)
    with pytest.raises(TransitionRefused) as refused:
        services.reject(claim, FUND_MANAGER, reason="", now=utcnow())
    assert refused.value.code is RefusalCode.REASON_REQUIRED
    services.reject(claim, FUND_MANAGER, reason="The menu showed the price", now=utcnow())
    db.session.commit()
    claim = reload(claim)
    assert claim.state is C.REJECTED
    assert claim.closed_at is not None
    assert fund_cash(fund) == before
    assert transactions_of(claim) == []
    # A rejection does not block asking again, e.g. with better evidence.
    again = _claim(claim.case, 20_000)
    assert again.state is C.PAID  # small: paid at once
    assert_books_balance()


def test_ineligible_claims_say_which_rule_failed(seeded):
    assert _refusals(eligible_case(verified=False), 10_000) == {"phone_not_verified"}
    assert _refusals(eligible_case(evidence=False), 10_000) == {"no_evidence"}
    assert _refusals(eligible_case(routed=False), 10_000) == {"case_state"}
    case = eligible_case(claimed_fen=60_000)
    assert _refusals(case, 60_001) == {"above_amount_claimed"}
    assert _refusals(case, 0) == {"amount_not_positive"}
    big = eligible_case(claimed_fen=900_000)
    assert _refusals(big, 500_001) == {"above_case_cap"}
    taxi = eligible_case(TAXI)  # regulator_review is a state that allows claims
    taxi.enterprise.trusted = False
    db.session.commit()
    assert _refusals(taxi, 10_000) == {"merchant_not_trusted"}
    paid = eligible_case()
    _claim(paid, 10_000)
    assert _refusals(paid, 10_000) == {"already_claimed"}
    assert services.fund_for_case(eligible_case(QILOU)).division_code == "460100"  # ring-fenced


def test_the_yearly_cap_counts_one_phone_at_one_fund(seeded):
    phone = "+8613900001111"
    # Four merchants: each payout is a credit event, and one merchant paid for four times over
    # would rightly drop off the trusted list before the cap is reached.
    for place in (AH_HAI, HOTEL, JEWELLERY, COCONUT_DREAM):  # 4 x ¥4,900 of ¥20,000 a year
        claim = _claim(eligible_case(place, phone=phone, claimed_fen=490_000), 490_000)
        services.approve(claim, FUND_MANAGER, reason="ok", now=utcnow())
        db.session.commit()
    over = eligible_case(DIVING, phone=phone, claimed_fen=50_000)
    assert _refusals(over, 50_000) == {"above_yearly_cap"}
    assert _claim(eligible_case(DIVING, phone=phone, claimed_fen=40_000), 40_000).state is (
        C.PAID  # ¥400 still fits (a small claim: paid at once)
    )
    # Haikou's fund is ring-fenced and counts its own year.
    assert _claim(eligible_case(QILOU, phone=phone, claimed_fen=50_000), 50_000).state is (C.PAID)
    assert_books_balance()


def test_an_empty_fund_refuses_and_a_payout_waits_for_money(seeded):
    fund = sanya_fund()
    claim = _claim(eligible_case(), LARGE)
    services.approve(claim, FUND_MANAGER, reason="ok", now=utcnow())
    # Drain the fund between approval and payout: the job must stop, not overdraw.
    withdraw(fund, fund_cash(fund) - 1_000)
    relay_pending()
    claim = reload(claim)
    assert (claim.state, claim.payout_note) == (C.APPROVED, "insufficient_funds")
    assert fund_cash(fund) == 1_000
    assert transactions_of(claim) == []
    assert _refusals(eligible_case(), 10_000) == {"fund_insufficient"}
    services.contribute(fund, 100_000, key="test:top-up", actor=SYSTEM, now=utcnow())
    db.session.commit()
    relay_pending()  # the contribution queued the waiting payout again
    claim = reload(claim)
    assert claim.state is C.RECOVERY_OPEN
    assert fund_cash(fund) == 1_000 + 100_000 - LARGE
    assert_books_balance()


def test_the_payout_job_pays_once_however_often_it_runs(seeded):
    claim = _claim(eligible_case(), LARGE)
    services.approve(claim, FUND_MANAGER, reason="ok", now=utcnow())
    db.session.commit()
    assert pay_claim(claim.id) == "paid"
    assert pay_claim(claim.id) == "not_payable"
    relay_pending()  # the outbox message runs the job a third time
    assert transactions_of(claim) == ["payout_reserve", "payout"]
    assert (
        db.session.scalar(select(func.count(ClaimEvent.id)).where(ClaimEvent.trigger == "pay")) == 1
    )
    assert_books_balance()


def test_manual_bank_transfer_waits_for_the_reference(app, seeded, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_BACKEND", "manual")
    fund = sanya_fund()
    before = fund_cash(fund)
    claim = _claim(eligible_case(), 30_000)  # small: approved at once, but no bank reference
    assert (claim.state, claim.payout_note) == (C.APPROVED, "awaiting_reference")
    assert fund_cash(fund) == before - 30_000  # reserved, so the fund cannot promise it twice
    assert balance(AccountKind.TOURIST_PAYABLE, fund_id=fund.id) == 30_000
    with pytest.raises(services.ClaimConflict):
        services.record_transfer_reference(claim, "ICBC-1", TOURIST, now=utcnow())
    services.record_transfer_reference(claim, "ICBC-20261125-0042", FUND_MANAGER, now=utcnow())
    db.session.commit()
    relay_pending()
    claim = reload(claim)
    assert claim.state is C.PAID
    assert (claim.payout_reference, claim.payout_provider) == ("ICBC-20261125-0042", "manual")
    payout = db.session.scalar(
        select(LedgerTransaction).where(
            LedgerTransaction.idempotency_key == f"claim:{claim.id}:payout"
        )
    )
    assert (payout.actor_role.value, payout.actor_id) == ("fund_manager", "fm-1")
    assert balance(AccountKind.TOURIST_PAYABLE, fund_id=fund.id) == 0
    assert_books_balance()


def test_settling_after_payout_returns_the_frozen_amount_to_the_fund(seeded):
    fund = sanya_fund()
    before = fund_cash(fund)
    claim = _paid_claim(amount_fen=40_000)
    assert fund_cash(fund) == before - 40_000
    with pytest.raises(TransitionRefused):  # the guard: only once the parties settled
        services.fire(claim, "return_to_fund", SYSTEM, now=utcnow())
    db.session.rollback()
    assert recovery.settle_after_payout(claim.case, now=utcnow(), reference="SETTLE-1") == claim
    db.session.commit()
    claim = reload(claim)
    assert claim.state is C.RETURNED
    assert claim.recovery.state is RecoveryState.RETURNED
    assert fund_cash(fund) == before
    owed = balance(
        AccountKind.MERCHANT_RECEIVABLE, fund_id=fund.id, enterprise_id=claim.enterprise_id
    )
    assert owed == 0
    assert transactions_of(claim) == ["payout_reserve", "payout", "return_to_fund"]
    assert recovery.settle_after_payout(claim.case, now=utcnow()) is None  # nothing left
    assert_books_balance()


def test_recovery_by_repayment_confirmed_by_a_fund_manager(seeded):
    fund = sanya_fund()
    before = fund_cash(fund)
    claim = _paid_claim(amount_fen=25_000)
    with pytest.raises(services.ClaimConflict):
        recovery.record_merchant_repayment(claim, "", MERCHANT, now=utcnow())
    recovery.record_merchant_repayment(claim, "BOC-778", MERCHANT, now=utcnow())
    db.session.commit()
    assert reload(claim).recovery.state is RecoveryState.REPAYMENT_RECORDED
    with pytest.raises(TransitionRefused):
        recovery.confirm_repayment(claim, MERCHANT, now=utcnow())  # not the merchant's call
    db.session.rollback()
    recovery.confirm_repayment(reload(claim), FUND_MANAGER, now=utcnow())
    db.session.commit()
    claim = reload(claim)
    assert claim.state is C.RECOVERED
    assert claim.recovery.state is RecoveryState.REPAID
    assert claim.events[-1].reason == "BOC-778"
    assert fund_cash(fund) == before
    assert_books_balance()


def test_recovery_from_a_travel_agencys_deposit_with_the_top_up_rule(seeded):
    fund = sanya_fund()
    claim = _paid_claim(COCONUT_DREAM, amount_fen=45_000)
    agency = claim.enterprise_id
    deposit_before = balance(AccountKind.MERCHANT_DEPOSIT, enterprise_id=agency)
    assert deposit_before == 20_000_000  # ¥200,000 seeded (旅行社条例 Art. 13)
    cash_before = fund_cash(fund)
    deposits.deduct_deposit(claim, FUND_MANAGER, now=utcnow(), reason="no repayment offered")
    db.session.commit()
    claim = reload(claim)
    assert claim.state is C.DEDUCTED
    assert balance(AccountKind.MERCHANT_DEPOSIT, enterprise_id=agency) == deposit_before - 45_000
    assert fund_cash(fund) == cash_before + 45_000
    order = claim.recovery
    assert order.state is RecoveryState.DEDUCTED
    assert order.deposit_top_up_due_at > order.repaid_at  # 5 working days to top it up
    deposits.lodge_deposit(agency, 45_000, key="top-up:1", actor=MERCHANT, now=utcnow())
    db.session.commit()
    assert balance(AccountKind.MERCHANT_DEPOSIT, enterprise_id=agency) == deposit_before
    # A restaurant holds no deposit: the table's guard refuses.
    other = _paid_claim(AH_HAI, amount_fen=10_000)
    with pytest.raises(TransitionRefused) as refused:
        deposits.deduct_deposit(other, FUND_MANAGER, now=utcnow())
    assert refused.value.code is RefusalCode.GUARD_FAILED
    db.session.rollback()
    assert_books_balance()


def test_an_unpaid_recovery_goes_overdue_once_and_the_merchant_leaves_the_list(seeded):
    claim = _paid_claim(amount_fen=20_000)
    due = claim.recovery.due_at
    assert recovery.mark_overdue_recoveries(due - timedelta(minutes=1)) == 0
    assert recovery.mark_overdue_recoveries(due + timedelta(minutes=1)) == 1
    assert recovery.mark_overdue_recoveries(due + timedelta(minutes=2)) == 0
    claim = reload(claim)
    assert claim.state is C.OVERDUE
    assert claim.recovery.state is RecoveryState.OVERDUE
    assert claim.enterprise.trusted is False
    assert _refusals(eligible_case(), 10_000) == {"merchant_not_trusted"}
    kinds = db.session.scalars(
        select(CreditEvent.kind).where(CreditEvent.case_id == claim.case_id)
    ).all()
    assert {"compensation_paid", "recovery_overdue"} <= {str(kind) for kind in kinds}
    # Overdue is not the end: the merchant can still repay.
    recovery.confirm_repayment(claim, FUND_MANAGER, now=utcnow(), reference="LATE-1")
    db.session.commit()
    assert reload(claim).state is C.RECOVERED
    assert_books_balance()


def test_the_ledger_refuses_unbalanced_overdrawn_and_repeated_transactions(seeded):
    fund = sanya_fund()
    cash = ledger.account(AccountKind.FUND_CASH, fund_id=fund.id)
    source = ledger.account(AccountKind.FUND_CONTRIBUTIONS, fund_id=fund.id)

    def post(key, legs):
        return ledger.post(
            TransactionKind.CONTRIBUTION, key, legs, actor_role=SYSTEM.role, actor_id=None,
            now=utcnow(),
        )  # fmt: skip

    with pytest.raises(ledger.UnbalancedTransaction):
        post("t:1", [ledger.Leg(cash, 100), ledger.Leg(source, -99)])
    with pytest.raises(ledger.UnbalancedTransaction):
        post("t:2", [ledger.Leg(cash, 100)])
    held = fund_cash(fund)
    with pytest.raises(ledger.InsufficientBalance):
        post("t:3", [ledger.Leg(cash, -(held + 1)), ledger.Leg(source, held + 1)])
    db.session.rollback()
    post("t:4", [ledger.Leg(cash, 100), ledger.Leg(source, -100)])
    db.session.commit()
    with pytest.raises(IntegrityError):  # the same idempotency key never posts twice
        post("t:4", [ledger.Leg(cash, 100), ledger.Leg(source, -100)])
    db.session.rollback()
    overdraw = update(LedgerAccount).where(LedgerAccount.id == cash.id).values(balance_fen=-1)
    with pytest.raises(IntegrityError):  # and the CHECK holds even against a raw UPDATE
        db.session.execute(overdraw)
    db.session.rollback()
    assert fund_cash(fund) == held + 100
    assert_books_balance()
