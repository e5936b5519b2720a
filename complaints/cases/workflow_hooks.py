"""Entry points other features call when something happens to a case outside the workflow."""

from datetime import datetime

from complaints.cases.models import Case
from complaints.cases.workflow import route
from workflows.states import CaseState


def phone_verified(case: Case, now: datetime) -> None:
    """Order 121: a complaint is handled once the complainant's identity is verified."""
    first_time = case.phone_verified_at is None
    case.phone_verified_at = now
    if first_time and case.state is CaseState.SUBMITTED:
        route(case, now)
