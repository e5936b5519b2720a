"""Opening and closing case deadlines from the workflow table, policy and calendar."""

from datetime import datetime

from sqlalchemy import select, update

from complaints.extensions import db
from complaints.timers.models import CalendarOverride, CalendarYear, CaseDeadline
from workflows.calendar import DeadlineResult, WorkingCalendar
from workflows.deadlines import UNREMINDED_KINDS, deadline_for, reminder_times
from workflows.machine import Transition
from workflows.policy import Policy
from workflows.states import CaseState, DeadlineKind


def current_policy(at: datetime | None = None) -> Policy:
    """The workflow policy in force at ``at`` (now by default): the environment's values,
    overridden by an admin's policy version once its effective time has come. A deadline is
    computed with the policy of the moment it started, so an edit never moves running ones."""
    from complaints.policies.services import WORKFLOW, policy_at

    return policy_at(WORKFLOW, at)


def current_calendar() -> WorkingCalendar:
    """Overrides are few and change rarely; read per call so an admin's edit applies at once."""
    overrides = {
        row.day: row.is_working_day for row in db.session.scalars(select(CalendarOverride))
    }
    complete = set(db.session.scalars(select(CalendarYear.year)))
    return WorkingCalendar(overrides, complete_years=complete)


def open_deadline(
    case_id: int, transition: Transition, state: CaseState, now: datetime
) -> CaseDeadline | None:
    """Close whatever deadline ran in the previous state and start the one the table names."""
    close_open_deadlines(case_id, now)
    kind = transition.starts_deadline
    if kind is None:
        return None
    policy, calendar = current_policy(now), current_calendar()
    result = deadline_for(kind, now, policy, calendar)
    deadline = CaseDeadline(
        case_id=case_id,
        kind=kind,
        state=state,
        started_at=now,
        due_at=result.due,
        provisional=result.provisional,
        next_reminder_at=_first_reminder(kind, now, result, policy, calendar),
    )
    db.session.add(deadline)
    db.session.flush()
    return deadline


def _first_reminder(kind: DeadlineKind, start, due, policy, calendar):
    if kind in UNREMINDED_KINDS:
        return None
    times = reminder_times(kind, start, policy, calendar, due=due)
    return min(times) if times else None


def next_reminder_after(deadline: CaseDeadline, moment: datetime) -> datetime | None:
    if deadline.kind in UNREMINDED_KINDS:
        return None
    due = DeadlineResult(deadline.due_at, deadline.provisional)
    times = reminder_times(
        deadline.kind,
        deadline.started_at,
        current_policy(deadline.started_at),
        current_calendar(),
        due=due,
    )
    later = [t for t in times if t > moment]
    return min(later) if later else None


def close_open_deadlines(case_id: int, now: datetime) -> None:
    db.session.execute(
        update(CaseDeadline)
        .where(CaseDeadline.case_id == case_id, CaseDeadline.closed_at.is_(None))
        .values(closed_at=now)
    )


def open_deadline_for(case_id: int) -> CaseDeadline | None:
    return db.session.scalar(
        select(CaseDeadline)
        .where(CaseDeadline.case_id == case_id, CaseDeadline.closed_at.is_(None))
        .order_by(CaseDeadline.id.desc())
        .limit(1)
    )


def set_calendar_day(day, *, working: bool, note: str, actor: str) -> CalendarOverride:
    """An admin's correction; it wins over the packaged calendar from the next computation."""
    override = db.session.get(CalendarOverride, day)
    if override is None:
        override = CalendarOverride(day=day)
        db.session.add(override)
    override.is_working_day, override.note, override.set_by = working, note, actor
    db.session.flush()
    return override


def declare_year_complete(year: int, *, note: str, actor: str) -> CalendarYear:
    """The year's overrides now match the State Council notice: deadlines stop being provisional."""
    row = db.session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year, note=note, set_by=actor)
        db.session.add(row)
        db.session.flush()
    return row
