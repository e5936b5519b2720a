"""Who hears about which case event, by which channel, in which words: one table.

The keys are the workflow's trigger names (workflows.machine.CASE_TRANSITIONS) plus the
events that happen outside a transition (a received complaint, reminders, payments). Adding an
event is one line here and one template per row under templates/notices/<audience>/.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import exists, select

from complaints.cases.models import Case, CaseEvent
from complaints.extensions import db
from complaints.notices.models import Audience

SMS, EMAIL = "sms", "email"
T, M, R = Audience.TOURIST, Audience.MERCHANT, Audience.REGULATOR

ROUTING_TRIGGERS = ("route_to_merchant", "route_to_regulator")


def was_routed(case: Case) -> bool:
    """A party only hears follow-ups about a case it has been told about. Before routing (an
    unverified complaint) neither merchant nor regulator has seen it."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    CaseEvent.case_id == case.id, CaseEvent.trigger.in_(ROUTING_TRIGGERS)
                )
            )
        )
    )


@dataclass(frozen=True)
class Send:
    audience: Audience
    channel: str
    template: str  # templates/notices/<audience>/<template>.<channel>.txt
    when: Callable[[Case], bool] | None = None

    @property
    def path(self) -> str:
        return f"notices/{self.audience.value}/{self.template}.{self.channel}.txt"


def merchant(template: str, *, email_only: bool = False, when=None) -> tuple[Send, ...]:
    """The merchant gets the short SMS and the email with the details, in its own language."""
    email = Send(M, EMAIL, template, when)
    return (email,) if email_only else (Send(M, SMS, template, when), email)


def tourist(template: str) -> tuple[Send, ...]:
    return (Send(T, SMS, template),)


def regulator(template: str) -> tuple[Send, ...]:
    return (Send(R, EMAIL, template),)


# fmt: off
EVENTS: dict[str, tuple[Send, ...]] = {
    # Filing and routing.
    "case_received":            tourist("case_received"),
    # A new message in the case thread, for each party who may read it but did not write it
    # (complaints.portal.messages); the key carries the message id: "message_for_tourist:12".
    "message_for_tourist":      tourist("new_message"),
    "message_for_merchant":     merchant("new_message", when=was_routed),
    "message_for_regulator":    regulator("new_message"),
    "route_to_merchant":        merchant("new_case"),
    "route_to_regulator":       regulator("new_in_queue"),
    # The merchant's turn.
    "merchant_refund":          tourist("merchant_refunded"),
    "merchant_offer":           tourist("merchant_offer"),
    "tourist_accept_offer":     tourist("offer_accepted") + merchant("offer_accepted"),
    "tourist_reject_offer":     tourist("offer_rejected") + merchant("offer_rejected")
                                + regulator("new_in_queue"),
    "merchant_dispute":         tourist("merchant_disputed") + regulator("new_in_queue"),
    "merchant_deadline_passed": tourist("merchant_silent") + merchant("escalated")
                                + regulator("new_in_queue"),
    "offer_unanswered":         tourist("offer_lapsed") + merchant("offer_lapsed")
                                + regulator("new_in_queue"),
    # The regulator's turn.
    "transfer":                 tourist("transferred") + regulator("new_in_queue"),
    "accept":                   tourist("accepted") + merchant("accepted"),
    "decline":                  tourist("declined") + merchant("declined", email_only=True),
    "identity_not_verified":    tourist("identity_not_verified"),
    "pause_for_appraisal":      tourist("appraisal_paused")
                                + merchant("appraisal_paused", email_only=True),
    "resume_after_appraisal":   tourist("appraisal_resumed")
                                + merchant("appraisal_resumed", email_only=True),
    "record_agreement":         tourist("agreement") + merchant("agreement"),
    "terminate":                tourist("terminated") + merchant("terminated"),
    "escalate":                 regulator("escalated"),
    # The end, and after.
    "withdraw":                 tourist("withdrawn") + merchant("withdrawn", when=was_routed),
    "close":                    tourist("closed") + merchant("closed", email_only=True,
                                                             when=was_routed),
    "reopen":                   tourist("reopened") + merchant("reopened", email_only=True)
                                + regulator("new_in_queue"),
    # Timers and money (context: due_at; amount_fen).
    "merchant_reminder":        merchant("reminder"),
    "verify_reminder":          tourist("verify_reminder"),
    "regulator_reminder":       regulator("reminder"),
    "compensation_paid":        tourist("compensation_paid"),
    "recovery_due":             merchant("recovery_due"),
    "repayment_rejected":       merchant("repayment_rejected"),
    # Calendar corrections that moved a running deadline (context: due_at).
    "merchant_deadline_moved":  merchant("deadline_moved"),
    "regulator_deadline_moved": regulator("deadline_moved"),
    "tourist_deadline_moved":   tourist("deadline_moved"),
    "recovery_due_moved":       merchant("recovery_due_moved"),
}
# fmt: on

# "assign" is internal to the agency: nobody outside it needs a message.
SILENT_EVENTS = frozenset({"assign"})

# A reminder that arrives after its deadline would mislead: it expires at the deadline.
EXPIRE_AT_DUE = frozenset({"merchant_reminder", "regulator_reminder", "verify_reminder"})


def base_event(event_key: str) -> str:
    """ "merchant_reminder:2026-11-26T10" -> "merchant_reminder"; "x#r1" (a resend) -> "x"."""
    return event_key.partition(":")[0].partition("#")[0]


def sends_for(event_key: str) -> tuple[Send, ...]:
    return EVENTS.get(base_event(event_key), ())
