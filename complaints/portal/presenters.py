"""What a merchant reads, and what the tourist's tracking page adds (the tourist panel).

Merchants see the whole public record of their case but not the regulator's internal
bookkeeping (who was assigned, escalations to a supervisor) nor regulator staff's names.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from complaints.accounts.models import Account
from complaints.cases.added_evidence import TOURIST_KIND_LABELS
from complaints.cases.models import Case
from complaints.cases.reasons import readable_reason
from complaints.console.presenters import ROLE_LABELS, STATE_LABELS, TRIGGER_LABELS, ground_label
from complaints.extensions import db
from complaints.notices.models import Audience
from complaints.portal import messages, ratings, services
from complaints.portal.models import CaseMessage, Offer, OfferStatus
from complaints.presentation import mask_phone
from complaints.timers.services import open_deadline_for
from workflows.states import Role

MERCHANT_HIDDEN_TRIGGERS = frozenset({"assign", "escalate"})

# One set of labels for every party's files (merchant's dispute evidence, tourist's evidence).
KIND_LABELS = TOURIST_KIND_LABELS

OFFER_STATUS_LABELS = {
    OfferStatus.OPEN: _l("Waiting for the tourist"),
    OfferStatus.ACCEPTED: _l("Accepted"),
    OfferStatus.REJECTED: _l("Rejected"),
    OfferStatus.SUPERSEDED: _l("Replaced"),
    OfferStatus.LAPSED: _l("Lapsed"),
}

OUTCOME_LABELS = {
    "merchant_refund": _l("Refunded"),
    "tourist_accept_offer": _l("Offer accepted"),
    "tourist_reject_offer": _l("Offer rejected"),
    "merchant_dispute": _l("Disputed"),
    "merchant_deadline_passed": _l("Missed the deadline"),
    "record_agreement": _l("Agreement in mediation"),
    "decline": _l("Not accepted by the regulator"),
    "terminate": _l("Mediation ended"),
    "withdraw": _l("Withdrawn by the tourist"),
}

AUTHOR_LABELS = {
    Role.TOURIST: _l("Tourist"),
    Role.MERCHANT: _l("Merchant"),
    Role.HANDLER: _l("Regulator"),
    Role.SUPERVISOR: _l("Regulator"),
    Role.FUND_MANAGER: _l("Regulator"),
    Role.ADMIN: _l("Regulator"),
}


def time_left(delta: timedelta | None) -> str:
    """'5 h 20 min left', '2 d 3 h left' or 'overdue by 40 min': hours matter here."""
    if delta is None:
        return ""
    overdue = delta <= timedelta(0)
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        span = _("%(d)d d %(h)d h", d=days, h=hours)
    else:
        span = _("%(h)d h %(m)02d min", h=hours, m=mins)
    return _("overdue by %(span)s", span=span) if overdue else _("%(span)s left", span=span)


def tourist_phone_for_merchant(case: Case) -> str:
    """In full only when the tourist agreed to be contacted; otherwise 138****1234."""
    return case.tourist_phone if case.contact_consent else mask_phone(case.tourist_phone)


def tourist_name_for_merchant(case: Case) -> str:
    """The name only with the tourist's consent, as the consent box promises (issue 11.15)."""
    return case.tourist_name if case.contact_consent else str(_("Withheld by the tourist"))


@dataclass(frozen=True)
class MerchantEvent:
    at: datetime
    label: object
    state: object
    actor: str
    reason: str
    ground: str


def merchant_timeline(case: Case) -> list[MerchantEvent]:
    events = [e for e in case.events if e.trigger not in MERCHANT_HIDDEN_TRIGGERS]
    own_staff = _own_staff_names(case, events)
    entries = []
    for event in events:
        actor = str(ROLE_LABELS.get(event.actor_role, event.actor_role))
        if event.actor_role is Role.MERCHANT and event.actor_id in own_staff:
            actor = f"{actor} · {own_staff[event.actor_id]}"
        entries.append(
            MerchantEvent(
                at=event.created_at,
                label=TRIGGER_LABELS.get(event.trigger, event.trigger),
                state=STATE_LABELS.get(event.to_state, event.to_state),
                actor=actor,
                reason=readable_reason(event.trigger, event.reason),
                ground=ground_label(event.ground, case.created_at),
            )
        )
    return entries


def _own_staff_names(case: Case, events) -> dict[str, str]:
    ids = {
        int(e.actor_id)
        for e in events
        if e.actor_role is Role.MERCHANT and (e.actor_id or "").isdigit()
    }
    if not ids:
        return {}
    rows = db.session.execute(
        select(Account.id, Account.name).where(
            Account.id.in_(ids), Account.enterprise_id == case.enterprise_id
        )
    ).all()
    return {str(account_id): name for account_id, name in rows}


@dataclass(frozen=True)
class ThreadEntry:
    at: datetime
    author: str
    body: str
    mine: bool
    regulator_only: bool


def thread(case: Case, audience: Audience) -> list[ThreadEntry]:
    entries = []
    for message in messages.messages_for(case, audience):
        author = str(AUTHOR_LABELS.get(message.author_role, message.author_role))
        if (
            audience is Audience.MERCHANT
            and message.author_role is Role.MERCHANT
            and message.author
        ):
            author = f"{author} · {message.author.name}"
        entries.append(
            ThreadEntry(
                at=message.created_at,
                author=author,
                body=message.body,
                mine=messages.audience_of(message.author_role) is audience,
                regulator_only=_regulator_only(message),
            )
        )
    return entries


def _regulator_only(message: CaseMessage) -> bool:
    return not message.visible_to_tourist and message.visible_to_merchant


@dataclass(frozen=True)
class TouristPanel:
    """Everything templates/_tourist_actions.html shows under the tracking page's state."""

    offer: Offer | None  # waiting for the tourist's answer
    last_offer: Offer | None
    last_offer_status: object
    can_rate: bool
    rating: ratings.RatingView | None
    thread: list[ThreadEntry]
    can_post: bool
    answer_by: datetime | None = None  # the running deadline the open offer lapses at


def tourist_panel(case: Case) -> TouristPanel:
    """A template global, so the tracking page gets the panel without its view knowing."""
    last = services.latest_offer(case)
    rating = ratings.rating_for(case)
    offer = services.open_offer(case)
    deadline = open_deadline_for(case.id) if offer is not None else None
    return TouristPanel(
        answer_by=deadline.due_at if deadline is not None else None,
        offer=offer,
        last_offer=last,
        last_offer_status=OFFER_STATUS_LABELS[services.shown_status(last, case)] if last else None,
        can_rate=case.state in ratings.RATEABLE_STATES and rating is None,
        rating=rating,
        thread=thread(case, Audience.TOURIST),
        can_post=messages.can_post(case),
    )
