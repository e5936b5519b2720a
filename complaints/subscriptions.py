"""The composition root's wiring of domain events to the features that react to them.

Every reaction to a case, claim or deadline lives here as one line of wiring: the code that
makes something happen publishes an event (complaints.events) and imports none of the features
below, so no import circle can form and a new feature adds a subscriber, not a call.
Handlers run in registration order, in the publisher's transaction. Order matters where one
reaction reads another's writes: notices are queued before the credit mapping runs, and on
filing the receipt goes out before the phone code.
"""

from complaints import events
from complaints.cases.workflow_hooks import route_when_verified
from complaints.compensation.recovery import hold_merchant_liable
from complaints.credit import services as credit
from complaints.credit_exchange.services import record_grade_change, record_serious_list_change
from complaints.duplicates.services import queue_duplicate_check
from complaints.extensions import db
from complaints.hooks_out import subscribers as webhooks
from complaints.merchants.scan_cache import mark_enterprise_changed
from complaints.notices.services import announce, queue_receipt
from complaints.verification.services import queue_code_on_filing


def queue_notices(event: events.CaseTransitioned) -> None:
    announce(event.case, event.trigger)


def record_credit(event: events.CaseTransitioned) -> None:
    credit.on_case_transition(event.case, event.trigger, event.now)


def send_receipt(event: events.CaseFiled) -> None:
    queue_receipt(event.case, tracking_url=event.tracking_url)


def send_phone_code(event: events.CaseFiled) -> None:
    queue_code_on_filing(event.case)


def flag_duplicates(event: events.CaseFiled) -> None:
    queue_duplicate_check(event.case, event.now)


def remind(event: events.ReminderDue) -> None:
    announce(event.case, event.event_key, due_at=event.due_at)


def tell_tourist_paid(event: events.CompensationPaid) -> None:
    announce(event.claim.case, "compensation_paid", amount_fen=event.claim.amount_fen)


def credit_compensation_paid(event: events.CompensationPaid) -> None:
    # A small claim paid without freezing the merchant is no mark against it (yet).
    if not event.merchant_frozen:
        return
    claim = event.claim
    credit.on_compensation_paid(claim.enterprise_id, claim.case_id, event.now)


def tell_merchant_recovery_due(event: events.RecoveryOpened) -> None:
    claim = event.claim
    announce(claim.case, "recovery_due", amount_fen=claim.amount_fen, due_at=event.due_at)


def credit_recovery_closed(event: events.RecoveryClosed) -> None:
    claim = event.claim
    credit.on_recovery_repaid(claim.enterprise_id, claim.case_id, event.now, on_time=event.on_time)


def credit_held_liable(event: events.MerchantHeldLiable) -> None:
    credit.on_compensation_paid(event.claim.enterprise_id, event.claim.case_id, event.now)


def tell_merchant_repayment_rejected(event: events.RepaymentRejected) -> None:
    announce(
        event.claim.case,
        f"repayment_rejected:{event.now.isoformat()}",
        reason=event.reason,
        due_at=event.due_at,
    )


def tell_compensation_notice(event: events.CompensationNotice) -> None:
    announce(event.case, event.event_key, **event.context)


def tell_deadline_moved(event: events.DeadlineMoved) -> None:
    announce(event.case, f"{event.notice}:{event.now.isoformat()}", due_at=event.due_at)


def tell_message_readers(event: events.MessagePosted) -> None:
    for audience in event.notify:
        announce(event.case, f"message_for_{audience.value}:{event.message.id}")


def drop_kept_scan_pages(event: events.CaseFiled) -> None:
    # On PostgreSQL a filing's INSERT rides inside a SELECT (a data-modifying CTE), which the
    # scan cache's write listener cannot see: the new complaint must show on the next scan.
    mark_enterprise_changed(db.session, event.case.enterprise_id)


def credit_recovery_overdue(event: events.RecoveryOverdue) -> None:
    credit.on_recovery_overdue(event.claim.enterprise_id, event.claim.case_id, event.now)


# A case outcome that finds the merchant liable (a mediation agreement: the complaint was
# substantiated) turns a small claim paid without freezing into the merchant's debt.
LIABILITY_TRIGGERS = frozenset({"record_agreement"})


def charge_small_claim_when_liable(event: events.CaseTransitioned) -> None:
    if event.trigger in LIABILITY_TRIGGERS:
        hold_merchant_liable(event.case, now=event.now)


SUBSCRIPTIONS = (
    (events.CaseFiled, send_receipt),
    (events.CaseFiled, send_phone_code),
    (events.CaseFiled, flag_duplicates),
    (events.CaseFiled, drop_kept_scan_pages),
    (events.CaseTransitioned, queue_notices),
    (events.CaseTransitioned, record_credit),
    (events.CaseTransitioned, charge_small_claim_when_liable),
    (events.PhoneVerified, route_when_verified),
    (events.ReminderDue, remind),
    (events.CompensationPaid, tell_tourist_paid),
    (events.CompensationPaid, credit_compensation_paid),
    (events.RecoveryOpened, tell_merchant_recovery_due),
    (events.RecoveryClosed, credit_recovery_closed),
    (events.RecoveryOverdue, credit_recovery_overdue),
    (events.MerchantHeldLiable, credit_held_liable),
    (events.RepaymentRejected, tell_merchant_repayment_rejected),
    (events.DeadlineMoved, tell_deadline_moved),
    (events.CompensationNotice, tell_compensation_notice),
    (events.MessagePosted, tell_message_readers),
    (events.GradeChanged, record_grade_change),
    (events.SeriousListChanged, record_serious_list_change),
    # Webhook fan-out: one event row and one outbox message each; sending happens in jobs.
    (events.CaseFiled, webhooks.on_case_filed),
    (events.CaseTransitioned, webhooks.on_case_transitioned),
    (events.MessagePosted, webhooks.on_message_posted),
    (events.ClaimTransitioned, webhooks.on_claim_transitioned),
    (events.GradeChanged, webhooks.on_grade_changed),
    (events.SeriousListChanged, webhooks.on_serious_list_changed),
)


def register_subscribers() -> None:
    for event_type, handler in SUBSCRIPTIONS:
        events.subscribe(event_type, handler)
