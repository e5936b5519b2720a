"""Who may be paid first, and why not: each rule answers None or a reason code and message.

Every rule runs, so a tourist or fund manager sees all the reasons at once rather than one
per attempt. The fund's own balance is checked here for a clear answer; the payout enforces
it again with a conditional update, which is what actually keeps the fund from going negative.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from complaints.cases.models import Case
from complaints.clock import LOCAL_ZONE
from complaints.compensation import ledger
from complaints.compensation.models import AccountKind, Claim, Fund
from complaints.extensions import db
from complaints.presentation import format_money
from workflows.compensation import CASE_STATES_ALLOWING_CLAIMS
from workflows.states import CompensationState


@dataclass(frozen=True)
class Ineligible:
    code: str
    message: object  # a lazy string, translated when shown


@dataclass(frozen=True)
class ClaimRequest:
    case: Case
    fund: Fund | None
    amount_fen: int
    now: datetime


Rule = Callable[[ClaimRequest], Ineligible | None]


def fund_exists(req: ClaimRequest) -> Ineligible | None:
    if req.fund is None:
        return Ineligible("no_fund", _l("This city or county has no advance-compensation fund."))
    return None


def case_open_for_claims(req: ClaimRequest) -> Ineligible | None:
    if req.case.state not in CASE_STATES_ALLOWING_CLAIMS:
        return Ineligible(
            "case_state",
            _l(
                "Advance compensation can be asked for only while the merchant or the regulator "
                "is handling the complaint."
            ),
        )
    return None


def phone_verified(req: ClaimRequest) -> Ineligible | None:
    # Real-name claims only (Sanya's scheme): the tourist proved the phone with an SMS code.
    if getattr(req.case, "phone_verified_at", None) is None:
        return Ineligible(
            "phone_not_verified", _l("Confirm your phone number with the text-message code first.")
        )
    return None


def merchant_trusted(req: ClaimRequest) -> Ineligible | None:
    if not getattr(req.case.enterprise, "trusted", False):
        return Ineligible(
            "merchant_not_trusted",
            _l("The fund pays first only for merchants on the trusted-merchant list."),
        )
    return None


def has_evidence(req: ClaimRequest) -> Ineligible | None:
    if not req.case.evidence:
        return Ineligible(
            "no_evidence", _l("Attach at least one photo, receipt or contract to the complaint.")
        )
    return None


def amount_positive(req: ClaimRequest) -> Ineligible | None:
    if req.amount_fen <= 0:
        return Ineligible("amount_not_positive", _l("Enter an amount above zero."))
    return None


def within_amount_claimed(req: ClaimRequest) -> Ineligible | None:
    if req.amount_fen > req.case.amount_claimed_fen:
        return Ineligible(
            "above_amount_claimed",
            _l(
                "The amount is more than the complaint asks for (%(amount)s).",
                amount=format_money(req.case.amount_claimed_fen),
            ),
        )
    return None


def within_case_cap(req: ClaimRequest) -> Ineligible | None:
    if req.fund and req.amount_fen > req.fund.per_case_cap_fen:
        return Ineligible(
            "above_case_cap",
            _l(
                "The fund pays at most %(cap)s per complaint; larger disputes go to mediation.",
                cap=format_money(req.fund.per_case_cap_fen),
            ),
        )
    return None


def within_yearly_cap(req: ClaimRequest) -> Ineligible | None:
    if req.fund is None:
        return None
    already = claimed_this_year(req.fund.id, req.case.tourist_phone, req.now)
    if already + req.amount_fen > req.fund.per_tourist_yearly_cap_fen:
        return Ineligible(
            "above_yearly_cap",
            _l(
                "The fund pays one person at most %(cap)s a year; %(already)s is already claimed.",
                cap=format_money(req.fund.per_tourist_yearly_cap_fen),
                already=format_money(already),
            ),
        )
    return None


def no_live_claim(req: ClaimRequest) -> Ineligible | None:
    live = db.session.scalar(
        select(Claim.id).where(
            Claim.case_id == req.case.id, Claim.state != CompensationState.REJECTED
        )
    )
    if live is not None:
        return Ineligible("already_claimed", _l("Advance compensation was already asked for."))
    return None


def fund_can_pay(req: ClaimRequest) -> Ineligible | None:
    if req.fund is None:
        return None
    if ledger.balance_of(AccountKind.FUND_CASH, fund_id=req.fund.id) < req.amount_fen:
        return Ineligible(
            "fund_insufficient",
            _l("The fund cannot pay this amount now; the regulator will handle the complaint."),
        )
    return None


RULES: tuple[Rule, ...] = (
    fund_exists,
    case_open_for_claims,
    phone_verified,
    merchant_trusted,
    has_evidence,
    amount_positive,
    within_amount_claimed,
    within_case_cap,
    within_yearly_cap,
    no_live_claim,
    fund_can_pay,
)


def reasons_not_eligible(req: ClaimRequest) -> list[Ineligible]:
    return [reason for rule in RULES if (reason := rule(req)) is not None]


def claimed_this_year(fund_id: int, tourist_phone: str, now: datetime) -> int:
    """Live claims of one phone at one fund since 1 January, local time (Hainan)."""
    local = now.astimezone(LOCAL_ZONE)
    year_start = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    total = db.session.scalar(
        select(func.coalesce(func.sum(Claim.amount_fen), 0)).where(
            Claim.fund_id == fund_id,
            Claim.tourist_phone == tourist_phone,
            Claim.state != CompensationState.REJECTED,
            Claim.requested_at >= year_start,
        )
    )
    return int(total)
