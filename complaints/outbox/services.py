"""The transactional outbox: record a side effect with the change, relay it after commit."""

import logging
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import or_, select, update
from werkzeug.utils import import_string

from complaints import jobs
from complaints.database import utcnow
from complaints.extensions import db
from complaints.outbox.models import OutboxMessage

log = logging.getLogger(__name__)

# A message handed over but not done after this long is handed over again (at-least-once).
RELAY_LEASE = timedelta(minutes=10)
# Under RQ a job may still be inside its retry schedule: hand it over again only after that
# whole schedule (and this margin) has passed, or a retry and a re-relay would run together.
RETRY_LEASE_MARGIN = timedelta(minutes=15)
PROCESS_JOB = "complaints.outbox.services.process_outbox_message"


def retry_policy() -> Retry:
    """Transient failures (HTTP 429/5xx, network) raise in the job and RQ tries again."""
    intervals = list(current_app.config["NOTIFICATION_RETRY_INTERVALS"])
    return Retry(max=len(intervals), interval=intervals)


def relay_lease() -> timedelta:
    if not jobs.uses_redis():
        return RELAY_LEASE
    schedule = timedelta(seconds=sum(current_app.config["NOTIFICATION_RETRY_INTERVALS"]))
    return max(RELAY_LEASE, schedule + RETRY_LEASE_MARGIN)


def add_outbox_message(job: str, *args) -> OutboxMessage:
    """Joins the caller's transaction: rolled back together, committed together."""
    message = OutboxMessage(job=job, payload={"args": list(args)})
    db.session.add(message)
    return message


def relay_pending(limit: int = 200) -> int:
    """Hand due messages to the queue (or run them inline). Commits its own progress."""
    now = utcnow()
    lease = relay_lease()
    due = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.relayed_at)
        .where(
            OutboxMessage.done_at.is_(None),
            or_(OutboxMessage.relayed_at.is_(None), OutboxMessage.relayed_at < now - lease),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    relayed = 0
    for message_id, previous_relay in due:
        if not _claim(message_id, previous_relay, now):
            continue  # another relay took it
        try:
            if jobs.uses_redis():
                queue = jobs.queue()
                # The queue's name in the job id: two deployments (or test runs) sharing
                # one Redis never overwrite each other's jobs.
                queue.enqueue(
                    PROCESS_JOB,
                    message_id,
                    job_id=f"{queue.name}-outbox-{message_id}",
                    retry=retry_policy(),
                )
            else:
                process_outbox_message(message_id)
        except RedisError as exc:
            _release(message_id, exc)
            log.warning("queue unavailable, outbox message %s waits: %s", message_id, exc)
            break
        relayed += 1
    return relayed


def _claim(message_id: int, previous_relay, now) -> bool:
    # Compare-and-set on the relay time we read: two relays racing never both hand it over.
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.relayed_at.is_not_distinct_from(previous_relay),
        )
        .values(relayed_at=now, relay_attempts=OutboxMessage.relay_attempts + 1)
    ).rowcount
    db.session.commit()
    return bool(claimed)


def _release(message_id: int, exc: Exception) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(relayed_at=None, last_error=str(exc)[:500])
    )
    db.session.commit()


def process_outbox_message(message_id: int) -> None:
    """The queued job: run the recorded side effect once and mark it done. Takes an id, reloads."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.done_at is not None:
        return
    import_string(message.job)(*message.payload["args"])
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(done_at=utcnow())
    )
    db.session.commit()


def relay_after_commit() -> None:
    """Relay now, in this process; a queue outage must never fail the caller."""
    try:
        relay_pending()
    except Exception:
        db.session.rollback()
        log.exception("outbox relay failed; the tick will retry")


def relay_mode() -> str:
    """OUTBOX_RELAY: "worker" (the RQ worker's relay loop hands messages to the queue),
    "thread" (a background thread in this process runs them: the embedded default without
    Redis), or "inline" (right after the request commits, in the request: tests)."""
    configured = current_app.config.get("OUTBOX_RELAY")
    if configured:
        return configured
    if current_app.config.get("ANXIN_ENV") == "test":
        return "inline"
    return "worker" if jobs.uses_redis() else "thread"


def after_commit() -> None:
    """Called by requests right after they commit outbox rows: nothing slow happens here."""
    mode = relay_mode()
    if mode == "inline":
        relay_after_commit()
    elif mode == "thread":
        from complaints.outbox.relay import wake_background_relay

        wake_background_relay()
    # "worker": the worker's relay loop is woken by PostgreSQL (NOTIFY) or its short poll.
