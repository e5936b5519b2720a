"""The merchant stage of a case: refund, offer, dispute, and the tourist's answer to an offer.

The workflow table decides who may do what (complaints.cases.workflow.fire); these functions
add what the table does not carry: the amount and terms of an offer, the frozen dispute
evidence, and a reason on the event so the audit chain records what was agreed. Flush only:
the request commits.

messages_for, post_message and rating_for are re-exported: the regulator console reads the
thread and the tourist's rating through this module.
"""

import hashlib
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from complaints.accounts.models import Account
from complaints.cases.models import Case, CaseEvent
from complaints.cases.workflow import Actor, available_actions, fire
from complaints.extensions import db
from complaints.merchants.models import Outlet, OutletCodeRotation
from complaints.merchants.services import rotate_outlet_code
from complaints.portal.messages import messages_for as messages_for
from complaints.portal.messages import post_message as post_message
from complaints.portal.models import DisputeEvidence, Offer, OfferKind, OfferStatus
from complaints.portal.ratings import rating_for as rating_for
from complaints.presentation import format_money
from workflows.states import CaseState, Role

MERCHANT_TRIGGERS = ("merchant_refund", "merchant_offer", "merchant_dispute")


class PortalRefused(Exception):
    """An action was refused for a reason the person can fix or should know; `message` says it."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def actor_for(account: Account) -> Actor:
    return Actor(Role.MERCHANT, str(account.id))


def merchant_triggers(case: Case, now: datetime) -> list[str]:
    """The merchant actions the workflow table allows on this case now, in table order."""
    return [
        t.trigger
        for t in available_actions(case, Role.MERCHANT, now)
        if t.trigger in MERCHANT_TRIGGERS
    ]


def refund_limit_fen(case: Case) -> int:
    """A refund grants the claim: up to what was asked for, or what was paid if nothing was."""
    return case.amount_claimed_fen or case.amount_paid_fen


# --- the merchant's answers ----------------------------------------------------------------


def refund(case: Case, account: Account, amount_fen: int, now: datetime) -> CaseEvent:
    limit = refund_limit_fen(case)
    if amount_fen <= 0:
        raise PortalRefused(_l("Enter the amount you refund, more than zero."))
    if amount_fen > limit:
        raise PortalRefused(
            _l(
                "A refund can be at most %(limit)s, what the tourist asked for.",
                limit=format_money(limit),
            )
        )
    event = fire(
        case, "merchant_refund", actor_for(account), now=now,
        reason=f"Refund of {format_money(amount_fen)}",
    )  # fmt: skip
    _close_open_offer(case, OfferStatus.SUPERSEDED, now)
    db.session.add(
        Offer(
            case_id=case.id,
            kind=OfferKind.REFUND,
            amount_fen=amount_fen,
            made_by=account.id,
            made_at=now,
            status=OfferStatus.ACCEPTED,  # nothing for the tourist to answer
            answered_at=now,
        )
    )
    db.session.flush()
    return event


def make_offer(
    case: Case, account: Account, amount_fen: int | None, terms: str, now: datetime
) -> Offer:
    """A new offer replaces one still open: the tourist answers only the latest."""
    terms = (terms or "").strip()
    if not amount_fen and not terms:
        raise PortalRefused(_l("Offer an amount, terms, or both."))
    fire(
        case, "merchant_offer", actor_for(account), now=now, reason=offer_summary(amount_fen, terms)
    )
    _close_open_offer(case, OfferStatus.SUPERSEDED, now)
    offer = Offer(
        case_id=case.id,
        kind=OfferKind.OFFER,
        amount_fen=amount_fen or None,
        terms=terms,
        made_by=account.id,
        made_at=now,
        status=OfferStatus.OPEN,
    )
    db.session.add(offer)
    db.session.flush()
    return offer


def offer_summary(amount_fen: int | None, terms: str) -> str:
    """The words the audit chain keeps for an offer (English, like every event reason)."""
    parts = []
    if amount_fen:
        parts.append(format_money(amount_fen))
    if terms:
        parts.append(terms)
    return "Offer: " + " — ".join(parts)


def submit_dispute(case: Case, account: Account, reason: str, now: datetime) -> CaseEvent:
    """Submit the reason and every staged file, once; the files are frozen from then on.

    The event's reason ends with the files' kinds and a digest of their contents, so the
    hash chain also vouches for what the regulator was shown.
    """
    reason = (reason or "").strip()
    if not reason:
        raise PortalRefused(_l("Say why you dispute the complaint."))
    staged = staged_dispute_evidence(case)
    event = fire(
        case, "merchant_dispute", actor_for(account), now=now,
        reason=reason + evidence_summary(staged),
    )  # fmt: skip
    if staged:
        frozen = db.session.execute(
            update(DisputeEvidence)
            .where(
                DisputeEvidence.id.in_([item.id for item in staged]),
                DisputeEvidence.submitted_at.is_(None),
            )
            .values(submitted_at=now, dispute_event_id=event.id)
            .execution_options(synchronize_session="fetch")
        ).rowcount
        if frozen != len(staged):
            # A colleague removed a file between our read and this write: the summary in the
            # event would be wrong, so nothing is saved and the merchant looks again.
            raise PortalRefused(
                _l(
                    "The evidence list changed while you were submitting. Check it and submit again."
                )
            )
    _close_open_offer(case, OfferStatus.SUPERSEDED, now)
    db.session.flush()
    return event


def evidence_summary(items: list[DisputeEvidence]) -> str:
    if not items:
        return "\n\nEvidence: none attached."
    digest = hashlib.sha256("".join(sorted(item.sha256 for item in items)).encode()).hexdigest()
    kinds = ", ".join(item.kind.value for item in items)
    return f"\n\nEvidence: {len(items)} file(s) ({kinds}); sha256 {digest[:16]}"


def staged_dispute_evidence(case: Case) -> list[DisputeEvidence]:
    return list(
        db.session.scalars(
            select(DisputeEvidence)
            .where(DisputeEvidence.case_id == case.id, DisputeEvidence.submitted_at.is_(None))
            .order_by(DisputeEvidence.id)
        )
    )


def submitted_dispute_evidence(case: Case) -> list[DisputeEvidence]:
    """What the merchant submitted with its dispute: the regulator console shows these."""
    return list(
        db.session.scalars(
            select(DisputeEvidence)
            .where(DisputeEvidence.case_id == case.id, DisputeEvidence.submitted_at.is_not(None))
            .order_by(DisputeEvidence.id)
        )
    )


# --- the tourist's answer ------------------------------------------------------------------


def open_offer(case: Case) -> Offer | None:
    """The offer waiting for the tourist, while the case still waits for the merchant stage."""
    if case.state is not CaseState.MERCHANT_RESPONSE or not case.offer_pending:
        return None
    return db.session.scalar(
        select(Offer).where(Offer.case_id == case.id, Offer.status == OfferStatus.OPEN)
    )


def latest_offer(case: Case) -> Offer | None:
    return db.session.scalar(
        select(Offer)
        .where(Offer.case_id == case.id, Offer.kind == OfferKind.OFFER)
        .order_by(Offer.id.desc())
        .limit(1)
    )


def shown_status(offer: Offer, case: Case) -> OfferStatus:
    """An offer left open when the case moved on (deadline, withdrawal) can no longer be taken."""
    if offer.status is OfferStatus.OPEN and open_offer(case) is None:
        return OfferStatus.LAPSED
    return offer.status


def accept_offer(case: Case, offer_id: int | None, now: datetime) -> CaseEvent:
    offer = _the_offer_answered(case, offer_id)
    event = fire(
        case, "tourist_accept_offer", Actor(Role.TOURIST), now=now,
        reason="Accepted " + offer_summary(offer.amount_fen, offer.terms),
    )  # fmt: skip
    offer.status, offer.answered_at = OfferStatus.ACCEPTED, now
    db.session.flush()
    return event


def reject_offer(case: Case, offer_id: int | None, note: str, now: datetime) -> CaseEvent:
    offer = _the_offer_answered(case, offer_id)
    reason = "Rejected " + offer_summary(offer.amount_fen, offer.terms)
    if note and note.strip():
        reason += f"\n\nTourist: {note.strip()}"
    event = fire(case, "tourist_reject_offer", Actor(Role.TOURIST), now=now, reason=reason)
    offer.status, offer.answered_at = OfferStatus.REJECTED, now
    db.session.flush()
    return event


def _the_offer_answered(case: Case, offer_id: int | None) -> Offer:
    # The tourist answers the offer they read: if the merchant replaced it since, say so.
    offer = open_offer(case)
    if offer is None:
        raise PortalRefused(_l("There is no offer waiting for your answer any more."))
    if offer.id != offer_id:
        raise PortalRefused(
            _l("The merchant changed the offer. Read the new offer and answer again.")
        )
    return offer


def _close_open_offer(case: Case, status: OfferStatus, now: datetime) -> None:
    db.session.execute(
        update(Offer)
        .where(Offer.case_id == case.id, Offer.status == OfferStatus.OPEN)
        .values(status=status, answered_at=now)
        .execution_options(synchronize_session="fetch")
    )


# --- codes ---------------------------------------------------------------------------------


def rotate_code(outlet: Outlet, account: Account, reason: str) -> OutletCodeRotation:
    """Every printed code of the outlet stops working; the regulator sees who and why."""
    reason = (reason or "").strip()
    if not reason:
        raise PortalRefused(_l("Say why the code is replaced."))
    return rotate_outlet_code(outlet, actor=f"merchant:{account.id}", reason=reason)


def code_rotations(enterprise_id: int, limit: int = 100) -> list[OutletCodeRotation]:
    """The enterprise's code rotations, newest first (for the portal and the regulator)."""
    return list(
        db.session.scalars(
            select(OutletCodeRotation)
            .join(Outlet, Outlet.id == OutletCodeRotation.outlet_id)
            .where(Outlet.enterprise_id == enterprise_id)
            .order_by(OutletCodeRotation.id.desc())
            .limit(limit)
        )
    )
