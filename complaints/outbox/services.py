"""The transactional outbox: record a side effect with the change, relay it after commit.

Relaying claims due messages in one conditional UPDATE per batch and hands each batch to the
queue as one RQ job (RQ's own bookkeeping costs more Redis round trips per job than a
notification's whole delivery). Jobs whose Redis forgot them (a restart without persistence)
or whose worker died mid-job are noticed within a minute by `recover_lost_jobs` and relayed
again; the delivery itself is idempotent per notification (complaints.notices.jobs).
"""

import logging
import time
from contextvars import ContextVar
from datetime import UTC, timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq import Retry, get_current_job
from rq.job import Job, JobStatus
from sqlalchemy import inspect, or_, select, update
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
BATCH_SIZE = 25
HEARTBEAT_SECONDS = 5
PROCESS_JOB = "complaints.outbox.services.process_outbox_message"
PROCESS_BATCH_JOB = "complaints.outbox.services.process_outbox_batch"
FOLLOW_UP_ROUNDS = 3
# The messages written by the jobs of the batch being run (see process_outbox_batch).
_written_by_jobs: ContextVar[list | None] = ContextVar("outbox_written_by_jobs", default=None)
WIPED_PAYLOAD = {"args": [], "secret": "wiped when done"}


def retry_policy() -> Retry:
    """Transient failures (HTTP 429/5xx, network) raise in the job and RQ tries again."""
    intervals = list(current_app.config["NOTIFICATION_RETRY_INTERVALS"])
    return Retry(max=len(intervals), interval=intervals)


def relay_lease() -> timedelta:
    if not jobs.uses_redis():
        return RELAY_LEASE
    schedule = timedelta(seconds=sum(current_app.config["NOTIFICATION_RETRY_INTERVALS"]))
    return max(RELAY_LEASE, schedule + RETRY_LEASE_MARGIN)


def lost_check_after() -> timedelta:
    """Relayed this long ago and not done: ask Redis whether its job still exists and runs."""
    return timedelta(seconds=current_app.config.get("OUTBOX_LOST_CHECK_SECONDS", 20))


def started_timeout() -> timedelta:
    """A job "started" this long ago without a heartbeat belongs to a dead worker (a send takes
    seconds; the provider's client times out well before; a long batch beats every 10 s)."""
    return timedelta(seconds=current_app.config.get("OUTBOX_STARTED_TIMEOUT_SECONDS", 45))


def add_outbox_message(job: str, *args, secret: bool = False) -> OutboxMessage:
    """Joins the caller's transaction: rolled back together, committed together.

    `secret`: an argument is a secret the job needs once (a tourist's tracking link): the
    arguments are wiped when the message is done, as a delivered text's link is."""
    payload = {"args": list(args), "secret": True} if secret else {"args": list(args)}
    message = OutboxMessage(job=job, payload=payload)
    db.session.add(message)
    written = _written_by_jobs.get()
    if written is not None:
        written.append(message)
    return message


def commit_all_or_none(ids, work) -> dict:
    """A batch form's transaction: work() for every message, then one commit; on a failure,
    a rollback and every id failed, so that the retry redoes the batch (the jobs are safe to
    run twice). Returns the failures by id, as the batch protocol wants them."""
    try:
        work()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        return dict.fromkeys(ids, exc)
    return {}


def _mark_done(rows) -> None:
    """One UPDATE for the done messages; one more wiping the arguments of the secret ones."""
    now = utcnow()
    ids = [row.id for row in rows]
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )
    secret = [row.id for row in rows if row.payload.get("secret")]
    if secret:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(secret))
            .values(payload=WIPED_PAYLOAD)
            .execution_options(synchronize_session=False)
        )


def relay_pending(limit: int = 200) -> int:
    """Hand due messages to the queue (or run them inline). Commits its own progress."""
    now = utcnow()
    due = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.relayed_at)
        .where(
            OutboxMessage.done_at.is_(None),
            or_(
                OutboxMessage.relayed_at.is_(None),
                OutboxMessage.relayed_at < now - relay_lease(),
            ),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    if not due:
        db.session.commit()  # end the read transaction: a relay loop must not idle inside one
        return 0
    if not jobs.uses_redis():
        return _run_inline(due, now)
    return _hand_to_queue(due, now)


def _claims(due) -> list[tuple[list[int], object]]:
    """(ids, relay time read) to claim together: fresh messages in batches of BATCH_SIZE;
    messages whose lease ran out one by one, against the relay time read."""
    fresh = [message_id for message_id, previous in due if previous is None]
    stale = [([message_id], previous) for message_id, previous in due if previous is not None]
    return [(fresh[i : i + BATCH_SIZE], None) for i in range(0, len(fresh), BATCH_SIZE)] + stale


def _run_inline(due, now) -> int:
    """Without a queue, each claimed batch runs here as the worker runs a queued one: the
    jobs' batch forms (a batch of texts is read, marked and recorded in a few statements), one
    UPDATE marking the batch done. One by one, each message cost a claim, a commit and a done
    mark of its own: most of the embedded default's CPU per filing."""
    relayed = 0
    for ids, previous in _claims(due):
        claimed = _claim(ids, previous, now, job_id=None)
        if not claimed:
            continue  # another relay took them
        relayed += len(claimed)
        process_outbox_batch(claimed)  # raises after the batch when one of them failed
    return relayed


def _hand_to_queue(due, now) -> int:
    queue = jobs.queue()
    relayed = 0
    for ids, previous in _claims(due):
        # The queue's name in the job id: two deployments (or test runs) sharing one Redis
        # never overwrite each other's jobs; the time keeps a re-relay's job apart.
        job_id = f"{queue.name}-outbox-{ids[0]}-{int(now.timestamp() * 1000)}"
        claimed = _claim(ids, previous, now, job_id=job_id)
        if not claimed:
            continue
        try:
            queue.enqueue(
                PROCESS_BATCH_JOB,
                claimed,
                job_id=job_id,
                retry=retry_policy(),
                result_ttl=0,  # nobody reads results: the database says what happened
                failure_ttl=7 * 24 * 3600,
            )
        except RedisError as exc:
            _release(claimed, exc)
            log.warning("queue unavailable, %s outbox messages wait: %s", len(claimed), exc)
            break
        relayed += len(claimed)
    return relayed


def _claim(ids: list[int], previous_relay, now, *, job_id: str | None) -> list[int]:
    """Compare-and-set on the relay time read: two relays racing never both hand one over."""
    claimed = db.session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.done_at.is_(None),
            OutboxMessage.relayed_at.is_not_distinct_from(previous_relay),
        )
        .values(
            relayed_at=now,
            relay_job_id=job_id,
            relay_attempts=OutboxMessage.relay_attempts + 1,
        )
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def _release(ids: list[int], exc: Exception) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(relayed_at=None, relay_job_id=None, last_error=str(exc)[:500])
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def recover_lost_jobs(limit: int = 500) -> int:
    """Relayed messages whose job Redis no longer has (restarted without persistence), or
    whose job failed outright, or started on a worker that died (SIGKILL): hand them over
    again now instead of after the lease. Returns how many were released for the relay."""
    if not jobs.uses_redis():
        return 0
    now = utcnow()
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.relayed_at, OutboxMessage.relay_job_id)
        .where(
            OutboxMessage.done_at.is_(None),
            OutboxMessage.relayed_at.is_not(None),
            OutboxMessage.relayed_at < now - lost_check_after(),
            OutboxMessage.relay_job_id.is_not(None),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    if not rows:
        return 0
    job_ids = sorted({job_id for _id, _at, job_id in rows})
    try:
        found = Job.fetch_many(job_ids, connection=jobs.redis_connection())
    except RedisError as exc:
        log.warning("cannot check relayed jobs: %s", exc)
        return 0
    lost = {job_id for job_id, job in zip(job_ids, found, strict=True) if _is_lost(job, now)}
    released = 0
    for message_id, relayed_at, job_id in rows:
        if job_id not in lost:
            continue
        released += db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.relayed_at == relayed_at,
                OutboxMessage.done_at.is_(None),
            )
            .values(relayed_at=None, relay_job_id=None, last_error=f"job {job_id} lost")
            .execution_options(synchronize_session=False)
        ).rowcount
    db.session.commit()
    if released:
        log.warning("re-relaying %s outbox messages whose jobs were lost", released)
    return released


def _is_lost(job: Job | None, now) -> bool:
    if job is None:
        return True  # Redis forgot it
    status = job.get_status(refresh=False)
    if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.FINISHED):
        return True  # finished, yet its messages are not done: something broke on the way
    if status == JobStatus.STARTED:
        heartbeat = job.last_heartbeat or job.started_at
        if heartbeat is None:
            return False
        if heartbeat.tzinfo is None:
            heartbeat = heartbeat.replace(tzinfo=UTC)
        return heartbeat < now - started_timeout()
    return False  # queued, scheduled for a retry, deferred: the queue will run it


def process_outbox_message(message_id: int) -> None:
    """Run the recorded side effect once and mark it done. Takes an id, reloads."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.done_at is not None:
        return
    import_string(message.job)(*message.payload["args"])
    _mark_done([message])
    db.session.commit()


def process_outbox_batch(message_ids: list[int]) -> None:
    """The queued job: every message of the batch, each side effect committing on its own.

    One SELECT reads the batch and one UPDATE marks it done at the end: the side effects are
    idempotent (a delivered notification is not sent again), so a worker dying before the
    last UPDATE costs a re-relay, never a second message. A message that fails does not hold
    up the others; the job raises at the end so that RQ retries it on its schedule, and the
    retry skips what is done.

    Messages the batch's jobs write (the receipt job's text) are claimed and run by this job
    right after, as a batch of their own: handing them back to the relay would cost each a
    wake-up, a claim, a queue round trip and RQ's bookkeeping for a job of a message or two.
    """
    job = get_current_job()
    failure: Exception | None = None
    for _ in range(1 + FOLLOW_UP_ROUNDS):
        written, failed = _run_batch(message_ids, job)
        failure = failure or failed
        message_ids = _claim_follow_ups(written, job)
        if not message_ids:
            break
    if failure is not None:
        raise failure


def _claim_follow_ups(written: list[int], job) -> list[int]:
    if not written:
        return []
    claimed = _claim(written, None, utcnow(), job_id=job.id if job is not None else None)
    db.session.commit()
    return claimed


def _run_batch(message_ids: list[int], job) -> tuple[list[int], Exception | None]:
    """(ids of the messages its jobs wrote and committed, the first failure)."""
    written: list[OutboxMessage] = []
    token = _written_by_jobs.set(written)
    try:
        failure = _run_handlers(message_ids, job)
    finally:
        _written_by_jobs.reset(token)
    # Committed rows keep their identity; rows of a rolled-back job have none.
    ids = [identity[0] for m in written if (identity := inspect(m).identity) is not None]
    return ids, failure


def _run_handlers(message_ids: list[int], job) -> Exception | None:
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.job, OutboxMessage.payload)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.done_at.is_(None))
        .order_by(OutboxMessage.id)
    ).all()
    last_beat = time.monotonic()
    done: list = []
    failure: Exception | None = None
    # Jobs in the order their first message was written (a filing's receipt before its code).
    by_job: dict[str, list] = {}
    for row in rows:
        by_job.setdefault(row.job, []).append(row)
    for job_name, group in by_job.items():
        handler = import_string(job_name)
        batch = getattr(handler, "batch", None)
        try:
            if batch is not None:
                # The job's batch form: the arguments of each message (an id first, then
                # whatever else the job takes), failures named by that id.
                failed = batch([row.payload["args"] for row in group])
                done.extend(row for row in group if row.payload["args"][0] not in failed)
                failure = failure or next(iter(failed.values()), None)
            else:
                for row in group:
                    try:
                        handler(*row.payload["args"])
                        done.append(row)
                    except Exception as exc:
                        db.session.rollback()
                        failure = failure or exc
        except Exception as exc:
            db.session.rollback()
            failure = failure or exc
        if job is not None and time.monotonic() - last_beat > HEARTBEAT_SECONDS:
            # A slow provider: tell recover_lost_jobs this job is alive.
            job.heartbeat(utcnow(), ttl=int(started_timeout().total_seconds()) * 4)
            last_beat = time.monotonic()
    if done:
        _mark_done(done)
    db.session.commit()
    return failure


def relay_after_commit() -> None:
    """Relay now, in this process; a queue outage must never fail the caller. What the jobs
    write in turn (the receipt job's text) is run by their batch (process_outbox_batch)."""
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
    # "worker": the worker's relay loop finds the rows by its short poll.
