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
    from complaints.cases.numbering import drop_finished_day_sequences
    from complaints.compensation.clocks import chase_claims
    from complaints.compensation.deposits import escalate_missed_top_ups
    from complaints.compensation.recovery import mark_overdue_recoveries
    from complaints.credit.recompute import refresh_expired_scores
    from complaints.notices.jobs import retry_due_notifications
    from complaints.outbox.services import recover_lost_jobs, relay_pending
    from complaints.supervision.services import mark_overdue_rectifications
    from complaints.timers.tick import run_tick
    from complaints.verification.reminders import send_confirmation_reminders

    now = now or utcnow()
    tick = run_tick(now)
    for error in tick.errors:
        log.error("tick: %s", error)
    counts = {"reminders": tick.reminders, "expired": tick.expired, "errors": len(tick.errors)}
    counts["recoveries_overdue"] = mark_overdue_recoveries(now)
    counts.update(chase_claims(now))
    counts["deposit_top_ups_missed"] = escalate_missed_top_ups(now)
    counts["phone_reminders"] = send_confirmation_reminders(now)
    counts["credit_refreshed"] = refresh_expired_scores(now).refreshed
    counts["rollup_rows"] = _step("analytics rollups", lambda: refresh_recent(now))
    counts["rectifications_overdue"] = _step(
        "rectification deadlines", lambda: mark_overdue_rectifications(now)
    )
    counts["alerts_raised"] = _step("alert rules", lambda: evaluate_alerts(now))
    if not jobs.uses_redis():
        # Under RQ, delivery retries are RQ's own; inline, this sweep is the retry.
        counts["notifications_retried"] = retry_due_notifications(now)
    counts["personal_data_purged"] = _purge(now)
    counts["case_number_sequences_dropped"] = _step(
        "case number sequences", lambda: drop_finished_day_sequences(now)
    )
    counts["outbox_lost_jobs"] = recover_lost_jobs()
    counts["webhooks_due"] = _webhooks_due(now)
    counts["credit_exports"] = _daily_credit_export(now)
    counts["outbox_relayed"] = relay_pending()
    return counts


def _purge(now: datetime) -> int:
    from complaints.privacy.services import purge_due

    report = purge_due(now)
    return report.ended + report.unverified


def _webhooks_due(now: datetime) -> int:
    from complaints.hooks_out.services import queue_due_deliveries

    return queue_due_deliveries(now)


def _daily_credit_export(now: datetime) -> int:
    from complaints.credit_exchange.exports import export_if_due

    return export_if_due(now)


def _step(name: str, run) -> int:
    """A step that must not stop the ones after it: logged, rolled back, counted as 0."""
    from complaints.extensions import db

    try:
        return run()
    except Exception:
        db.session.rollback()
        log.exception("periodic step failed: %s", name)
        return 0
