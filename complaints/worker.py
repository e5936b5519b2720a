"""The RQ worker: every job runs inside the app context, on a fresh database pool after fork."""

from flask import current_app
from rq import Worker
from rq.cron import CronScheduler

from complaints import jobs
from complaints.extensions import db


class AppContextWorker(Worker):
    """Jobs take ids and reload; the context gives them the session and configuration."""

    flask_app = None

    def perform_job(self, job, queue, *args, **kwargs):
        with self.flask_app.app_context():
            # Connections inherited through fork are shared with the parent: never reuse them.
            db.engine.dispose(close=False)
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()


def run_worker(*, burst: bool = False) -> None:
    app = current_app._get_current_object()
    AppContextWorker.flask_app = app
    worker = AppContextWorker([jobs.queue_name()], connection=jobs.redis_connection())
    worker.work(burst=burst, with_scheduler=True)


def scheduled_tick() -> None:
    """The RQ job behind the scheduler."""
    from complaints.periodic import run_periodic

    run_periodic()


def daily_credit_tick() -> None:
    """Complaint-free periods look at every merchant: once a day, not every minute."""
    from complaints.credit.recompute import grant_complaint_free_periods
    from complaints.database import utcnow

    grant_complaint_free_periods(utcnow())


def run_cron_scheduler(interval: int) -> None:
    scheduler = CronScheduler(connection=jobs.redis_connection())
    scheduler.register(scheduled_tick, queue_name=jobs.queue_name(), interval=interval)
    # 03:00 Beijing time is 19:00 UTC, when the platform is quietest.
    scheduler.register(daily_credit_tick, queue_name=jobs.queue_name(), cron="0 19 * * *")
    scheduler.start()
