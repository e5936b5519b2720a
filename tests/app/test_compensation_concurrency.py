"""Money under concurrency, with real threads on PostgreSQL (TECH-NOTES "Money under concurrency").

Each thread has its own app context, so its own session and connection. A barrier releases
them together. A deliberately naive read-check-write payout runs under the same threads to
prove the harness can catch a double payment: it must fail where the real code holds.
"""

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from complaints.compensation import services
from complaints.compensation.jobs import pay_claim
from complaints.compensation.models import (
    AccountKind,
    Claim,
    ClaimEvent,
    LedgerAccount,
    LedgerTransaction,
    TransactionKind,
)
from complaints.compensation.payouts import PROVIDERS, SimulatedTransfer
from complaints.compensation.seed import seed_funds
from complaints.database import utcnow
from complaints.extensions import db
from complaints.seed import seed_demo_merchants, seed_reference_data
from tests import services as test_services
from tests.app.test_compensation_support import (
    FUND_MANAGER,
    OTHER_FUND_MANAGER,
    SANYA,
    TEST_PAYEE,
    TOURIST,
    assert_books_balance,
    eligible_case,
    fund_cash,
    reload,
    sanya_fund,
)
from workflows.machine import TransitionRefused
from workflows.states import CompensationState as C

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(app_ctx):
    if db.engine.dialect.name != "postgresql":
        test_services.missing("concurrency tests need PostgreSQL (DATABASE_URL)")


@pytest.fixture
def small_fund(pg):
    """Sanya's fund holding exactly ¥10,000."""
    seed_reference_data()
    seed_demo_merchants()
    seed_funds(opening_fen={SANYA: 1_000_000})
    db.session.commit()
    return sanya_fund()


class CountingTransfer(SimulatedTransfer):
    """A provider that counts every time money would leave."""

    calls: list[str]

    def send(self, instruction):
        self.calls.append(instruction.idempotency_key)
        return super().send(instruction)


@pytest.fixture
def counting_provider(app, monkeypatch):
    provider = CountingTransfer()
    provider.calls = []
    monkeypatch.setitem(PROVIDERS, "counting", lambda: provider)
    monkeypatch.setitem(app.config, "PAYOUT_BACKEND", "counting")
    return provider


def run_together(app, targets):
    """Run each callable in its own thread and app context, released at once; their results."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def runner(index, target):
        with app.app_context():
            barrier.wait()
            try:
                results[index] = target()
            except Exception as exc:  # the test inspects what each thread met
                db.session.rollback()
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def approved_claims(count: int, amount_fen: int) -> list[int]:
    """Claims approved and waiting for their payout job (the outbox is not relayed)."""
    ids = []
    for n in range(count):
        case = eligible_case(phone=f"+861390000{n:04d}", claimed_fen=amount_fen)
        claim = services.request_claim(case, amount_fen, TOURIST, now=utcnow(), payee=TEST_PAYEE)
        db.session.commit()
        if claim.state is C.REQUESTED:
            services.approve(claim, FUND_MANAGER, reason="ok", now=utcnow())
            db.session.commit()
        ids.append(claim.id)
    return ids


def naive_pay(claim_id: int) -> bool:
    """How not to do it: read, check, sleep a moment (any real work), write what we computed."""
    claim = db.session.get(Claim, claim_id)
    cash = db.session.scalar(
        select(LedgerAccount).where(
            LedgerAccount.kind == AccountKind.FUND_CASH, LedgerAccount.fund_id == claim.fund_id
        )
    )
    if claim.state is not C.APPROVED or cash.balance_fen < claim.amount_fen:
        return False
    time.sleep(0.05)  # the window between the check and the write
    cash.balance_fen = cash.balance_fen - claim.amount_fen  # a value computed from a stale read
    claim.state = C.PAID
    db.session.commit()
    return True


def test_two_fund_managers_approving_one_claim_make_one_approval(app, small_fund):
    case = eligible_case(claimed_fen=79_200)
    claim = services.request_claim(case, 79_200, TOURIST, now=utcnow(), payee=TEST_PAYEE)
    db.session.commit()
    claim_id = claim.id  # threads must not touch this session's objects

    def approve_as(actor):
        def act():
            mine = db.session.get(Claim, claim_id)
            services.approve(mine, actor, reason=f"approved by {actor.id}", now=utcnow())
            db.session.commit()
            return "approved"

        return act

    results = run_together(app, [approve_as(FUND_MANAGER), approve_as(OTHER_FUND_MANAGER)])
    assert results.count("approved") == 1
    loser = next(r for r in results if r != "approved")
    assert isinstance(loser, services.ClaimConflict | TransitionRefused)
    approvals = db.session.scalar(
        select(func.count(ClaimEvent.id)).where(
            ClaimEvent.claim_id == claim_id, ClaimEvent.trigger == "approve"
        )
    )
    assert approvals == 1
    assert reload(claim).state is C.APPROVED


def test_two_requests_for_one_case_open_one_claim(app, small_fund):
    case_id = eligible_case(claimed_fen=30_000).id

    def ask():
        from complaints.cases.models import Case

        services.request_claim(
            db.session.get(Case, case_id), 30_000, TOURIST, now=utcnow(), payee=TEST_PAYEE
        )
        db.session.commit()
        return "asked"

    results = run_together(app, [ask, ask])
    assert results.count("asked") == 1
    assert isinstance(next(r for r in results if r != "asked"), IntegrityError)
    assert db.session.scalar(select(func.count(Claim.id)).where(Claim.case_id == case_id)) == 1


def test_two_workers_running_one_payout_job_pay_once(app, small_fund, counting_provider):
    (claim_id,) = approved_claims(1, 30_000)
    before = fund_cash(small_fund)
    results = run_together(app, [lambda: pay_claim(claim_id)] * 2)
    assert sorted(results) == ["not_payable", "paid"]
    assert counting_provider.calls == [f"anxin-claim-{claim_id}"]
    assert fund_cash(small_fund) == before - 30_000
    payouts = db.session.scalar(
        select(func.count(LedgerTransaction.id)).where(
            LedgerTransaction.claim_id == claim_id, LedgerTransaction.kind == TransactionKind.PAYOUT
        )
    )
    assert payouts == 1
    assert_books_balance()


def test_thirty_concurrent_payouts_never_overdraw_the_fund(app, small_fund, counting_provider):
    ids = approved_claims(30, 50_000)  # 30 x ¥500 against ¥10,000
    assert fund_cash(small_fund) == 1_000_000
    results = run_together(app, [lambda claim_id=i: pay_claim(claim_id) for i in ids])
    assert results.count("paid") == 20, results
    assert results.count("insufficient_funds") == 10, results
    assert fund_cash(small_fund) == 0
    assert len(counting_provider.calls) == 20
    db.session.expire_all()
    states = db.session.scalars(select(Claim.state).where(Claim.id.in_(ids))).all()
    # ¥500 is a small claim: paid without freezing the merchant, so no recovery is opened
    # (issue 12 item 11); what matters here is that exactly 20 were paid.
    assert states.count(C.PAID) + states.count(C.RECOVERY_OPEN) == 20
    assert states.count(C.APPROVED) == 10
    assert_books_balance()


def test_the_naive_version_double_pays_under_the_same_threads(app, small_fund):
    """Proof that the harness catches the race: read-check-write pays 30 claims from a fund
    that can afford 20, its balance still showing money left, and pays one claim twice."""
    ids = approved_claims(30, 50_000)  # 30 x ¥500 against ¥10,000
    paid = run_together(app, [lambda claim_id=i: naive_pay(claim_id) for i in ids])
    left = fund_cash(small_fund)
    (one,) = approved_claims(1, 30_000)
    twice = run_together(app, [lambda: naive_pay(one)] * 2)
    print(  # the figures for the record (pytest -s)
        f"naive: {paid.count(True)} of 30 claims of ¥500 paid from ¥10,000, "
        f"balance still showing ¥{left / 100:.2f}; one claim paid {twice.count(True)} times"
    )
    assert paid.count(True) > 20  # overdrawn: more paid out than the fund held
    assert left != 1_000_000 - paid.count(True) * 50_000  # lost updates: the books lie
    assert twice.count(True) == 2  # one claim, paid twice
