"""The timer tick: reminders before deadlines and escalation at them.

Idempotent and safe on several machines at once: each due row is claimed with a conditional
UPDATE (compare-and-set on the value we read) and only the claimant acts; each item commits on
its own so one failure never blocks the rest. Indexed look-ups only (case_deadlines' due and
reminder indexes), never a scan of cases.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from complaints.cases.models import Case
from complaints.cases.workflow import SYSTEM, fire
from complaints.clock import local_today
from complaints.database import utcnow
from complaints.events import ReminderDue, publish
from complaints.extensions import db
from complaints.timers.models import CaseDeadline
from complaints.timers.services import next_reminder_after
from workflows.grounds import unverified_identity_ground
from workflows.machine import TransitionRefused
from workflows.states import CaseState, DeadlineKind

log = logging.getLogger(__name__)
BATCH = 500

# What the system does when a deadline passes, by the state it was running in.
ON_EXPIRY = {
    CaseState.SUBMITTED: "identity_not_verified",  # Order 121: never verified, not accepted
    CaseState.MERCHANT_RESPONSE: "merchant_deadline_passed",
    CaseState.REGULATOR_REVIEW: "escalate",
    CaseState.MEDIATION: "escalate",
    # The parties were told at termination (Art. 21): the case closes, nobody is escalated.
    CaseState.TERMINATED: "close",
    CaseState.DECLINED: "close",  # the appeal window of a declined case ran out
}
REMINDED_PARTY = {
    DeadlineKind.MERCHANT_RESPONSE: "merchant_reminder",
    DeadlineKind.IDENTITY_VERIFICATION: "verify_reminder",
}


@dataclass
class TickReport:
    reminders: int = 0
    expired: int = 0
    errors: list[str] = field(default_factory=list)


def run_tick(now: datetime | None = None) -> TickReport:
    now = now or utcnow()
    report = TickReport()
    _send_reminders(now, report)
    _expire_deadlines(now, report)
    return report


def _send_reminders(now: datetime, report: TickReport) -> None:
    due = db.session.execute(
        select(CaseDeadline.id, CaseDeadline.next_reminder_at)
        .where(
            CaseDeadline.closed_at.is_(None),
            CaseDeadline.paused_at.is_(None),
            CaseDeadline.next_reminder_at <= now,
        )
        .order_by(CaseDeadline.next_reminder_at)
        .limit(BATCH)
    ).all()
    for deadline_id, reminder_at in due:
        try:
            deadline = db.session.get(CaseDeadline, deadline_id)
            claimed = db.session.execute(
                update(CaseDeadline)
                .where(CaseDeadline.id == deadline_id, CaseDeadline.next_reminder_at == reminder_at)
                .values(
                    next_reminder_at=next_reminder_after(deadline, reminder_at),
                    reminders_sent=CaseDeadline.reminders_sent + 1,
                )
            ).rowcount
            if claimed:
                case = db.session.get(Case, deadline.case_id)
                party = REMINDED_PARTY.get(deadline.kind, "regulator_reminder")
                event_key = f"{party}:{reminder_at.isoformat()}"
                publish(ReminderDue(case=case, event_key=event_key, due_at=deadline.due_at))
                report.reminders += 1
            db.session.commit()
        except SQLAlchemyError as exc:
            db.session.rollback()
            report.errors.append(f"reminder {deadline_id}: {exc}")
            log.exception("reminder for deadline %s failed", deadline_id)


def _expire_deadlines(now: datetime, report: TickReport) -> None:
    due_ids = db.session.scalars(
        select(CaseDeadline.id)
        .where(
            CaseDeadline.closed_at.is_(None),
            CaseDeadline.fired_at.is_(None),
            CaseDeadline.paused_at.is_(None),  # no deadline fires while its case is paused
            CaseDeadline.due_at <= now,
        )
        .order_by(CaseDeadline.due_at)
        .limit(BATCH)
    ).all()
    for deadline_id in due_ids:
        try:
            claimed = db.session.execute(
                update(CaseDeadline)
                .where(
                    CaseDeadline.id == deadline_id,
                    CaseDeadline.fired_at.is_(None),
                    CaseDeadline.paused_at.is_(None),
                )
                .values(fired_at=now)
            ).rowcount
            if claimed:
                _act_on_expiry(db.session.get(CaseDeadline, deadline_id), now)
                report.expired += 1
            db.session.commit()
        except (SQLAlchemyError, TransitionRefused) as exc:
            db.session.rollback()
            report.errors.append(f"deadline {deadline_id}: {exc}")
            log.exception("expiry of deadline %s failed", deadline_id)


def _act_on_expiry(deadline: CaseDeadline, now: datetime) -> None:
    case = db.session.get(Case, deadline.case_id)
    trigger = ON_EXPIRY.get(case.state)
    if trigger == "merchant_deadline_passed" and case.offer_pending:
        trigger = "offer_unanswered"  # the tourist, not the merchant, let the time pass
    if trigger is None or case.state is not deadline.state:
        # Nothing follows (an appeal window simply ends) or the case moved on: the deadline
        # is history and must stop counting as running, or queues would sort by it forever.
        deadline.closed_at = now
        return
    reason = f"{deadline.kind.value} deadline passed at {deadline.due_at.isoformat()}"
    ground = None
    if trigger == "identity_not_verified":
        ground = unverified_identity_ground(local_today(case.created_at)).value
    fire(case, trigger, SYSTEM, now=now, reason=reason, ground=ground)
