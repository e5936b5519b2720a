"""The RQ worker: every job runs inside the app context, on a fresh database pool after fork."""

from flask import current_app
from rq import Worker

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
    worker = AppContextWorker([jobs.DEFAULT_QUEUE], connection=jobs.redis_connection())
    worker.work(burst=burst, with_scheduler=True)
