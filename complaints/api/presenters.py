"""Cases, claims and merchants as the API shows them, per audience (who holds the key)."""

from datetime import datetime

from complaints.api.scope import is_regulator
from complaints.cases.models import Case
from complaints.cases.workflow import available_actions
from complaints.presentation import mask_phone
from complaints.timers.models import CaseDeadline
from complaints.timers.services import open_deadline_for
from workflows.states import Role


def deadline_dict(deadline: CaseDeadline | None) -> dict | None:
    if deadline is None:
        return None
    return {
        "kind": str(deadline.kind),
        "due_at": deadline.due_at,
        "provisional": deadline.provisional,
    }


def case_summary(case: Case, deadline: CaseDeadline | None) -> dict:
    return {
        "number": case.number,
        "state": str(case.state),
        "category": str(case.category),
        "source": str(case.source),
        "enterprise": {
            "uscc": case.enterprise.uscc,
            "name_zh": case.enterprise.name_zh,
            "name_en": case.enterprise.name_en,
        },
        "outlet_code": case.outlet.code if case.outlet_id else None,
        "division_code": case.division_code,
        "agency": case.agency.slug if case.agency_id else None,
        "amount_claimed_fen": case.amount_claimed_fen,
        "created_at": case.created_at,
        "state_entered_at": case.state_entered_at,
        "deadline": deadline_dict(deadline),
    }


def case_detail(case: Case, role: Role, now: datetime) -> dict:
    regulator = is_regulator()
    body = case_summary(case, open_deadline_for(case.id))
    body.update(
        description=case.description,
        occurred_on=case.occurred_on,
        amount_paid_fen=case.amount_paid_fen,
        remedy=str(case.remedy),
        # A merchant never sees the tourist's number in full (DESIGN: audiences).
        tourist={
            "name": case.tourist_name if regulator else case.tourist_name[:1] + "*",
            "phone": case.tourist_phone if regulator else mask_phone(case.tourist_phone),
            "language": case.language,
            "phone_verified": case.phone_verified_at is not None,
        },
        timeline=[
            {
                "seq": event.seq,
                "at": event.created_at,
                "trigger": event.trigger,
                "from_state": str(event.from_state) if event.from_state else None,
                "to_state": str(event.to_state),
                "reason": event.reason,
            }
            for event in case.events
        ],
        available_triggers=[t.trigger for t in available_actions(case, role, now)],
    )
    return body
