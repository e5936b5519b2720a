"""Opening and closing case deadlines from the workflow table, policy and calendar."""

from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from complaints import lookups
from complaints.database import utcnow
from complaints.extensions import db
from complaints.timers.models import CalendarOverride, CalendarYear, CaseDeadline
from workflows.calendar import DeadlineResult, WorkingCalendar
from workflows.deadlines import UNREMINDED_KINDS, deadline_for, extend_for_pause, reminder_times
from workflows.machine import Transition
from workflows.policy import Policy, PolicySet
from workflows.states import CaseState, DeadlineKind


def policy_set(at: datetime | None = None) -> PolicySet:
    """The workflow policies in force at `at` (now by default): the environment's values,
    overridden by an admin's policy version once its effective time has come. A deadline is
    computed with the policies of the moment it started, so an edit never moves running ones."""
    from complaints.policies.services import WORKFLOW, policy_at

    return policy_at(WORKFLOW, at)


def current_policy(case=None, *, at: datetime | None = None) -> Policy:
    """The time limits for `case` (its agency and category scopes), or the province's, in
    force at `at` (now by default).

    `app.extensions["anxin_policy"]`, when set, is one policy for everything (tests, demos).
    """
    fixed = current_app.extensions.get("anxin_policy")
    if fixed is not None:
        return fixed
    policies = policy_set(at)
    if case is None:
        return policies.province
    # Policy sets are kept for the process's life (policy_at caches them), so id() is stable.
    key = (
        id(policies),
        case.agency.slug if case.agency is not None else None,
        case.category.value,
    )
    cache = current_app.extensions.setdefault("anxin_policy_cache", {})
    if key not in cache:
        cache[key] = policies.resolve(*key[1:])
    return cache[key]


def policy_for_case_id(case_id: int, *, at: datetime | None = None) -> Policy:
    from complaints.cases.models import Case

    return current_policy(db.session.get(Case, case_id), at=at)


def current_calendar() -> WorkingCalendar:
    """Overrides are few and change rarely: cached, and an admin's edit empties the cache at
    commit (complaints.lookups), so it applies at once."""
    return lookups.value(("calendar",), load_calendar)


def load_calendar() -> WorkingCalendar:
    """The calendar as the database holds it now, uncommitted corrections included."""
    overrides = {
        row.day: row.is_working_day for row in db.session.scalars(select(CalendarOverride))
    }
    complete = set(db.session.scalars(select(CalendarYear.year)))
    return WorkingCalendar(overrides, complete_years=complete)


def open_deadline(
    case_id: int,
    transition: Transition,
    state: CaseState,
    now: datetime,
    *,
    stage_entered_at: datetime | None = None,
    policy: Policy | None = None,
) -> CaseDeadline | None:
    """Close whatever deadline ran in the previous state and start the one the table names.

    A transition that carries its deadline moves the running one into the new state instead.
    `stage_entered_at` is when the case entered `state`: a capped state's ceiling counts
    from it, so a restarted clock never outlasts the stage.
    """
    if transition.carries_deadline:
        db.session.execute(
            update(CaseDeadline)
            .where(CaseDeadline.case_id == case_id, CaseDeadline.closed_at.is_(None))
            .values(state=state)
            .execution_options(synchronize_session="fetch")
        )
        return open_deadline_for(case_id)
    close_open_deadlines(case_id, now)
    if transition.starts_deadline is None:
        return None
    return start_deadline(
        case_id,
        transition.starts_deadline,
        state,
        now,
        stage_entered_at=stage_entered_at,
        policy=policy,
    )


def start_deadline(
    case_id: int,
    kind: DeadlineKind,
    state: CaseState,
    now: datetime,
    *,
    stage_entered_at: datetime | None = None,
    policy: Policy | None = None,
    flush: bool = True,
) -> CaseDeadline:
    """`flush=False` leaves the row to the transaction's next flush (a filing's last one)."""
    policy, calendar = policy or policy_for_case_id(case_id, at=now), current_calendar()
    result = deadline_for(kind, now, policy, calendar, stage=(state, stage_entered_at or now))
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
    if flush:
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
        policy_for_case_id(deadline.case_id, at=deadline.started_at),
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


def open_deadlines_for(case_ids) -> dict[int, CaseDeadline]:
    """Each case's running deadline in one query, for lists (open_deadline_for per row is N+1)."""
    ids = list(case_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(CaseDeadline)
        .where(CaseDeadline.case_id.in_(ids), CaseDeadline.closed_at.is_(None))
        .order_by(CaseDeadline.case_id, CaseDeadline.id)
    )
    return {row.case_id: row for row in rows}  # the newest per case wins, as in the one-row query


def pause_clock(case_id: int, now: datetime) -> None:
    """The case's running deadline stands still: the tick neither reminds nor fires it."""
    deadline = open_deadline_for(case_id)
    if deadline is not None and deadline.paused_at is None:
        deadline.paused_at = now


def resume_clock(case_id: int, now: datetime) -> None:
    """Move the running deadline on by the pause and let it run (and fire) again."""
    deadline = open_deadline_for(case_id)
    if deadline is None or deadline.paused_at is None:
        return
    moved = extend_for_pause(
        DeadlineResult(deadline.due_at, deadline.provisional),
        policy_for_case_id(case_id).limit_for(deadline.kind),
        deadline.paused_at,
        now,
        current_calendar(),
    )
    deadline.due_at, deadline.provisional = moved.due, moved.provisional
    deadline.paused_at = None
    deadline.fired_at = None
    deadline.next_reminder_at = next_reminder_after(deadline, now)


def set_calendar_day(
    day, *, working: bool, note: str, actor: str, now: datetime | None = None
) -> CalendarOverride:
    """An admin's correction; it wins over the packaged calendar at once, including for the
    deadlines already running that count the day."""
    from complaints.timers.recompute import recompute_after_calendar_change

    override = db.session.get(CalendarOverride, day)
    if override is None:
        override = CalendarOverride(day=day)
        db.session.add(override)
    override.is_working_day, override.note, override.set_by = working, note, actor
    db.session.flush()
    recompute_after_calendar_change(days={day}, actor=actor, now=now or utcnow())
    return override


def declare_year_complete(
    year: int, *, note: str, actor: str, now: datetime | None = None
) -> CalendarYear:
    """The year's overrides now match the State Council notice: deadlines stop being
    provisional, the running ones included."""
    from complaints.timers.recompute import recompute_after_calendar_change

    row = db.session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year, note=note, set_by=actor)
        db.session.add(row)
        db.session.flush()
        recompute_after_calendar_change(years={year}, actor=actor, now=now or utcnow())
    return row
