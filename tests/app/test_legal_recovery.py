"""Issue 12: recovery clocks a typed reference cannot stop; small claims; repair conditions."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from complaints.compensation import deposits, recovery, services
from complaints.compensation.models import Claim, RecoveryState
from complaints.compensation.services import request_claim
from complaints.credit.engine import CreditEventKind
from complaints.credit.models import CreditEvent
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.models import Notification
from complaints.outbox.services import relay_pending
from tests.app.test_compensation_support import (
    AH_HAI,
    FUND_MANAGER,
    MERCHANT,
    TEST_PAYEE,
    TOURIST,
    assert_books_balance,
    eligible_case,
    reload,
)
from workflows.states import CompensationState as C

LARGE = 79_200  # above the ¥500 small-claims threshold: reviewed, paid, recovered


def paid_large_claim(outlet_name=AH_HAI) -> Claim:
    claim = request_claim(
        eligible_case(outlet_name), LARGE, TOURIST, now=utcnow(), payee=TEST_PAYEE
    )
    db.session.commit()
    services.approve(claim, FUND_MANAGER, reason="receipt and menu photo agree", now=utcnow())
    db.session.commit()
    relay_pending()
    claim = reload(claim)
    assert claim.state is C.RECOVERY_OPEN
    return claim


def _credit_kinds(claim) -> list[CreditEventKind]:
    return list(
        db.session.scalars(
            select(CreditEvent.kind)
            .where(CreditEvent.enterprise_id == claim.enterprise_id)
            .order_by(CreditEvent.id)
        )
    )


# --- 2. a typed reference does not stop recovery ----------------------------------------


def test_a_recorded_reference_does_not_stop_the_recovery_going_overdue(seeded):
    claim = paid_large_claim()
    recovery.record_merchant_repayment(claim, "BOC-FAKE-1", MERCHANT, now=utcnow())
    db.session.commit()
    due = reload(claim).recovery.due_at
    assert recovery.mark_overdue_recoveries(due + timedelta(minutes=1)) == 1
    claim = reload(claim)
    assert claim.state is C.OVERDUE
    # The reference stays for the fund manager to check; the order is overdue all the same.
    assert claim.recovery.state is RecoveryState.REPAYMENT_RECORDED
    assert claim.recovery.overdue_at is not None
    assert CreditEventKind.RECOVERY_OVERDUE in _credit_kinds(claim)


def test_the_fund_manager_rejects_a_reference_and_the_merchant_is_told(seeded):
    claim = paid_large_claim()
    recovery.record_merchant_repayment(claim, "BOC-FAKE-2", MERCHANT, now=utcnow())
    db.session.commit()
    with pytest.raises(Exception, match="reason"):
        recovery.reject_repayment_reference(reload(claim), FUND_MANAGER, now=utcnow(), reason="")
    db.session.rollback()
    recovery.reject_repayment_reference(
        reload(claim), FUND_MANAGER, now=utcnow(), reason="nothing arrived on the fund account"
    )
    db.session.commit()
    claim = reload(claim)
    assert claim.state is C.RECOVERY_OPEN
    assert claim.recovery.state is RecoveryState.OPEN
    assert claim.recovery.merchant_reference is None
    assert claim.events[-1].trigger == "reject_repayment_reference"
    told = db.session.scalars(
        select(Notification.event_key).where(Notification.case_id == claim.case_id)
    ).all()
    assert any(key.startswith("repayment_rejected") for key in told)


def test_a_late_confirmation_does_not_earn_repaid_on_time(seeded):
    claim = paid_large_claim()
    recovery.record_merchant_repayment(claim, "BOC-778", MERCHANT, now=utcnow())
    db.session.commit()
    late = reload(claim).recovery.due_at + timedelta(days=60)
    # Nobody ran the tick: the claim is still "recovery open", yet the money came late.
    recovery.confirm_repayment(reload(claim), FUND_MANAGER, now=late)
    db.session.commit()
    claim = reload(claim)
    assert claim.state is C.RECOVERED
    assert CreditEventKind.RECOVERY_REPAID_ON_TIME not in _credit_kinds(claim)
    assert_books_balance()


def test_a_confirmation_by_the_due_date_earns_repaid_on_time(seeded):
    claim = paid_large_claim()
    recovery.confirm_repayment(claim, FUND_MANAGER, now=claim.recovery.due_at)
    db.session.commit()
    assert CreditEventKind.RECOVERY_REPAID_ON_TIME in _credit_kinds(reload(claim))


# --- 14. repair needs the penalty performed; an overdue recovery is repairable -----------


def test_repair_of_an_overdue_recovery_waits_for_the_money(seeded):
    from complaints.credit.repair import apply_for_repair, grant_repair
    from complaints.credit.services import CreditRuleError

    claim = paid_large_claim()
    due = claim.recovery.due_at
    recovery.mark_overdue_recoveries(due + timedelta(minutes=1))
    overdue = db.session.scalar(
        select(CreditEvent).where(
            CreditEvent.enterprise_id == claim.enterprise_id,
            CreditEvent.kind == CreditEventKind.RECOVERY_OVERDUE,
        )
    )
    a_year_on = overdue.occurred_at + timedelta(days=366)
    application = apply_for_repair(
        claim.enterprise_id,
        overdue.id,
        corrections="Staff retrained on posted prices",
        commitment="We post every price and honour it",
        actor="owner",
        now=a_year_on,
    )
    db.session.commit()
    with pytest.raises(CreditRuleError, match="penalty has not been performed"):
        grant_repair(application.id, actor="handler", reason="corrected", now=a_year_on)
    db.session.rollback()
    recovery.confirm_repayment(reload(claim), FUND_MANAGER, now=a_year_on)
    db.session.commit()
    # A serious-tier entry needs two people (maker-checker): the first grant is recorded only.
    assert grant_repair(application.id, actor="handler", reason="repaid", now=a_year_on) is None
    granted = grant_repair(application.id, actor="supervisor", reason="repaid", now=a_year_on)
    db.session.commit()
    assert granted.neutralises_id == overdue.id


# --- 11. small claims pay without freezing, unless the case finds the merchant liable -----


def test_a_small_claim_becomes_the_merchants_debt_once_the_case_finds_it_liable(seeded):
    from complaints.cases.workflow import Actor, fire
    from complaints.compensation import ledger
    from complaints.compensation.models import AccountKind
    from tests.app.test_compensation_support import sanya_fund
    from workflows.states import Role

    case = eligible_case(AH_HAI)
    handler = Actor(Role.HANDLER, "1")
    fire(case, "merchant_dispute", MERCHANT, now=utcnow(), reason="the price was on the board")
    fire(case, "accept", handler, now=utcnow())
    db.session.commit()
    claim = request_claim(case, 30_000, TOURIST, now=utcnow(), payee=TEST_PAYEE)
    db.session.commit()
    relay_pending()
    claim = reload(claim)
    fund = sanya_fund()
    receivable = dict(fund_id=fund.id, enterprise_id=claim.enterprise_id)
    assert claim.state is C.PAID
    assert claim.recovery is None
    assert ledger.balance_of(AccountKind.MERCHANT_RECEIVABLE, **receivable) == 0
    assert CreditEventKind.COMPENSATION_PAID not in _credit_kinds(claim)

    fire(case, "record_agreement", handler, now=utcnow(), reason="refund of ¥300 agreed")
    db.session.commit()
    claim = reload(claim)
    assert claim.state is C.RECOVERY_OPEN
    assert claim.merchant_frozen
    assert claim.recovery.state is RecoveryState.OPEN
    assert ledger.balance_of(AccountKind.MERCHANT_RECEIVABLE, **receivable) == 30_000
    assert ledger.balance_of(AccountKind.FUND_EXPENSE, fund_id=fund.id) == 0
    assert CreditEventKind.COMPENSATION_PAID in _credit_kinds(claim)
    assert_books_balance()


# --- 13. the fund's own limits, and referral of merchants that do not repay ---------------


def _claim_keys(claim) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.event_key).where(Notification.case_id == claim.case_id)
        )
    )


def test_a_late_decision_is_reminded_then_escalated_once(seeded):
    from complaints.compensation.clocks import chase_claims

    requested_at = utcnow()
    claim = request_claim(eligible_case(), LARGE, TOURIST, now=requested_at, payee=TEST_PAYEE)
    db.session.commit()
    claim = reload(claim)
    assert claim.step_due_at == requested_at + timedelta(hours=24)
    assert chase_claims(requested_at + timedelta(hours=11))["claim_reminders"] == 0
    assert chase_claims(requested_at + timedelta(hours=13))["claim_reminders"] == 1
    assert any(key.startswith("claim_reminder") for key in _claim_keys(claim))
    assert chase_claims(requested_at + timedelta(hours=25))["claims_late"] == 1
    assert chase_claims(requested_at + timedelta(hours=26))["claims_late"] == 0
    claim = reload(claim)
    assert claim.state is C.REQUESTED
    assert claim.events[-1].trigger == "escalate"
    assert any(key.startswith("claim_late") for key in _claim_keys(claim))


def test_a_small_claim_not_paid_within_30_minutes_is_escalated(app, seeded, monkeypatch):
    from complaints.compensation.clocks import chase_claims

    monkeypatch.setitem(app.config, "PAYOUT_BACKEND", "manual")  # waits for a bank reference
    requested_at = utcnow()
    claim = request_claim(eligible_case(), 30_000, TOURIST, now=requested_at, payee=TEST_PAYEE)
    db.session.commit()
    relay_pending()
    claim = reload(claim)
    assert claim.state is C.APPROVED
    assert claim.step_due_at == requested_at + timedelta(minutes=30)
    assert chase_claims(requested_at + timedelta(minutes=31))["claims_late"] == 1
    assert f"claim_late:{claim.id}:payout" in _claim_keys(claim)


def test_a_merchant_that_does_not_repay_is_referred_to_its_regulator(seeded):
    claim = paid_large_claim()
    recovery.mark_overdue_recoveries(claim.recovery.due_at + timedelta(minutes=1))
    claim = reload(claim)
    referral = claim.case.events[-1]
    assert referral.trigger == "referred_to_regulator"
    assert str(claim.amount_fen) in referral.reason
    assert f"referred_to_regulator:{claim.id}" in _claim_keys(claim)


# --- 15. deposit top-ups, partial deductions ----------------------------------------------


def _deposit(enterprise_id) -> int:
    from complaints.compensation import ledger
    from complaints.compensation.models import AccountKind

    return ledger.balance_of(AccountKind.MERCHANT_DEPOSIT, enterprise_id=enterprise_id)


def test_a_deduction_asks_for_a_top_up_tracks_it_and_escalates_a_miss(seeded):
    from tests.app.test_compensation_support import COCONUT_DREAM

    claim = paid_large_claim(COCONUT_DREAM)
    deposits.deduct_deposit(claim, FUND_MANAGER, now=utcnow(), reason="no repayment")
    db.session.commit()
    claim = reload(claim)
    order = claim.recovery
    assert (order.state, order.deducted_fen) == (RecoveryState.DEDUCTED, LARGE)
    assert any(key.startswith("deposit_top_up_due") for key in _claim_keys(claim))
    assert deposits.escalate_missed_top_ups(order.deposit_top_up_due_at) == 0
    missed = deposits.escalate_missed_top_ups(order.deposit_top_up_due_at + timedelta(minutes=1))
    assert missed == 1
    assert deposits.escalate_missed_top_ups(order.deposit_top_up_due_at + timedelta(days=1)) == 0
    assert f"deposit_top_up_missed:{order.id}" in _claim_keys(claim)


def test_a_top_up_in_time_is_recorded_and_not_escalated(seeded):
    from tests.app.test_compensation_support import COCONUT_DREAM

    claim = paid_large_claim(COCONUT_DREAM)
    deposits.deduct_deposit(claim, FUND_MANAGER, now=utcnow(), reason="no repayment")
    db.session.commit()
    deposits.lodge_deposit(
        claim.enterprise_id, LARGE, key="top-up:t1", actor=MERCHANT, now=utcnow()
    )
    db.session.commit()
    order = reload(claim).recovery
    assert order.deposit_topped_up_at is not None
    assert deposits.escalate_missed_top_ups(order.deposit_top_up_due_at + timedelta(days=1)) == 0


def test_a_deposit_smaller_than_the_debt_is_taken_and_the_rest_stays_owed(seeded):
    from complaints.compensation import ledger
    from complaints.compensation.models import AccountKind
    from tests.app.test_compensation_support import COCONUT_DREAM, sanya_fund

    claim = paid_large_claim(COCONUT_DREAM)
    agency = claim.enterprise_id
    # Shrink the deposit to ¥300 (a refund of most of it to the agency, for the test).
    lodged = ledger.account(AccountKind.DEPOSIT_LODGED, enterprise_id=agency)
    deposit = ledger.account(AccountKind.MERCHANT_DEPOSIT, enterprise_id=agency)
    refund = _deposit(agency) - 30_000
    ledger.post(
        ledger.TransactionKind.DEPOSIT_LODGEMENT,
        "test:shrink",
        [ledger.Leg(deposit, -refund), ledger.Leg(lodged, refund)],
        actor_role=FUND_MANAGER.role,
        actor_id=FUND_MANAGER.id,
        now=utcnow(),
    )
    db.session.commit()
    deposits.deduct_deposit(reload(claim), FUND_MANAGER, now=utcnow(), reason="deposit too small")
    db.session.commit()
    claim = reload(claim)
    assert claim.state is C.RECOVERY_OPEN  # still owed: the rest
    assert claim.events[-1].trigger == "deduct_deposit_partly"
    assert claim.recovery.deducted_fen == 30_000
    assert claim.recovery.outstanding_fen == LARGE - 30_000
    assert _deposit(agency) == 0
    fund = sanya_fund()
    owed = ledger.balance_of(AccountKind.MERCHANT_RECEIVABLE, fund_id=fund.id, enterprise_id=agency)
    assert owed == LARGE - 30_000
    assert_books_balance()
    recovery.confirm_repayment(claim, FUND_MANAGER, now=utcnow(), reference="BOC-REST")
    db.session.commit()
    owed = ledger.balance_of(AccountKind.MERCHANT_RECEIVABLE, fund_id=fund.id, enterprise_id=agency)
    assert owed == 0
    assert reload(claim).state is C.RECOVERED
    assert_books_balance()
