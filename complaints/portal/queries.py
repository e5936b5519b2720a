"""Reading for a merchant: the one scoped lookup per kind of thing, and the dashboard.

Every portal read of a case, outlet or file goes through a `..._for_merchant` function here,
which answers 404 for anything of another enterprise, so a guessed id reveals nothing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort
from sqlalchemy import func, select

from complaints.accounts.models import Account, AccountRole
from complaints.cases.models import Case, CaseEvent, Evidence
from complaints.extensions import db
from complaints.merchants.models import Outlet
from complaints.notices.models import SatisfactionRating
from complaints.portal.models import DisputeEvidence, Offer, OfferStatus
from complaints.timers.models import CaseDeadline
from workflows.states import OPEN_STATES, CaseState

OUTCOME_WINDOW = timedelta(days=90)
NEAR = timedelta(hours=6)  # merchant limits are counted in hours: warn well before the end


def case_for_merchant(number: str, account: Account) -> Case:
    """The case, if it is against the account's enterprise and was sent on; otherwise 404.

    A case still `submitted` (the tourist has not confirmed the phone) has been routed to
    no one yet, so the merchant cannot see it either.
    """
    case = db.session.scalar(select(Case).where(Case.number == number))
    if (
        case is None
        or account.enterprise_id is None
        or case.enterprise_id != account.enterprise_id
        or case.state is CaseState.SUBMITTED
    ):
        abort(404)
    return case


def outlet_for_merchant(code: str, account: Account) -> Outlet:
    outlet = db.session.scalar(select(Outlet).where(Outlet.code == code))
    if (
        outlet is None
        or account.enterprise_id is None
        or outlet.enterprise_id != account.enterprise_id
    ):
        abort(404)
    return outlet


def tourist_evidence_for_merchant(case: Case, evidence_id: int) -> Evidence:
    """A file the tourist sent with `case` (already scoped by case_for_merchant)."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.case_id != case.id:
        abort(404)
    return evidence


def dispute_evidence_for_merchant(case: Case, item_id: int) -> DisputeEvidence:
    item = db.session.get(DisputeEvidence, item_id)
    if item is None or item.case_id != case.id or item.enterprise_id != case.enterprise_id:
        abort(404)
    return item


def staff_of(enterprise_id: int) -> list[Account]:
    return list(
        db.session.scalars(
            select(Account)
            .where(
                Account.enterprise_id == enterprise_id,
                Account.role.in_((AccountRole.MERCHANT_OWNER, AccountRole.MERCHANT_STAFF)),
            )
            .order_by(Account.role, Account.name)
        )
    )


def outlets_of(enterprise_id: int) -> list[Outlet]:
    return list(
        db.session.scalars(
            select(Outlet).where(Outlet.enterprise_id == enterprise_id).order_by(Outlet.id)
        )
    )


# --- the dashboard -----------------------------------------------------------------------


@dataclass(frozen=True)
class OpenCase:
    case: Case
    deadline: CaseDeadline | None
    time_left: timedelta | None  # negative once overdue

    @property
    def overdue(self) -> bool:
        return self.time_left is not None and self.time_left <= timedelta(0)

    @property
    def near(self) -> bool:
        return self.time_left is not None and not self.overdue and self.time_left <= NEAR

    @property
    def merchants_turn(self) -> bool:
        return self.case.state is CaseState.MERCHANT_RESPONSE


def open_cases(enterprise_id: int, now: datetime, limit: int = 200) -> list[OpenCase]:
    """Open cases: those waiting for the merchant by nearest deadline, then the ones with
    the regulator (their deadline is the regulator's, shown for information)."""
    rows = db.session.execute(
        select(Case, CaseDeadline)
        .outerjoin(
            CaseDeadline,
            (CaseDeadline.case_id == Case.id) & CaseDeadline.closed_at.is_(None),
        )
        .where(
            Case.enterprise_id == enterprise_id,
            Case.state.in_(OPEN_STATES - {CaseState.SUBMITTED}),
        )
        # The merchant's own turn first (its clock is the one it can beat), then the rest.
        .order_by(
            Case.state != CaseState.MERCHANT_RESPONSE,
            CaseDeadline.due_at.is_(None),
            CaseDeadline.due_at,
            Case.id,
        )
        .limit(limit)
    ).all()
    return [
        OpenCase(case, deadline, deadline.due_at - now if deadline else None)
        for case, deadline in rows
    ]


# What ended the merchant's turn, and what the regulator decided, by the event that did it.
OUTCOME_TRIGGERS = (
    "merchant_refund",
    "tourist_accept_offer",
    "tourist_reject_offer",
    "merchant_dispute",
    "merchant_deadline_passed",
    "record_agreement",
    "decline",
    "terminate",
    "withdraw",
)


@dataclass(frozen=True)
class Outcomes:
    counts: dict[str, int]
    settled_fen: int  # refunds and accepted offers
    ratings: int
    average_rating: float | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def outcomes(enterprise_id: int, now: datetime) -> Outcomes:
    since = now - OUTCOME_WINDOW
    counted = dict(
        db.session.execute(
            select(CaseEvent.trigger, func.count(CaseEvent.id))
            .join(Case, Case.id == CaseEvent.case_id)
            .where(
                Case.enterprise_id == enterprise_id,
                CaseEvent.trigger.in_(OUTCOME_TRIGGERS),
                CaseEvent.created_at >= since,
            )
            .group_by(CaseEvent.trigger)
        ).all()
    )
    settled = db.session.scalar(
        select(func.coalesce(func.sum(Offer.amount_fen), 0))
        .join(Case, Case.id == Offer.case_id)
        .where(
            Case.enterprise_id == enterprise_id,
            Offer.status == OfferStatus.ACCEPTED,
            func.coalesce(Offer.answered_at, Offer.made_at) >= since,
        )
    )
    rated, average = db.session.execute(
        select(func.count(SatisfactionRating.id), func.avg(SatisfactionRating.score))
        .join(Case, Case.id == SatisfactionRating.case_id)
        .where(Case.enterprise_id == enterprise_id, SatisfactionRating.created_at >= since)
    ).one()
    return Outcomes(
        counts={trigger: counted.get(trigger, 0) for trigger in OUTCOME_TRIGGERS},
        settled_fen=int(settled or 0),
        ratings=int(rated or 0),
        average_rating=round(float(average), 1) if average is not None else None,
    )
