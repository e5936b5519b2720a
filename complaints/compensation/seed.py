"""One fund per city and county (Sansha aside, RULES.md) with a demo opening balance, and a
demo travel agency's quality guarantee deposit. Idempotent: keyed ledger transactions."""

from sqlalchemy import select

from complaints.cases.workflow import SYSTEM
from complaints.categories import Category
from complaints.compensation.deposits import lodge_deposit
from complaints.compensation.ledger import transaction_exists
from complaints.compensation.models import Fund
from complaints.compensation.services import contribute
from complaints.database import utcnow
from complaints.extensions import db
from complaints.geo import hainan
from complaints.merchants.models import Outlet

NO_FUND = {"460300"}  # Sansha: the 2023 requirement leaves it out
SANYA = "460200"
SANYA_OPENING_FEN = 100_000_000  # ¥1,000,000 (Sanya's real fund reached ¥10 million in 2023)
OTHER_OPENING_FEN = 20_000_000  # ¥200,000
# 旅行社条例 Art. 13: CNY 200,000 for domestic and inbound business.
DOMESTIC_AGENCY_DEPOSIT_FEN = 20_000_000


def seed_funds(opening_fen: dict[str, int] | None = None, *, demo: bool = True) -> list[Fund]:
    """One fund per city/county. With `demo`, opening balances and travel agencies' deposits
    are invented for the demo (`opening_fen` overrides them by division code; tests use it);
    without it, funds start empty: real money arrives only as recorded contributions."""
    opening_fen = opening_fen or {}
    now = utcnow()
    existing = {f.division_code: f for f in db.session.scalars(select(Fund))}
    funds = []
    for code, zh, en in hainan.PREFECTURE_CITIES + hainan.COUNTIES:
        if code in NO_FUND:
            continue
        fund = existing.get(code)
        if fund is None:
            fund = Fund(
                division_code=code,
                name_zh=f"{zh}旅游消费投诉先行赔付基金",
                name_en=f"{en} tourism advance-compensation fund",
            )
            db.session.add(fund)
            db.session.flush()
            default = SANYA_OPENING_FEN if code == SANYA else OTHER_OPENING_FEN
            amount = opening_fen.get(code, default) if demo else 0
            if amount > 0:
                contribute(
                    fund,
                    amount,
                    key=f"seed:fund:{code}:opening",
                    actor=SYSTEM,
                    now=now,
                    memo="demo opening balance",
                )
        funds.append(fund)
    if demo:
        _seed_agency_deposits(now)
    db.session.flush()
    return funds


def _seed_agency_deposits(now) -> None:
    agency_ids = db.session.scalars(
        select(Outlet.enterprise_id)
        .where(Outlet.category == Category.TRAVEL_AGENCY)
        .distinct()
        .order_by(Outlet.enterprise_id)
    )
    for enterprise_id in agency_ids:
        key = f"seed:deposit:{enterprise_id}"
        if not transaction_exists(key):
            lodge_deposit(
                enterprise_id, DOMESTIC_AGENCY_DEPOSIT_FEN, key=key, actor=SYSTEM, now=now
            )
