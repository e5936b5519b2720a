"""What each audience sees of a case. The tourist's view: state, public timeline, next step."""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from complaints.cases.models import Case
from complaints.cases.reasons import readable_reason
from complaints.presentation import limit_text
from complaints.timers.services import current_policy
from workflows.states import CaseState, DeadlineKind

STATE_LABELS = {
    CaseState.SUBMITTED: _l("Received"),
    CaseState.MERCHANT_RESPONSE: _l("Waiting for the merchant's answer"),
    CaseState.REGULATOR_REVIEW: _l("Being reviewed by the regulator"),
    CaseState.MEDIATION: _l("In mediation"),
    CaseState.RESOLVED: _l("Resolved"),
    CaseState.DECLINED: _l("Not accepted"),
    CaseState.TERMINATED: _l("Mediation ended"),
    CaseState.WITHDRAWN: _l("Withdrawn"),
    CaseState.CLOSED: _l("Closed"),
}

NEXT_STEPS = {
    CaseState.SUBMITTED: _l(
        "Your complaint is being routed to the merchant and the market regulator for this "
        "area. You will get a text message at each step."
    ),
    CaseState.MERCHANT_RESPONSE: _l(
        "The merchant has been asked to answer. If they do not answer in time, the regulator "
        "takes over automatically."
    ),
    CaseState.MEDIATION: _l("The regulator is mediating between you and the merchant."),
    CaseState.RESOLVED: _l("The complaint was resolved. It will be closed shortly."),
    CaseState.DECLINED: _l("The regulator did not accept the complaint; the reason is below."),
    CaseState.TERMINATED: _l("Mediation ended without agreement; the reason is below."),
    CaseState.WITHDRAWN: _l("You withdrew the complaint."),
    CaseState.CLOSED: _l("This case is closed."),
}

TRIGGER_LABELS = {
    "submit": _l("Complaint received"),
    "deadline_recomputed": _l("A date moved after a correction of the official calendar"),
    "evidence_added": _l("Evidence added"),
}


@dataclass(frozen=True)
class TimelineEntry:
    at: object
    label: object
    reason: str


def tracking_view(case: Case) -> dict:
    timeline = [
        TimelineEntry(
            at=event.created_at,
            label=TRIGGER_LABELS.get(event.trigger, STATE_LABELS[event.to_state]),
            reason=readable_reason(event.trigger, event.reason),
        )
        for event in case.events
    ]
    # The time limits quoted are this case's policy (its agency and category), never constants.
    if case.state is CaseState.REGULATOR_REVIEW:
        limit = current_policy(case).limit_for(DeadlineKind.ACCEPTANCE_DECISION)
        next_step = _(
            "The regulator decides whether to accept the complaint within %(limit)s.",
            limit=limit_text(limit),
        )
    else:
        next_step = NEXT_STEPS[case.state]
    return {
        "case": case,
        "state_label": STATE_LABELS[case.state],
        "next_step": next_step,
        "timeline": timeline,
    }
