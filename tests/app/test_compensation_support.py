"""Builders shared by the compensation tests (this module holds no tests of its own)."""

import secrets

from sqlalchemy import func, select

from complaints.cases.models import Case, CaseSource, Evidence, EvidenceKind, Remedy
from complaints.cases.services import ComplaintInput, file_complaint, tracking_key_for
from complaints.cases.workflow import Actor, route
from complaints.compensation import ledger
from complaints.compensation.cli import all_problems
from complaints.compensation.models import (
    AccountKind,
    Claim,
    Fund,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from complaints.compensation.payee import Payee, PayeeMethod
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Outlet
from workflows.states import Role

SECRET = "test-secret-key-not-for-production"
AH_HAI = "Ah Hai Seafood Kitchen"  # Sanya (Tianya), a restaurant, answers first
COCONUT_DREAM = "Coconut Dream tour desk, Dadonghai"  # Sanya (Jiyang), a travel agency
TAXI = "Taxi Qiong B·T1234"  # Sanya, outside the scheme: goes straight to the regulator
QILOU = "Qilou coconut chicken"  # Haikou
SANYA = "460200"
TOURIST = Actor(Role.TOURIST)
FUND_MANAGER = Actor(Role.FUND_MANAGER, "fm-1")
OTHER_FUND_MANAGER = Actor(Role.FUND_MANAGER, "fm-2")
MERCHANT = Actor(Role.MERCHANT, "merchant-1")


def outlet(name_en: str) -> Outlet:
    return db.session.scalar(select(Outlet).where(Outlet.name_en == name_en))


def eligible_case(
    outlet_name: str = AH_HAI,
    *,
    phone: str = "+447911123456",
    claimed_fen: int = 79_200,
    verified: bool = True,
    evidence: bool = True,
    routed: bool = True,
    key: str | None = None,
) -> Case:
    """A complaint filed and routed by the real services, phone verified, a photo attached."""
    now = utcnow()
    place = outlet(outlet_name)
    data = ComplaintInput(
        enterprise_id=place.enterprise_id,
        outlet_id=place.id,
        category=place.category,
        description="Charged 880 yuan for a meal priced at 88 on the board.",
        occurred_on=now.date(),
        amount_paid_fen=max(claimed_fen, 88_000),
        amount_claimed_fen=claimed_fen,
        remedy=Remedy.PARTIAL_REFUND,
        tourist_name="Alice Tourist",
        tourist_phone=phone,
        language="en",
        contact_consent=False,
        source=CaseSource.QR,
        submission_key=key or secrets.token_urlsafe(24),
    )
    case = file_complaint(data, secret_key=SECRET, public_base_url="http://anxin.test", now=now)
    case = case.case
    if routed:
        route(case, now)
    if verified:
        case.phone_verified_at = now
    if evidence:
        db.session.add(
            Evidence(
                case_id=case.id,
                kind=EvidenceKind.RECEIPT,
                stored_name=f"{secrets.token_hex(16)}.jpg",
                content_type="image/jpeg",
                size_bytes=1234,
                sha256=secrets.token_hex(32),
            )
        )
    db.session.commit()
    return case


def tracking_key(submission_key: str) -> str:
    return tracking_key_for(submission_key, SECRET)


def sanya_fund() -> Fund:
    return db.session.scalar(select(Fund).where(Fund.division_code == SANYA))


def fund_cash(fund: Fund) -> int:
    db.session.expire_all()
    return ledger.balance_of(AccountKind.FUND_CASH, fund_id=fund.id)


def balance(kind: AccountKind, **owner) -> int:
    db.session.expire_all()
    return ledger.balance_of(kind, **owner)


def reload(claim: Claim) -> Claim:
    db.session.expire_all()
    return db.session.get(Claim, claim.id)


def assert_books_balance() -> None:
    """Every transaction sums to zero with two or more legs, and `ledger verify` is clean."""
    db.session.expire_all()
    sums = db.session.execute(
        select(LedgerTransaction.id, func.sum(LedgerEntry.amount_fen), func.count(LedgerEntry.id))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.id)
    ).all()
    assert sums, "no transactions at all"
    assert all(total == 0 and count >= 2 for _id, total, count in sums), sums
    transactions = db.session.scalar(select(func.count(LedgerTransaction.id)))
    assert len(sums) == transactions  # none without entries
    assert [str(p) for p in all_problems()] == []


def transactions_of(claim: Claim) -> list[str]:
    return [
        t.kind.value
        for t in db.session.scalars(
            select(LedgerTransaction)
            .where(LedgerTransaction.claim_id == claim.id)
            .order_by(LedgerTransaction.id)
        )
    ]


def withdraw(fund: Fund, amount_fen: int) -> None:
    """Test set-up: money handed back to the budget (a contribution in reverse), committed."""
    cash = ledger.account(AccountKind.FUND_CASH, fund_id=fund.id)
    source = ledger.account(AccountKind.FUND_CONTRIBUTIONS, fund_id=fund.id)
    ledger.post(
        TransactionKind.CONTRIBUTION,
        f"test:withdrawal:{secrets.token_hex(4)}",
        [ledger.Leg(cash, -amount_fen), ledger.Leg(source, amount_fen)],
        actor_role=Role.SYSTEM,
        actor_id=None,
        now=utcnow(),
        memo="test: money handed back to the budget",
    )
    db.session.commit()


# Where the fund pays in these tests: a claim cannot be approved without one.
TEST_PAYEE = Payee(PayeeMethod.ALIPAY, "13812345678", "Alice Tourist")
