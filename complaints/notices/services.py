"""Writing notifications: rows in the event's own transaction, delivered by a job after commit."""

from complaints.cases.models import Case
from complaints.extensions import db
from complaints.notices import messages
from complaints.notices.models import Audience, Notification
from complaints.outbox.services import add_outbox_message

DELIVER_JOB = "complaints.notices.jobs.deliver_notification"


def queue_notification(
    case: Case,
    *,
    event_key: str,
    audience: Audience,
    channel: str,
    recipient: str,
    language: str,
    body: str,
    subject: str | None = None,
    secret_fragment: str | None = None,
) -> Notification:
    notification = Notification(
        case_id=case.id,
        event_key=event_key,
        audience=audience,
        channel=channel,
        recipient=recipient,
        language=language,
        subject=subject,
        body=body,
        secret_fragment=secret_fragment,
    )
    db.session.add(notification)
    db.session.flush()
    add_outbox_message(DELIVER_JOB, notification.id)
    return notification


def notify_case_received(case: Case, *, tracking_url: str) -> None:
    body = messages.tourist_case_received(
        number=case.number,
        merchant=case.enterprise.name(case.language),
        tracking_url=tracking_url,
        language=case.language,
    )
    queue_notification(
        case,
        event_key="case_received",
        audience=Audience.TOURIST,
        channel="sms",
        recipient=case.tourist_phone,
        language=case.language,
        body=body,
        secret_fragment=tracking_url,
    )
