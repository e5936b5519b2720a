"""Delivering one notification. Takes an id, reloads, and is safe to run twice.

Retries: under RQ the relay enqueues with rq.Retry, so a transient failure (HTTP 429/5xx,
network, SMTP 4xx) raises and RQ tries again on its schedule; the last try records the
failure instead. Without Redis a transient failure waits with `next_attempt_at`, and the
tick's `retry_due_notifications` tries again on the same schedule. A permanent refusal
(invalid number 21211, unsubscribed 21610, SMTP 5xx) is recorded and never retried.
"""

import logging
from datetime import datetime, timedelta

from flask import current_app, g
from rq import get_current_job
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from complaints.cases.models import Case
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.events import base_event
from complaints.notices.fallback import email_instead
from complaints.notices.models import DeliveryStatus, Notification
from complaints.notices.optouts import OPTED_OUT, is_opted_out, record_opt_out
from complaints.notices.services import (
    NOT_RESENDABLE,
    REDACTED,
    notify_case_received,
    read_sms_facts,
)
from complaints.outbox.services import commit_all_or_none
from notifications.base import DeliveryError, OutgoingMessage
from notifications.registry import create_channel

log = logging.getLogger(__name__)

UNSUBSCRIBED = "21610"  # Twilio: the recipient replied STOP
# Two sweeps at once must not both send: a claimed row is left alone this long.
SWEEP_LEASE = timedelta(minutes=5)


def channel_for(kind: str):
    """One channel per kind for the app context (a worker's batch, a request): a batch of 25
    texts reuses one Twilio client and its connection. Closed at the context's end."""
    backend = current_app.config["SMS_BACKEND" if kind == "sms" else "EMAIL_BACKEND"]
    settings = current_app.config["NOTIFICATION_SETTINGS"]
    channels = g.setdefault("anxin_channels", {})
    key = (kind, backend, tuple(sorted(settings.items())))
    if key not in channels:
        channels[key] = create_channel(backend, settings)
    return channels[key]


def close_channels(_exc=None) -> None:
    """Registered as an app-context teardown (complaints.app)."""
    for channel in g.pop("anxin_channels", {}).values():
        close = getattr(channel, "close", None)
        if close is not None:
            close()


def retry_intervals() -> tuple[int, ...]:
    return tuple(current_app.config["NOTIFICATION_RETRY_INTERVALS"])


def status_callback_url(notification: Notification) -> str | None:
    if notification.channel != "sms":
        return None
    return f"{current_app.config['PUBLIC_BASE_URL']}/webhooks/twilio/status"


def deliver_notification(notification_id: int) -> None:
    """The outbox job. Under RQ with retries left, a transient failure raises."""
    job = get_current_job()
    rq_retries_left = job.retries_left if job is not None else None
    _deliver(notification_id, rq_retries_left=rq_retries_left)


def retry_due_notifications(now: datetime | None = None, limit: int = 100) -> int:
    """Try again every message whose backoff has run out (queue-less mode); returns how many
    were tried. Each is claimed first, so two ticks never send the same message twice."""
    now = now or utcnow()
    due = db.session.execute(
        select(Notification.id, Notification.next_attempt_at)
        .where(
            Notification.status == DeliveryStatus.RETRYING,
            Notification.next_attempt_at <= now,
        )
        .order_by(Notification.next_attempt_at)
        .limit(limit)
    ).all()
    tried = 0
    for notification_id, due_at in due:
        claimed = db.session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.next_attempt_at == due_at)
            .values(next_attempt_at=now + SWEEP_LEASE)
        ).rowcount
        db.session.commit()
        if not claimed:
            continue  # another sweep took it
        tried += 1
        try:
            _deliver(notification_id, rq_retries_left=None, now=now)
        except Exception:
            # One broken message must not hold up the rest; the claim expires and it is
            # tried again after SWEEP_LEASE.
            db.session.rollback()
            log.exception("retrying notification %s failed", notification_id)
    return tried


def _deliver(notification_id: int, *, rq_retries_left: int | None, now=None) -> None:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.status not in (
        DeliveryStatus.PENDING,
        DeliveryStatus.RETRYING,
    ):
        return
    now = now or utcnow()
    if notification.expires_at is not None and notification.expires_at <= now:
        _fail(notification, "expired", "not sent: out of date before it could be delivered")
        db.session.commit()
        return
    if notification.channel == "sms" and is_opted_out(notification.recipient):
        _fail(notification, OPTED_OUT, "not sent: the recipient opted out of text messages")
        db.session.commit()
        return
    message = OutgoingMessage(
        channel=notification.channel,
        to=notification.recipient,
        body=notification.body,
        subject=notification.subject,
        reference=str(notification.id),
        status_callback_url=status_callback_url(notification),
    )
    channel = channel_for(notification.channel)
    # An attempt that began and never recorded its outcome (a worker killed mid-send):
    # ask the provider before sending again.
    interrupted_at = notification.attempt_started_at
    secret = notification.secret_fragment  # read now: the attempt's commit expires the row
    if not _record_attempt(notification, now):
        return  # another worker is sending it right now
    try:
        receipt = (
            interrupted_at is not None and _sent_before(channel, message, interrupted_at)
        ) or channel.send(message)
    except DeliveryError as exc:
        rq_will_retry = _record_failure(notification, exc, now, rq_retries_left)
        if not exc.outcome_unknown:
            # The provider answered with a refusal: it did not take the message. Without
            # an answer (a timeout after Twilio took it?) the next attempt asks it first.
            notification.attempt_started_at = None
        db.session.commit()
        log.warning("notification %s (attempt %s): %s", notification_id, notification.attempts, exc)
        if rq_will_retry:
            raise  # RQ retries on its schedule
        return
    _record_sent(notification.id, receipt.provider_message_id, message.body, secret)


def _record_attempt(notification: Notification, now: datetime) -> bool:
    """Commit the attempt before calling the provider (compare-and-set on the attempt we saw:
    two workers handed the same message never both send it)."""
    claimed = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification.id,
            Notification.status.in_((DeliveryStatus.PENDING, DeliveryStatus.RETRYING)),
            Notification.attempt_started_at.is_not_distinct_from(notification.attempt_started_at),
        )
        .values(attempt_started_at=now, attempts=Notification.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(claimed)


def _sent_before(channel, message: OutgoingMessage, since: datetime):
    """The provider's receipt when it already has this message from the interrupted attempt.
    A channel that cannot tell (console, SMTP) answers None: sent again, at least once."""
    find_sent = getattr(channel, "find_sent", None)
    if find_sent is None:
        return None
    receipt = find_sent(message, since=since)
    if receipt is not None:
        log.info("notification %s was sent by an interrupted attempt", message.reference)
    return receipt


def _record_sent(notification_id: int, provider_message_id, body: str, secret) -> None:
    """One UPDATE from what the job already holds: no reload of the row after its attempt."""
    values = {
        "status": DeliveryStatus.SENT,
        "provider_message_id": provider_message_id,
        "error_code": None,
        "error_reason": None,
        "next_attempt_at": None,
        "attempt_started_at": None,
    }
    if secret:
        values.update(body=body.replace(secret, REDACTED), secret_fragment=None)
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _record_failure(
    notification: Notification, exc: DeliveryError, now: datetime, rq_retries_left: int | None
) -> bool:
    """Record what went wrong; True when RQ will try again (the job must raise)."""
    notification.error_code = exc.code
    notification.error_reason = exc.reason[:1000]
    if not exc.retryable:
        notification.status = DeliveryStatus.FAILED
        notification.next_attempt_at = None
        if notification.channel == "sms" and exc.code == UNSUBSCRIBED:
            record_opt_out(notification.recipient, f"twilio:{UNSUBSCRIBED}")
        email_instead(notification)  # before the redaction below: the e-mail needs the body
        if base_event(notification.event_key) in NOT_RESENDABLE:
            _redact(notification)
        return False
    if rq_retries_left:
        notification.status = DeliveryStatus.RETRYING
        notification.next_attempt_at = None  # RQ's schedule owns it, not the sweep
        return True
    intervals = retry_intervals()
    out_of_tries = rq_retries_left == 0 or notification.attempts > len(intervals)
    if out_of_tries:
        notification.status = DeliveryStatus.FAILED
        reason = f"gave up after {notification.attempts} attempts: {exc.reason}"
        notification.error_reason = reason[:1000]
        notification.next_attempt_at = None
        return False
    notification.status = DeliveryStatus.RETRYING
    notification.next_attempt_at = now + timedelta(seconds=intervals[notification.attempts - 1])
    return False


def _fail(notification: Notification, code: str, reason: str) -> None:
    notification.status = DeliveryStatus.FAILED
    notification.error_code = code
    notification.error_reason = reason
    notification.next_attempt_at = None
    if base_event(notification.event_key) in NOT_RESENDABLE:
        _redact(notification)


def _redact(notification: Notification) -> None:
    if notification.secret_fragment:
        notification.body = notification.body.replace(notification.secret_fragment, REDACTED)
        notification.secret_fragment = None


def _deliver_batch(calls: list[list]) -> dict[int, Exception]:
    from complaints.notices.batch_delivery import deliver_notifications

    return deliver_notifications([notification_id for notification_id, *_ in calls])


# The outbox's batch job calls this form for a batch of these jobs (one id each).
deliver_notification.batch = _deliver_batch


def send_receipt(case_id: int, tracking_url: str) -> None:
    """The outbox job after a filing: renders and queues the receipt. Takes an id, safe to
    run twice (a receipt already queued is not queued again)."""
    _send_receipts([[case_id, tracking_url]])


def _send_receipts(calls: list[list]) -> dict[int, Exception]:
    """The batch form: a rush's receipts from one SELECT of their cases (with what the text
    names: merchant, outlet, agency) and one commit. A failure fails the batch, and its retry
    skips the receipts already queued."""
    links = {case_id: tracking_url for case_id, tracking_url in calls}
    cases = db.session.scalars(
        select(Case)
        .where(Case.id.in_(links))
        .options(joinedload(Case.enterprise), joinedload(Case.outlet), joinedload(Case.agency))
        .order_by(Case.id)
    ).all()

    def queue_receipts():
        read_sms_facts(case.tourist_phone for case in cases)
        for case in cases:
            notify_case_received(case, tracking_url=links[case.id])

    return commit_all_or_none(links, queue_receipts)


send_receipt.batch = _send_receipts
