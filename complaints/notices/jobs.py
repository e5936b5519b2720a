"""Delivering one notification. Takes an id, reloads, and is safe to run twice."""

import logging

from flask import current_app
from rq import get_current_job

from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.models import DeliveryStatus, Notification
from notifications.base import DeliveryError, OutgoingMessage
from notifications.registry import create_channel

log = logging.getLogger(__name__)

REDACTED = "[link removed after delivery]"


def channel_for(kind: str):
    backend = current_app.config["SMS_BACKEND" if kind == "sms" else "EMAIL_BACKEND"]
    return create_channel(backend, current_app.config["NOTIFICATION_SETTINGS"])


def status_callback_url(notification: Notification) -> str | None:
    if notification.channel != "sms":
        return None
    return f"{current_app.config['PUBLIC_BASE_URL']}/webhooks/twilio/status"


def deliver_notification(notification_id: int) -> None:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.status not in (
        DeliveryStatus.PENDING,
        DeliveryStatus.RETRYING,
    ):
        return
    message = OutgoingMessage(
        channel=notification.channel,
        to=notification.recipient,
        body=notification.body,
        subject=notification.subject,
        reference=str(notification.id),
        status_callback_url=status_callback_url(notification),
    )
    notification.attempts += 1
    try:
        receipt = channel_for(notification.channel).send(message)
    except DeliveryError as exc:
        notification.error_code = exc.code
        notification.error_reason = exc.reason[:1000]
        notification.status = DeliveryStatus.RETRYING if exc.retryable else DeliveryStatus.FAILED
        db.session.commit()
        log.warning("notification %s: %s", notification_id, exc)
        if exc.retryable and get_current_job() is not None:
            raise  # RQ retries with backoff; inline mode leaves it for the tick
        return
    notification.status = DeliveryStatus.SENT
    notification.provider_message_id = receipt.provider_message_id
    notification.error_code = notification.error_reason = None
    if notification.secret_fragment:
        notification.body = notification.body.replace(notification.secret_fragment, REDACTED)
        notification.secret_fragment = None
    notification.updated_at = utcnow()
    db.session.commit()
