"""The workflow's reactions to things that happen to a case outside a transition."""

from complaints.cases.workflow import route
from complaints.events import PhoneVerified
from workflows.states import CaseState


def route_when_verified(event: PhoneVerified) -> None:
    """A verified complaint still waiting for it goes to the merchant or the regulator."""
    if event.case.state is CaseState.SUBMITTED:
        route(event.case, event.now)
