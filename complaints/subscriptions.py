"""The composition root's wiring of domain events to the features that react to them.

Order matters where one reaction reads another's writes: notices are queued before the
credit mapping runs, as they were when both were called from `fire`.
"""

from complaints import events
from complaints.credit.services import on_case_transition
from complaints.notices.services import announce


def queue_notices(event: events.CaseTransitioned) -> None:
    announce(event.case, event.trigger)


def record_credit(event: events.CaseTransitioned) -> None:
    on_case_transition(event.case, event.trigger, event.now)


# A case outcome that finds the merchant liable (a mediation agreement: the complaint was
# substantiated) turns a small claim paid without freezing into the merchant's debt.
LIABILITY_TRIGGERS = frozenset({"record_agreement"})


def charge_small_claim_when_liable(event: events.CaseTransitioned) -> None:
    if event.trigger in LIABILITY_TRIGGERS:
        from complaints.compensation.recovery import hold_merchant_liable

        hold_merchant_liable(event.case, now=event.now)


def register_subscribers() -> None:
    events.subscribe(events.CaseTransitioned, queue_notices)
    events.subscribe(events.CaseTransitioned, record_credit)
    events.subscribe(events.CaseTransitioned, charge_small_claim_when_liable)
