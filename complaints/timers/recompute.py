"""Calendar corrections reach running deadlines (issue 12 item 3).

When an admin enters a State Council notice (a day on or off, or a year declared complete),
every open case deadline and every unpaid recovery order whose dates depend on a changed day
is computed again from its start with the corrected calendar. Where the due time or the
provisional flag changes, the case records the change (a hash-chained event naming the old
and new time) and the party who owes the deadline is told.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select

from complaints.cases.audit import append_event
from complaints.cases.models import Case, CaseEvent
from complaints.clock import LOCAL_ZONE
from complaints.events import DeadlineMoved, publish
from complaints.extensions import db
from complaints.timers.models import CaseDeadline
from complaints.timers.services import current_calendar, current_policy, next_reminder_after
from workflows.calendar import WorkingCalendar
from workflows.deadlines import add_time_limit, deadline_for
from workflows.states import DeadlineKind, Role

# Who owes each deadline, and so who hears that it moved.
MOVED_NOTICE = {
    DeadlineKind.MERCHANT_RESPONSE: "merchant_deadline_moved",
    DeadlineKind.APPEAL_WINDOW: "tourist_deadline_moved",
    DeadlineKind.IDENTITY_VERIFICATION: "tourist_deadline_moved",
}
REGULATOR_NOTICE = "regulator_deadline_moved"


@dataclass
class RecomputeReport:
    deadlines_moved: int = 0
    recoveries_moved: int = 0
    cases: set[int] = field(default_factory=set)


def _local(moment: datetime) -> date:
    return moment.astimezone(LOCAL_ZONE).date()


def _depends_on(start: datetime, due: datetime, provisional: bool, days, years) -> bool:
    first, last = _local(start), _local(due)
    if any(first <= day <= last for day in days):
        return True
    return provisional and any(first.year <= year <= last.year for year in years)


def _pauses(case_id: int, since: datetime) -> list[tuple[datetime, datetime]]:
    """The finished appraisal pauses of the deadline that started at `since`."""
    events = db.session.execute(
        select(CaseEvent.trigger, CaseEvent.created_at)
        .where(
            CaseEvent.case_id == case_id,
            CaseEvent.created_at >= since,
            CaseEvent.trigger.in_(("pause_for_appraisal", "resume_after_appraisal")),
        )
        .order_by(CaseEvent.seq)
    ).all()
    spans, paused_at = [], None
    for trigger, at in events:
        if trigger == "pause_for_appraisal":
            paused_at = at
        elif paused_at is not None:
            spans.append((paused_at, at))
            paused_at = None
    return spans


def recompute_after_calendar_change(
    *, days: set[date] = frozenset(), years: set[int] = frozenset(), actor: str, now: datetime
) -> RecomputeReport:
    """Recompute what depends on `days` (corrected) or on provisional `years` (now official).

    Flushes only; the command or request commits.
    """
    report = RecomputeReport()
    calendar = current_calendar()
    running = db.session.scalars(select(CaseDeadline).where(CaseDeadline.closed_at.is_(None)))
    for deadline in running.all():
        if _depends_on(deadline.started_at, deadline.due_at, deadline.provisional, days, years):
            _recompute_deadline(deadline, calendar, actor, now, report)
    _recompute_recoveries(days, years, calendar, actor, now, report)
    db.session.flush()
    return report


def _recompute_deadline(deadline, calendar: WorkingCalendar, actor, now, report) -> None:
    case = db.session.get(Case, deadline.case_id)
    result = deadline_for(
        deadline.kind,
        deadline.started_at,
        current_policy(case, at=deadline.started_at),
        calendar,
        pauses=_pauses(case.id, deadline.started_at),
        stage=(deadline.state, case.state_entered_at),
    )
    if (result.due, result.provisional) == (deadline.due_at, deadline.provisional):
        return
    before = deadline.due_at
    deadline.due_at, deadline.provisional = result.due, result.provisional
    if deadline.paused_at is None:
        deadline.next_reminder_at = next_reminder_after(deadline, now)
    _record(case, f"{deadline.kind.value}", before, result.due, actor, now)
    notice = MOVED_NOTICE.get(deadline.kind, REGULATOR_NOTICE)
    publish(DeadlineMoved(case=case, notice=notice, due_at=result.due, now=now))
    report.deadlines_moved += 1
    report.cases.add(case.id)


def _recompute_recoveries(days, years, calendar, actor, now, report) -> None:
    from complaints.compensation.models import Claim, RecoveryOrder, RecoveryState

    orders = db.session.scalars(
        select(RecoveryOrder).where(
            RecoveryOrder.state.in_([RecoveryState.OPEN, RecoveryState.REPAYMENT_RECORDED]),
            RecoveryOrder.overdue_at.is_(None),
            or_(RecoveryOrder.due_provisional.is_(True), RecoveryOrder.due_at > now),
        )
    ).all()
    for order in orders:
        if not _depends_on(order.created_at, order.due_at, order.due_provisional, days, years):
            continue
        case = db.session.get(Claim, order.claim_id).case
        limit = current_policy(case, at=order.created_at).limit_for(DeadlineKind.RECOVERY_DUE)
        result = add_time_limit(order.created_at, limit, calendar)
        if (result.due, result.provisional) == (order.due_at, order.due_provisional):
            continue
        before = order.due_at
        order.due_at, order.due_provisional = result.due, result.provisional
        _record(case, "recovery_due", before, result.due, actor, now)
        publish(DeadlineMoved(case=case, notice="recovery_due_moved", due_at=result.due, now=now))
        report.recoveries_moved += 1
        report.cases.add(case.id)


def _record(case: Case, what: str, before: datetime, after: datetime, actor, now) -> None:
    append_event(
        case,
        trigger="deadline_recomputed",
        from_state=case.state,
        to_state=case.state,
        role=Role.ADMIN,
        actor_id=actor[:64],
        reason=(
            f"{what}: {before.astimezone(LOCAL_ZONE):%Y-%m-%d %H:%M} -> "
            f"{after.astimezone(LOCAL_ZONE):%Y-%m-%d %H:%M} (calendar correction)"
        ),
        now=now,
    )
