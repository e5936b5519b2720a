"""Raising alerts (the tick), e-mailing the duty inbox (through the outbox), and working them
to closure (the console). Services flush; the tick step and the requests commit."""

import logging
from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from complaints import jobs
from complaints.agencies.models import Agency
from complaints.alerts.models import Alert, AlertStatus
from complaints.alerts.policy import current_alert_policy
from complaints.alerts.rules import RULES, Finding
from complaints.extensions import db
from complaints.outbox.services import add_outbox_message
from notifications.base import DeliveryError, OutgoingMessage

log = logging.getLogger(__name__)
EMAIL_JOB = "complaints.alerts.services.email_alert"
MAX_NOTE = 2000


class AlertRefused(ValueError):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def evaluate(now: datetime) -> int:
    """Run every rule; each finding not raised before becomes an alert. Returns new alerts."""
    policy = current_alert_policy()
    raised = 0
    for rule in RULES:
        try:
            findings = rule(now, policy)
            raised += sum(1 for finding in findings if raise_alert(finding, now) is not None)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("alert rule %s failed", rule.__name__)
    return raised


def raise_alert(finding: Finding, now: datetime) -> Alert | None:
    """Insert once per dedupe key (a concurrent tick inserts nothing); queue its e-mail."""
    table = Alert.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    alert_id = db.session.execute(
        dialect.insert(table)
        .values(
            rule=finding.rule,
            dedupe_key=finding.dedupe_key,
            agency_id=finding.agency_id,
            enterprise_id=finding.enterprise_id,
            outlet_id=finding.outlet_id,
            figures=finding.figures,
            case_ids=finding.case_ids,
            status=AlertStatus.OPEN,
            raised_at=now,
            note="",
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)
    ).scalar_one_or_none()
    if alert_id is None:
        return None
    add_outbox_message(EMAIL_JOB, alert_id)
    return db.session.get(Alert, alert_id)


def email_alert(alert_id: int) -> None:
    """The outbox job: one e-mail to the agency's duty inbox, in Chinese."""
    from complaints.notices.jobs import channel_for

    alert = db.session.get(Alert, alert_id)
    agency = db.session.get(Agency, alert.agency_id) if alert else None
    if agency is None or not agency.notify_email:
        return
    with force_locale("zh"):
        from complaints.alerts.presenters import describe, rule_label

        # Built by hand: jobs run outside any request, where url_for has no host to use.
        link = f"{current_app.config['PUBLIC_BASE_URL']}/console/alerts/{alert.id}"
        body = render_template(
            "notices/regulator/alert.email.txt",
            alert=alert,
            summary=describe(alert),
            rule_label=rule_label(alert.rule),
            link=link,
        )
        subject = f"[安心] 风险预警：{rule_label(alert.rule)}"
    message = OutgoingMessage(channel="email", to=agency.notify_email, body=body, subject=subject)
    try:
        channel_for("email").send(message)
    except DeliveryError:
        if jobs.uses_redis():
            raise  # RQ tries again on its schedule; the outbox keeps the message until done
        log.exception("alert %s e-mail failed", alert_id)


def alert_for(alert_id: int, account) -> Alert | None:
    alert = db.session.get(Alert, alert_id)
    if alert is None or alert.agency_id != account.agency_id:
        return None
    return alert


def acknowledge(alert: Alert, account, note: str, now: datetime) -> None:
    if alert.status is not AlertStatus.OPEN:
        raise AlertRefused(_l("Only an open alert can be acknowledged."))
    alert.status, alert.acknowledged_at, alert.acknowledged_by = (
        AlertStatus.ACKNOWLEDGED,
        now,
        account.id,
    )
    _append_note(alert, account, note, now)
    db.session.flush()


def close(alert: Alert, account, note: str, now: datetime) -> None:
    if alert.status is AlertStatus.CLOSED:
        raise AlertRefused(_l("This alert is already closed."))
    if not (note or "").strip():
        raise AlertRefused(_l("Write a note saying how the alert was dealt with."))
    alert.status, alert.closed_at, alert.closed_by = AlertStatus.CLOSED, now, account.id
    _append_note(alert, account, note, now)
    db.session.flush()


def _append_note(alert: Alert, account, note: str, now: datetime) -> None:
    note = (note or "").strip()
    if note:
        line = f"{now.isoformat(timespec='minutes')} {account.name}: {note}"
        alert.note = f"{alert.note}\n{line}".strip()


def open_alerts(agency_id: int, limit: int = 100) -> list[Alert]:
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.agency_id == agency_id, Alert.status != AlertStatus.CLOSED)
            .order_by(Alert.raised_at.desc(), Alert.id.desc())
            .limit(limit)
        )
    )


def open_count(agency_id: int) -> int:
    return db.session.scalar(
        select(func.count(Alert.id)).where(
            Alert.agency_id == agency_id, Alert.status == AlertStatus.OPEN
        )
    )


def recent_closed(agency_id: int, limit: int = 20) -> list[Alert]:
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.agency_id == agency_id, Alert.status == AlertStatus.CLOSED)
            .order_by(Alert.closed_at.desc())
            .limit(limit)
        )
    )
