"""Domain events as webhook events: which type, what data, who may receive it.

No personal data leaves here: a case is named by its number, category, states and agency;
the receiver reads more through the API with its key (and its permissions).
"""

from complaints import events
from complaints.hooks_out.services import record_event
from workflows.states import CaseState

ROUTING_TRIGGERS = {"route_to_merchant", "route_to_regulator"}
CLAIM_TYPES = {
    "approve": "compensation.approved",
    "auto_approve": "compensation.approved",
    "pay": "compensation.paid",
    "mark_overdue": "compensation.recovery_overdue",
}


def _case_data(case) -> dict:
    return {
        "case_number": case.number,
        "state": str(case.state),
        "category": str(case.category),
        "agency": case.agency.slug if case.agency_id else None,
        "enterprise_uscc": case.enterprise.uscc,
        "outlet_code": case.outlet.code if case.outlet_id else None,
    }


def _merchant_sees(case) -> int | None:
    # The portal hides a case until it was sent on (portal.queries.case_for_merchant).
    return None if case.state is CaseState.SUBMITTED else case.enterprise_id


def on_case_filed(event: events.CaseFiled) -> None:
    case = event.case
    record_event(
        "case.filed",
        _case_data(case) | {"source": str(case.source)},
        ordering_key=case.number,
        now=event.now,
        agency_id=case.agency_id,
    )


def on_case_transitioned(event: events.CaseTransitioned) -> None:
    if event.trigger in ROUTING_TRIGGERS:
        kind = "case.routed"
    elif event.trigger == "merchant_offer":
        kind = "case.offer_made"
    elif event.from_state != event.to_state:
        kind = "case.state_changed"
    else:
        return
    case = event.case
    record_event(
        kind,
        _case_data(case)
        | {
            "trigger": event.trigger,
            "from_state": str(event.from_state) if event.from_state else None,
            "to_state": str(event.to_state),
            "seq": event.record.seq,
        },
        ordering_key=case.number,
        now=event.now,
        agency_id=case.agency_id,
        enterprise_id=_merchant_sees(case),
    )


def on_message_posted(event: events.MessagePosted) -> None:
    case, message = event.case, event.message
    record_event(
        "case.message_posted",
        _case_data(case) | {"message_id": message.id, "author_role": str(message.author_role)},
        ordering_key=case.number,
        now=event.now,
        agency_id=case.agency_id if message.visible_to_regulator else None,
        enterprise_id=_merchant_sees(case) if message.visible_to_merchant else None,
    )


def on_claim_transitioned(event: events.ClaimTransitioned) -> None:
    kind = CLAIM_TYPES.get(event.trigger)
    if kind is None:
        return
    claim = event.claim
    from complaints.cases.models import Case
    from complaints.extensions import db

    case = db.session.get(Case, claim.case_id)
    record_event(
        kind,
        _case_data(case)
        | {"claim_id": claim.id, "claim_state": str(claim.state), "amount_fen": claim.amount_fen},
        ordering_key=case.number,
        now=event.now,
        agency_id=case.agency_id,
        enterprise_id=claim.enterprise_id,
    )


def _uscc(enterprise_id: int) -> str:
    from complaints.extensions import db
    from complaints.merchants.models import Enterprise

    return db.session.get(Enterprise, enterprise_id).uscc


def on_grade_changed(event: events.GradeChanged) -> None:
    uscc = _uscc(event.enterprise_id)
    record_event(
        "merchant.grade_changed",
        {
            "uscc": uscc,
            "old_grade": event.old_grade,
            "new_grade": event.new_grade,
            "score": event.score,
        },
        ordering_key=f"enterprise:{uscc}",
        now=event.now,
        enterprise_id=event.enterprise_id,
        public=True,
    )


def on_serious_list_changed(event: events.SeriousListChanged) -> None:
    uscc = _uscc(event.enterprise_id)
    record_event(
        "merchant.serious_list_entered" if event.entered else "merchant.serious_list_left",
        {"uscc": uscc, "since": event.since.isoformat() if event.since else None},
        ordering_key=f"enterprise:{uscc}",
        now=event.now,
        enterprise_id=event.enterprise_id,
        public=True,
    )
