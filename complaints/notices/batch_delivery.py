"""Delivering a batch of notifications with a handful of statements instead of a few each.

The worker's outbox batch hands over up to 25 notifications at once. Here they are read in
one SELECT (with their opt-outs), their attempts recorded in one UPDATE committed before any
provider call (issue 11.3), sent one by one (Twilio has no batch send for distinct messages),
and the outcomes written in one UPDATE. A worker dying anywhere in between leaves attempts
whose outcome is unknown: the next run asks the provider first (complaints.notices.jobs), so
nothing is sent twice. Everything unusual (expired, opted out, an interrupted attempt, a
failure) takes the one-by-one path of complaints.notices.jobs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from rq import get_current_job
from sqlalchemy import select, update

from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.jobs import _deliver, _record_failure, channel_for, status_callback_url
from complaints.notices.models import DeliveryStatus, Notification, SmsOptOut
from complaints.notices.services import REDACTED
from complaints.outbox.services import HEARTBEAT_SECONDS, started_timeout
from notifications.base import DeliveryError, OutgoingMessage

log = logging.getLogger(__name__)

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


@dataclass(frozen=True)
class _Ready:
    id: int
    message: OutgoingMessage
    secret: str | None


def deliver_notifications(notification_ids: list[int]) -> dict[int, Exception]:
    """Deliver each; returns the ids whose job must be tried again, with the error."""
    job = get_current_job()
    rq_retries_left = job.retries_left if job is not None else None
    now = utcnow()
    notifications = db.session.scalars(
        select(Notification).where(Notification.id.in_(notification_ids))
    ).all()
    phones = {n.recipient for n in notifications if n.channel == "sms"}
    opted_out = set(
        db.session.scalars(select(SmsOptOut.phone).where(SmsOptOut.phone.in_(phones)))
        if phones
        else ()
    )
    ready: list[_Ready] = []
    singly: list[int] = []
    for notification in notifications:
        if notification.status not in OPEN:
            continue  # done before (a re-relay, a retry of the batch)
        unusual = (
            notification.attempt_started_at is not None
            or (notification.expires_at is not None and notification.expires_at <= now)
            or (notification.channel == "sms" and notification.recipient in opted_out)
        )
        if unusual:
            singly.append(notification.id)
            continue
        ready.append(
            _Ready(
                notification.id,
                OutgoingMessage(
                    channel=notification.channel,
                    to=notification.recipient,
                    body=notification.body,
                    subject=notification.subject,
                    reference=str(notification.id),
                    status_callback_url=status_callback_url(notification),
                ),
                notification.secret_fragment,
            )
        )
    claimed = _record_attempts([item.id for item in ready], now)
    failures: dict[int, Exception] = {}
    sent: list[dict] = []
    beat = _Heartbeat(job)
    for item in ready:
        if item.id not in claimed:
            continue  # another worker took it
        beat()
        try:
            receipt = channel_for(item.message.channel).send(item.message)
        except DeliveryError as exc:
            if _fail_one(item.id, exc, now, rq_retries_left):
                failures[item.id] = exc
            continue
        sent.append(_sent_values(item, receipt.provider_message_id))
    if sent:
        db.session.execute(update(Notification), sent)
    db.session.commit()
    for notification_id in singly:
        try:
            _deliver(notification_id, rq_retries_left=rq_retries_left, now=now)
        except Exception as exc:
            db.session.rollback()
            failures[notification_id] = exc
    return failures


class _Heartbeat:
    """A slow provider must not make the batch look abandoned (outbox.recover_lost_jobs):
    the job reports it is alive every few seconds while it sends."""

    def __init__(self, job) -> None:
        self.job = job
        self.last = time.monotonic()

    def __call__(self) -> None:
        if self.job is None or time.monotonic() - self.last < HEARTBEAT_SECONDS:
            return
        self.job.heartbeat(utcnow(), ttl=int(started_timeout().total_seconds()) * 4)
        self.last = time.monotonic()


def _record_attempts(ids: list[int], now) -> set[int]:
    """One UPDATE, committed before the first provider call."""
    if not ids:
        return set()
    claimed = db.session.scalars(
        update(Notification)
        .where(
            Notification.id.in_(ids),
            Notification.status.in_(OPEN),
            Notification.attempt_started_at.is_(None),
        )
        .values(attempt_started_at=now, attempts=Notification.attempts + 1)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return set(claimed)


def _sent_values(item: _Ready, provider_message_id: str | None) -> dict:
    body = item.message.body
    return {
        "id": item.id,
        "status": DeliveryStatus.SENT,
        "provider_message_id": provider_message_id,
        "error_code": None,
        "error_reason": None,
        "next_attempt_at": None,
        "attempt_started_at": None,
        "body": body.replace(item.secret, REDACTED) if item.secret else body,
        "secret_fragment": None,
        "updated_at": utcnow(),
    }


def _fail_one(notification_id: int, exc: DeliveryError, now, rq_retries_left) -> bool:
    """Record one failure as the one-by-one path does; True when RQ must try it again."""
    notification = db.session.get(Notification, notification_id)
    rq_will_retry = _record_failure(notification, exc, now, rq_retries_left)
    if not exc.outcome_unknown:
        notification.attempt_started_at = None
    db.session.flush()
    log.warning("notification %s (attempt %s): %s", notification_id, notification.attempts, exc)
    return rq_will_retry
