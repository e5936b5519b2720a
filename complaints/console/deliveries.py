"""What the console shows of notifications: one case's delivery log, and the agency's log.

The agency's page is complaints.notices.history.failed_first_log scoped to the agency's
cases (the notices package stays unaware of agencies).
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from complaints.cases.models import Case
from complaints.console.presenters import TRIGGER_LABELS
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.events import SMS, base_event
from complaints.notices.history import delivery_log, failed_first_log
from complaints.notices.models import Audience, DeliveryStatus, Notification
from complaints.notices.optouts import OPTED_OUT
from complaints.notices.services import NOT_RESENDABLE
from complaints.presentation import mask_phone

LOG_PAGE_SIZE = 50

AUDIENCE_LABELS = {
    Audience.TOURIST: _l("Tourist"),
    Audience.MERCHANT: _l("Merchant"),
    Audience.REGULATOR: _l("Regulator"),
}

STATUS_LABELS = {
    DeliveryStatus.PENDING: _l("Waiting to be sent"),
    DeliveryStatus.RETRYING: _l("Retrying"),
    DeliveryStatus.SENT: _l("Sent"),
    DeliveryStatus.DELIVERED: _l("Delivered"),
    DeliveryStatus.FAILED: _l("Failed"),
}

CHANNEL_LABELS = {SMS: _l("SMS"), "email": _l("Email")}

# Messages that do not follow a workflow trigger; the others are named like the timeline does.
# Why a message was not delivered, in the reader's words; the provider's own English text
# stays in the log as recorded and shows only for codes not listed here.
ERROR_LABELS = {
    OPTED_OUT: _l("Not sent: the recipient opted out of text messages (STOP)."),
    "expired": _l("Not sent: out of date before it could be delivered."),
    "21211": _l("Not a valid phone number."),
    "21408": _l("Text messages to this country are not enabled for our sender."),
    "21610": _l("The recipient unsubscribed (STOP)."),
    "21612": _l("This number cannot be reached by text message."),
    "21614": _l("Not a mobile number."),
    "30003": _l("The phone is unreachable (switched off or out of coverage)."),
    "30004": _l("The recipient's carrier blocked the message."),
    "30005": _l("Unknown number: it may not exist any more."),
    "30006": _l("A landline or a number that cannot receive text messages."),
    "30007": _l("The carrier filtered the message."),
    "30008": _l("Delivery failed for an unknown reason at the carrier."),
}

EVENT_LABELS = {
    "case_received": _l("Complaint received"),
    "phone_code": _l("Phone confirmation code"),
    "offer_unanswered": _l("Offer not answered in time"),
    "merchant_reminder": _l("Reminder to the merchant"),
    "regulator_reminder": _l("Reminder to the regulator"),
    "compensation_paid": _l("Advance compensation paid"),
    "recovery_due": _l("Recovery due from the merchant"),
}


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    case_number: str
    event: object
    audience: object
    channel: object
    recipient: str
    status: DeliveryStatus
    status_label: object
    error_code: str | None
    error_reason: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    resend_of_id: int | None
    requested_by: str | None
    resent: bool  # a later row sends this one again
    # Failed, not sent again yet, and neither a code nor out of date: the service would refuse
    # those anyway, so no button is offered. An opted-out number is left to the service, which
    # says why (the tourist must text START first).
    resendable: bool


def case_deliveries(case: Case) -> list[DeliveryRow]:
    """The case's messages, oldest first, as the case page's delivery log shows them."""
    rows = delivery_log(case.id)
    resent = {row.resend_of_id for row in rows if row.resend_of_id is not None}
    return [_row(n, case.number, n.id in resent) for n in rows]


@dataclass
class LogPage:
    rows: list[DeliveryRow]
    next_before: int | None  # the `before` of the next page, None on the last one


def agency_log_page(
    agency_id: int, before_id: int | None = None, size: int | None = None
) -> LogPage | None:
    """One page of the agency's messages, in notices.history.failed_first_log's order.

    None when `before_id` is not a message of this agency (a damaged link, or another
    agency's id: the same answer).
    """
    size = size or LOG_PAGE_SIZE
    scope = (Notification.case_id.in_(select(Case.id).where(Case.agency_id == agency_id)),)
    if before_id is not None and not db.session.scalar(
        select(Notification.id).where(Notification.id == before_id, *scope)
    ):
        return None
    # One more than a page says whether another page follows.
    found = failed_first_log(size + 1, before_id, scope=scope)
    more = len(found) > size
    found = found[:size]
    numbers = {
        case_id: number
        for case_id, number in db.session.execute(
            select(Case.id, Case.number).where(Case.id.in_({n.case_id for n in found}))
        )
    }
    resent = _resent_among([n.id for n in found])
    rows = [_row(n, numbers[n.case_id], n.id in resent) for n in found]
    return LogPage(rows, rows[-1].id if more else None)


def _resent_among(ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Notification.resend_of_id).where(Notification.resend_of_id.in_(ids))
        )
    )


def _row(notification: Notification, case_number: str, resent: bool) -> DeliveryRow:
    phone = notification.channel == SMS
    event = base_event(notification.event_key)
    expired = notification.expires_at is not None and notification.expires_at <= utcnow()
    return DeliveryRow(
        id=notification.id,
        case_number=case_number,
        event=EVENT_LABELS.get(event) or TRIGGER_LABELS.get(event, event),
        audience=AUDIENCE_LABELS.get(notification.audience, notification.audience),
        channel=CHANNEL_LABELS.get(notification.channel, notification.channel),
        recipient=mask_phone(notification.recipient) if phone else notification.recipient,
        status=notification.status,
        status_label=STATUS_LABELS.get(notification.status, notification.status),
        error_code=notification.error_code,
        error_reason=ERROR_LABELS.get(notification.error_code or "", notification.error_reason),
        attempts=notification.attempts,
        created_at=notification.created_at,
        updated_at=notification.updated_at,
        resend_of_id=notification.resend_of_id,
        requested_by=notification.requested_by,
        resent=resent,
        resendable=notification.status is DeliveryStatus.FAILED
        and not resent
        and event not in NOT_RESENDABLE
        and not expired,
    )
