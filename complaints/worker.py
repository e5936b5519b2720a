"""The RQ worker: one process, one app, one database pool, no fork per job.

RQ's default worker forks a work horse for every job; each fork paid for a fresh database
connection and the app's set-up in the child (about 200 ms of CPU per filing's two messages).
Jobs here take ids, reload and commit, so they need no isolation a fork would give: this
worker runs them in its own process, each inside an app context of the one app. It also runs
the outbox relay (polling every OUTBOX_POLL_SECONDS) and survives a Redis
outage by reconnecting with backoff instead of exiting.
"""

import ctypes
import logging
import os
import signal
import sys
import time

from flask import current_app
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker
from rq.cron import CronScheduler

from complaints import jobs
from complaints.extensions import db

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0


class AppContextWorker(SimpleWorker):
    """Runs each job in this process, inside the app context, then returns the connection."""

    flask_app = None

    def perform_job(self, job, queue, *args, **kwargs):
        with self.flask_app.app_context():
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent(parent_pid: int) -> None:
    """In a child forked from the worker (RQ's scheduler process): die when the worker dies.

    The child inherits the worker's open database sockets. A worker killed mid-batch (SIGKILL)
    would otherwise leave the child holding them, PostgreSQL would keep the dead worker's
    transaction open, and its row locks would stop every other worker (seen in the fault run).
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the worker died before the call above
        os._exit(1)


def run_worker(*, burst: bool = False, relay: bool = True, backoff: float = 1.0) -> None:
    """Work until stopped (or, with `burst`, until the queue is empty). A lost Redis is waited
    for with exponential backoff; the relay thread keeps the outbox moving meanwhile (messages
    wait in the database, nothing is lost)."""
    app = current_app._get_current_object()
    worker_pid = os.getpid()
    os.register_at_fork(after_in_child=lambda: _die_with_parent(worker_pid))
    if relay and not burst:
        from complaints.outbox.relay import start_relay_threads

        start_relay_threads(app)
    delay = backoff
    while True:
        try:
            worker = AppContextWorker([jobs.queue_name()], connection=jobs.redis_connection())
            worker.flask_app = app
            worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
            return
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            log.warning("worker lost Redis (%s); reconnecting in %.1fs", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)


def scheduled_tick() -> None:
    """The RQ job behind the scheduler."""
    from complaints.periodic import run_periodic

    run_periodic()


def daily_credit_tick() -> None:
    """Complaint-free periods look at every merchant: once a day, not every minute."""
    from complaints.credit.recompute import grant_complaint_free_periods
    from complaints.database import utcnow

    grant_complaint_free_periods(utcnow())


def run_cron_scheduler(interval: int, *, backoff: float = 1.0) -> None:
    """Like the worker, it waits out a Redis outage instead of exiting."""
    delay = backoff
    while True:
        try:
            scheduler = CronScheduler(connection=jobs.redis_connection())
            scheduler.register(scheduled_tick, queue_name=jobs.queue_name(), interval=interval)
            # 03:00 Beijing time is 19:00 UTC, when the platform is quietest.
            scheduler.register(daily_credit_tick, queue_name=jobs.queue_name(), cron="0 19 * * *")
            scheduler.start()
            return
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            log.warning("scheduler lost Redis (%s); reconnecting in %.1fs", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
