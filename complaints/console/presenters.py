"""What a regulator reads: labels for states, triggers, roles, deadlines and legal grounds."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from complaints.accounts.models import Account
from complaints.cases.forms import REMEDY_LABELS as REMEDY_LABELS  # re-exported for templates
from complaints.cases.models import Case, CaseEvent
from complaints.cases.reasons import DEADLINE_LABELS as DEADLINE_LABELS  # re-exported
from complaints.cases.reasons import readable_reason
from complaints.clock import local_today
from complaints.extensions import db
from complaints.presentation import legal_basis_label
from complaints.timers.models import CaseDeadline
from workflows.grounds import DeclineGround, TerminationGround
from workflows.states import CaseState, DeadlineKind, Role

NEAR = timedelta(hours=24)

STATE_LABELS = {
    CaseState.SUBMITTED: _l("Submitted"),
    CaseState.MERCHANT_RESPONSE: _l("Merchant to answer"),
    CaseState.REGULATOR_REVIEW: _l("Regulator review"),
    CaseState.MEDIATION: _l("Mediation"),
    CaseState.RESOLVED: _l("Resolved"),
    CaseState.DECLINED: _l("Declined"),
    CaseState.TERMINATED: _l("Mediation terminated"),
    CaseState.WITHDRAWN: _l("Withdrawn"),
    CaseState.CLOSED: _l("Closed"),
}

# Buttons on the case page and lines in the timeline.
TRIGGER_LABELS = {
    "submit": _l("Complaint filed"),
    "identity_not_verified": _l("Not accepted: identity never verified"),
    "deadline_recomputed": _l("Deadline moved by a calendar correction"),
    "evidence_added": _l("Evidence added"),
    "route_to_merchant": _l("Sent to the merchant"),
    "route_to_regulator": _l("Sent to the regulator"),
    "merchant_refund": _l("Merchant refunded"),
    "merchant_offer": _l("Merchant made an offer"),
    "tourist_accept_offer": _l("Tourist accepted the offer"),
    "tourist_reject_offer": _l("Tourist rejected the offer"),
    "merchant_dispute": _l("Merchant disputed"),
    "merchant_deadline_passed": _l("Merchant did not answer in time"),
    "assign": _l("Assign"),
    "accept": _l("Accept"),
    "decline": _l("Decline"),
    "transfer": _l("Transfer"),
    "pause_for_appraisal": _l("Pause for testing or appraisal"),
    "resume_after_appraisal": _l("Resume after appraisal"),
    "record_agreement": _l("Record agreement"),
    "terminate": _l("Terminate mediation"),
    "escalate": _l("Escalated to the supervisor"),
    "withdraw": _l("Withdrawn by the tourist"),
    "close": _l("Close"),
    "reopen": _l("Reopen on appeal"),
}

ROLE_LABELS = {
    Role.TOURIST: _l("Tourist"),
    Role.MERCHANT: _l("Merchant"),
    Role.HANDLER: _l("Handler"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.FUND_MANAGER: _l("Fund manager"),
    Role.ADMIN: _l("Administrator"),
    Role.SYSTEM: _l("System"),
}


# Short translated names; the legal basis is shown beside them as the statute cites it.
GROUND_LABELS = {
    DeclineGround.OUTSIDE_REMIT_OR_JURISDICTION: _l("Outside our duties or jurisdiction"),
    DeclineGround.HANDLED_ELSEWHERE: _l("Already handled by a court, arbitration or another body"),
    DeclineGround.NOT_CONSUMER_DISPUTE: _l("Not a consumer dispute with this merchant"),
    DeclineGround.TIME_BARRED_3Y: _l("More than three years since the harm was known"),
    DeclineGround.MATERIALS_MISSING: _l("Required materials are missing"),
    DeclineGround.FALSE_IDENTITY: _l("False identity or material, or identity not verified"),
    DeclineGround.OTHER_LEGAL_GROUND: _l("Another ground provided by law"),
    TerminationGround.WITHDRAWN_OR_SETTLED: _l("Complaint withdrawn or parties settled"),
    TerminationGround.NO_AGREEMENT_ON_TESTING: _l("No agreement on testing or appraisal"),
    TerminationGround.PARTY_REFUSED: _l("A party refused mediation without good reason"),
    TerminationGround.AGREEMENT_IMPOSSIBLE: _l("A party said agreement is impossible"),
    TerminationGround.TIME_LIMIT_REACHED: _l("Mediation time limit passed"),
    TerminationGround.ACCEPTANCE_GROUND_APPEARED: _l("A ground for not accepting appeared"),
    TerminationGround.OTHER: _l("Another circumstance that ends mediation"),
}
GROUND_TYPES = (DeclineGround, TerminationGround)


def ground_label(value: str | None, received_at: datetime | None = None) -> str:
    """'label (legal basis)' for a stored ground value, or the raw value if unknown; cited
    under the rule in force when the complaint was received, when that is given."""
    if not value:
        return ""
    received_on = local_today(received_at) if received_at is not None else None
    for ground_type in GROUND_TYPES:
        if value in {member.value for member in ground_type}:
            ground = ground_type(value)
            return f"{GROUND_LABELS[ground]} ({legal_basis_label(ground, received_on)})"
    return value


@dataclass(frozen=True)
class DeadlineView:
    label: object
    due_at: datetime
    provisional: bool
    overdue: bool
    near: bool


def deadline_view(deadline: CaseDeadline | None, now: datetime) -> DeadlineView | None:
    if deadline is None:
        return None
    # An appeal window running out is not something anyone is late for.
    counts = deadline.kind is not DeadlineKind.APPEAL_WINDOW
    overdue = counts and deadline.due_at <= now
    return DeadlineView(
        label=DEADLINE_LABELS.get(deadline.kind, deadline.kind.value),
        due_at=deadline.due_at,
        provisional=deadline.provisional,
        overdue=overdue,
        near=counts and not overdue and deadline.due_at - now <= NEAR,
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    label: object
    from_state: object
    to_state: object
    actor: str
    reason: str
    ground: str


def timeline(case: Case) -> list[TimelineEntry]:
    events: list[CaseEvent] = list(case.events)
    ids = {int(e.actor_id) for e in events if e.actor_id and e.actor_id.isdigit()}
    names = (
        dict(db.session.execute(select(Account.id, Account.name).where(Account.id.in_(ids))).all())
        if ids
        else {}
    )
    entries = []
    for event in events:
        actor = str(ROLE_LABELS.get(event.actor_role, event.actor_role))
        if event.actor_id and event.actor_id.isdigit() and int(event.actor_id) in names:
            actor = f"{actor} · {names[int(event.actor_id)]}"
        entries.append(
            TimelineEntry(
                at=event.created_at,
                label=TRIGGER_LABELS.get(event.trigger, event.trigger),
                from_state=STATE_LABELS.get(event.from_state) if event.from_state else None,
                to_state=STATE_LABELS.get(event.to_state, event.to_state),
                actor=actor,
                reason=readable_reason(event.trigger, event.reason),
                ground=ground_label(event.ground, case.created_at),
            )
        )
    return entries
