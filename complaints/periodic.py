"""Everything that runs on a timer, in one place: the `workflows tick` command and the RQ
scheduler's job both call `run_periodic`. Each step is idempotent and commits per item, so
several machines may run it at once and a failed step never blocks the others."""

import logging
from datetime import datetime

from complaints import jobs
from complaints.database import utcnow

log = logging.getLogger(__name__)


def run_periodic(now: datetime | None = None) -> dict[str, int]:
    from complaints.alerts.services import evaluate as evaluate_alerts
    from complaints.analytics.rollups import refresh_recent
    from complaints.compensation.recovery import mark_overdue_recoveries
    from complaints.credit.recompute import refresh_expired_scores
    from complaints.notices.jobs import retry_due_notifications
    from complaints.outbox.services import relay_pending
    from complaints.supervision.services import mark_overdue_rectifications
    from complaints.timers.tick import run_tick

    now = now or utcnow()
    tick = run_tick(now)
    for error in tick.errors:
        log.error("tick: %s", error)
    counts = {"reminders": tick.reminders, "expired": tick.expired, "errors": len(tick.errors)}
    counts["recoveries_overdue"] = mark_overdue_recoveries(now)
    counts["credit_refreshed"] = refresh_expired_scores(now).refreshed
    counts["rollup_rows"] = _step("analytics rollups", lambda: refresh_recent(now))
    counts["rectifications_overdue"] = _step(
        "rectification deadlines", lambda: mark_overdue_rectifications(now)
    )
    counts["alerts_raised"] = _step("alert rules", lambda: evaluate_alerts(now))
    if not jobs.uses_redis():
        # Under RQ, delivery retries are RQ's own; inline, this sweep is the retry.
        counts["notifications_retried"] = retry_due_notifications(now)
    counts["outbox_relayed"] = relay_pending()
    return counts


def _step(name: str, run) -> int:
    """A step that must not stop the ones after it: logged, rolled back, counted as 0."""
    from complaints.extensions import db

    try:
        return run()
    except Exception:
        db.session.rollback()
        log.exception("periodic step failed: %s", name)
        return 0
