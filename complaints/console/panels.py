"""The case page's panels fed by other features: the merchant's dispute evidence, the message
thread, the tourist's rating, possible duplicates, the delivery log and the merchant's code
rotations. Read-only; the routes that act on them are in complaints.console.extras_views.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from complaints.accounts.models import Account
from complaints.cases.models import Case
from complaints.console.deliveries import DeliveryRow, case_deliveries
from complaints.console.presenters import ROLE_LABELS, STATE_LABELS
from complaints.duplicates.models import DuplicateFlag
from complaints.duplicates.services import open_flags_for
from complaints.extensions import db
from complaints.merchants.models import Outlet
from complaints.notices.models import Audience
from complaints.portal import services as portal
from complaints.portal.messages import can_post
from complaints.portal.models import DisputeEvidence
from complaints.portal.presenters import KIND_LABELS as KIND_LABELS  # re-exported for templates
from complaints.portal.ratings import RatingView
from workflows.machine import CASE_TRANSITIONS
from workflows.states import Role

ROTATIONS_SHOWN = 20

# Who may judge a possible duplicate: whoever the table lets merge one.
DUPLICATE_JUDGES = next(t.roles for t in CASE_TRANSITIONS if t.trigger == "merge_into")

DUPLICATE_REASON_LABELS = {
    "same_phone": _l("Same phone number within a week"),
    "same_outlet_similar_text": _l("Same outlet and category, similar story"),
}

# The message form's choices, and whom each lets read the message. The author's own
# audience (regulators) is always added by post_message.
VISIBILITY = {
    "everyone": frozenset(Audience),
    "merchant": frozenset({Audience.MERCHANT}),
    "tourist": frozenset({Audience.TOURIST}),
    "regulators": frozenset({Audience.REGULATOR}),
}
VISIBILITY_LABELS = {
    "everyone": _l("Everyone (tourist, merchant, regulators)"),
    "merchant": _l("Merchant only (and regulators)"),
    "tourist": _l("Tourist only (and regulators)"),
    "regulators": _l("Regulators only"),
}
AUDIENCE_NAMES = {
    Audience.TOURIST: _l("tourist"),
    Audience.MERCHANT: _l("merchant"),
    Audience.REGULATOR: _l("regulators"),
}


@dataclass(frozen=True)
class MessageEntry:
    at: datetime
    author: str
    body: str
    seen_by: list
    from_regulator: bool


@dataclass(frozen=True)
class DuplicateView:
    flag_id: int
    other_number: str
    same_agency: bool
    other_state: object
    other_is_newer: bool
    reasons: list
    similarity_percent: int


@dataclass(frozen=True)
class RotationView:
    at: datetime
    outlet: str
    versions: tuple[int, int]
    who: str
    reason: str


@dataclass(frozen=True)
class CasePanels:
    dispute_evidence: list[DisputeEvidence]
    thread: list[MessageEntry]
    can_post: bool
    rating: RatingView | None
    duplicates: list[DuplicateView]
    can_judge_duplicates: bool
    deliveries: list[DeliveryRow]
    rotations: list[RotationView]


def case_panels(case: Case, account: Account, locale: str) -> CasePanels:
    return CasePanels(
        dispute_evidence=portal.submitted_dispute_evidence(case),
        thread=regulator_thread(case),
        can_post=can_post(case),
        rating=portal.rating_for(case),
        duplicates=duplicates_of(case, account),
        can_judge_duplicates=account.role.workflow_role in DUPLICATE_JUDGES,
        deliveries=case_deliveries(case),
        rotations=rotations_of(case, locale),
    )


def regulator_thread(case: Case) -> list[MessageEntry]:
    """The thread as regulators read it: every author by name, and who else can read each."""
    thread = portal.messages_for(case, Audience.REGULATOR)
    names = _names_of({m.author_account_id for m in thread if m.author_account_id is not None})
    entries = []
    for message in thread:
        author = str(ROLE_LABELS.get(message.author_role, message.author_role))
        if message.author_account_id in names:
            author = f"{author} · {names[message.author_account_id]}"
        seen_by = [
            AUDIENCE_NAMES[audience]
            for audience, visible in (
                (Audience.TOURIST, message.visible_to_tourist),
                (Audience.MERCHANT, message.visible_to_merchant),
                (Audience.REGULATOR, message.visible_to_regulator),
            )
            if visible
        ]
        entries.append(
            MessageEntry(
                at=message.created_at,
                author=author,
                body=message.body,
                seen_by=seen_by,
                from_regulator=message.author_role not in (Role.TOURIST, Role.MERCHANT),
            )
        )
    return entries


def duplicates_of(case: Case, account: Account) -> list[DuplicateView]:
    """Open flags naming this case, newer or older side. Another agency's case is named but
    neither linked nor described: its state is that agency's business."""
    views = []
    for flag in open_flags_for(case.id):
        other = _other_case(flag, case)
        same_agency = other.agency_id == account.agency_id
        views.append(
            DuplicateView(
                flag_id=flag.id,
                other_number=other.number,
                same_agency=same_agency,
                other_state=STATE_LABELS.get(other.state) if same_agency else None,
                other_is_newer=flag.case_id == other.id,
                reasons=[
                    DUPLICATE_REASON_LABELS.get(reason, reason)
                    for reason in flag.reasons.split(",")
                    if reason
                ],
                similarity_percent=round(flag.text_similarity * 100),
            )
        )
    return views


def _other_case(flag: DuplicateFlag, case: Case) -> Case:
    return flag.earlier_case if flag.case_id == case.id else flag.case


def rotations_of(case: Case, locale: str) -> list[RotationView]:
    """The merchant's QR code replacements, newest first: a code replaced right after a bad
    review or complaint is worth a regulator's look."""
    rotations = portal.code_rotations(case.enterprise_id, limit=ROTATIONS_SHOWN)
    if not rotations:
        return []
    outlets = {
        outlet.id: outlet.name(locale)
        for outlet in db.session.scalars(
            select(Outlet).where(Outlet.id.in_({r.outlet_id for r in rotations}))
        )
    }
    names = _account_names(r.actor for r in rotations)
    return [
        RotationView(
            at=rotation.created_at,
            outlet=outlets.get(rotation.outlet_id, ""),
            versions=(rotation.old_version, rotation.new_version),
            who=names.get(rotation.actor, rotation.actor),
            reason=rotation.reason,
        )
        for rotation in rotations
    ]


def _account_names(actors) -> dict[str, str]:
    """'merchant:42' -> 'Merchant · Chen Hai'; other actor strings are shown as recorded."""
    ids = {}
    for actor in actors:
        kind, _sep, number = actor.partition(":")
        if kind == "merchant" and number.isdigit():
            ids[int(number)] = actor
    label = ROLE_LABELS[Role.MERCHANT]
    return {ids[account_id]: f"{label} · {name}" for account_id, name in _names_of(ids).items()}


def _names_of(account_ids) -> dict[int, str]:
    """Account names in one query, however many messages or rotations name them."""
    if not account_ids:
        return {}
    query = select(Account.id, Account.name).where(Account.id.in_(set(account_ids)))
    return dict(db.session.execute(query).all())
