"""Sending deliveries: in id order per case, exponential backoff for three days, then the
endpoint is disabled and its owner told by e-mail. Each delivery is claimed with a
compare-and-set before it is sent, so two workers never send the same one at once."""

import logging
import time
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import select, update

from complaints.database import utcnow
from complaints.extensions import db
from complaints.hooks_out import signing
from complaints.hooks_out.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from complaints.hooks_out.services import disable, secrets_in_use
from complaints.outbox.services import add_outbox_message

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=12)
GIVE_UP_AFTER = timedelta(days=3)
SEND_LEASE = timedelta(minutes=2)
TIMEOUT_SECONDS = 10
BATCH = 500
EMAIL_JOB = "complaints.hooks_out.delivery.email_owner_disabled"


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes, at most 12 hours between tries: 16 tries over three days."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LONGEST_WAIT)


def deliver_endpoint(endpoint_id: int, at: str | None = None) -> int:
    """The outbox job: send what is due for one endpoint; returns how many succeeded.

    `at` is the tick's clock (so a simulated clock reaches the job); never earlier than now.
    """
    now = utcnow()
    if at:
        now = max(now, datetime.fromisoformat(at))
    # From here on a new event queues a new job: nothing fanned out later is missed.
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.delivery_queued.is_(True))
        .values(delivery_queued=False)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not endpoint.active:
        return 0
    sent = 0
    blocked: set[str] = set()  # a case whose earlier event is still owed waits behind it
    rows = db.session.scalars(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.state == DeliveryState.PENDING,
        )
        .order_by(WebhookDelivery.id)
        .limit(BATCH)
    ).all()
    for delivery in rows:
        if delivery.ordering_key in blocked:
            continue
        if delivery.next_attempt_at > now or not _claim(delivery, now):
            blocked.add(delivery.ordering_key)
            continue
        if _attempt(endpoint, delivery, now):
            sent += 1
        else:
            blocked.add(delivery.ordering_key)
            if not endpoint.active:
                break
    return sent


def _claim(delivery: WebhookDelivery, now: datetime) -> bool:
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery.id,
            WebhookDelivery.state == DeliveryState.PENDING,
            WebhookDelivery.next_attempt_at == delivery.next_attempt_at,
        )
        .values(next_attempt_at=now + SEND_LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed:
        db.session.refresh(delivery)
    return bool(claimed)


def _attempt(endpoint: WebhookEndpoint, delivery: WebhookDelivery, now: datetime) -> bool:
    event = delivery.event
    headers = signing.headers(
        secrets_in_use(endpoint, now), event.msg_id, int(time.time()), event.body
    )
    status, error = None, ""
    try:
        response = requests.post(
            endpoint.url,
            data=event.body.encode(),
            headers=headers,
            timeout=current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", TIMEOUT_SECONDS),
            allow_redirects=False,
        )
        status = response.status_code
        ok = 200 <= status < 300
        if not ok:
            error = f"HTTP {status}"
    except requests.RequestException as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"[:500]
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status, delivery.last_error = now, status, error
    if ok:
        delivery.state, delivery.delivered_at = DeliveryState.SUCCEEDED, now
    elif now - delivery.created_at >= GIVE_UP_AFTER:
        delivery.state = DeliveryState.FAILED
        disable(endpoint, f"deliveries failed for three days (last: {error})", now)
        add_outbox_message(EMAIL_JOB, endpoint.id)
        log.warning("webhook endpoint %s disabled after three days of failures", endpoint.id)
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    db.session.commit()
    return ok


def email_owner_disabled(endpoint_id: int) -> None:
    """Tell the owner their endpoint was switched off, and how to turn it back on."""
    from complaints.agencies.models import Agency
    from complaints.merchants.models import Enterprise
    from complaints.notices.jobs import channel_for
    from notifications.base import OutgoingMessage

    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        return
    to = endpoint.owner_email
    if not to and endpoint.enterprise_id:
        to = db.session.get(Enterprise, endpoint.enterprise_id).contact_email
    if not to and endpoint.agency_id:
        to = getattr(db.session.get(Agency, endpoint.agency_id), "contact_email", None)
    if not to:
        log.warning("webhook endpoint %s disabled; no owner e-mail on record", endpoint_id)
        return
    channel_for("email").send(
        OutgoingMessage(
            channel="email",
            to=to,
            subject="Anxin webhook endpoint disabled / 安心 Webhook 端点已停用",
            body=(
                f"Deliveries to {endpoint.url} failed for three days, so the endpoint was "
                f"disabled ({endpoint.disabled_reason}). Nothing was lost: turn it back on in "
                "Anxin and every waiting event is sent, in order.\n\n"
                f"向 {endpoint.url} 的推送连续三天失败，该端点已停用。事件均已保留：在安心中重新启用后，"
                "所有待发事件将按顺序补发。"
            ),
            reference=f"webhook-endpoint-{endpoint_id}",
        )
    )
