"""The composition root's wiring of domain events to the features that react to them.

Order matters where one reaction reads another's writes: notices are queued before the
credit mapping runs, as they were when both were called from `fire`.
"""

from complaints import events
from complaints.credit.services import on_case_transition
from complaints.credit_exchange.services import record_grade_change, record_serious_list_change
from complaints.hooks_out import subscribers as webhooks
from complaints.notices.services import announce


def queue_notices(event: events.CaseTransitioned) -> None:
    announce(event.case, event.trigger)


def record_credit(event: events.CaseTransitioned) -> None:
    on_case_transition(event.case, event.trigger, event.now)


def register_subscribers() -> None:
    events.subscribe(events.CaseTransitioned, queue_notices)
    events.subscribe(events.CaseTransitioned, record_credit)
    events.subscribe(events.GradeChanged, record_grade_change)
    events.subscribe(events.SeriousListChanged, record_serious_list_change)
    # Webhook fan-out: one event row and one outbox message each; sending happens in jobs.
    events.subscribe(events.CaseFiled, webhooks.on_case_filed)
    events.subscribe(events.CaseTransitioned, webhooks.on_case_transitioned)
    events.subscribe(events.MessagePosted, webhooks.on_message_posted)
    events.subscribe(events.ClaimTransitioned, webhooks.on_claim_transitioned)
    events.subscribe(events.GradeChanged, webhooks.on_grade_changed)
    events.subscribe(events.SeriousListChanged, webhooks.on_serious_list_changed)
