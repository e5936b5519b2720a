"""When things are due and when to remind people, derived from table + policy + calendar.

A transition's `starts_deadline` names a `DeadlineKind`; the policy field of the same name
gives its time limit; the calendar turns the limit into an instant (conventions in
`workflows.calendar`). Nothing here knows about particular states.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from workflows.calendar import DeadlineResult, WorkingCalendar
from workflows.machine import STAGE_CEILINGS, Transition
from workflows.policy import LimitUnit, Policy, TimeLimit
from workflows.states import DeadlineKind

# The appeal window is the tourist's right, not anyone's duty: nobody is chased about it.
UNREMINDED_KINDS: frozenset[DeadlineKind] = frozenset({DeadlineKind.APPEAL_WINDOW})
# The complainant is nudged to confirm the phone 1 h and 24 h after filing by the confirmation
# reminders (complaints.verification.reminders); this deadline adds only the last warning
# before the complaint lapses, so nobody gets two texts saying the same thing a day apart.
FINAL_WARNING_ONLY_KINDS: frozenset[DeadlineKind] = frozenset({DeadlineKind.IDENTITY_VERIFICATION})


def add_time_limit(start: datetime, limit: TimeLimit, calendar: WorkingCalendar) -> DeadlineResult:
    if limit.unit is LimitUnit.MINUTES:
        if limit.amount < 1:
            raise ValueError("minutes must be at least 1")
        return DeadlineResult(start + timedelta(minutes=limit.amount), provisional=False)
    if limit.unit is LimitUnit.HOURS:
        return calendar.add_hours(start, limit.amount)
    if limit.unit is LimitUnit.WORKING_DAYS:
        return calendar.add_working_days(start, limit.amount)
    return calendar.add_calendar_days(start, limit.amount)


def deadline_for(
    kind: DeadlineKind | Transition | None,
    entered_at: datetime,
    policy: Policy,
    calendar: WorkingCalendar,
    *,
    pauses: Iterable[tuple[datetime, datetime]] = (),
    stage: tuple[StrEnum, datetime] | None = None,
) -> DeadlineResult | None:
    """The deadline a kind (or the kind a transition starts) sets, or None if it sets none.

    `pauses` are (paused_at, resumed_at) spans that do not count, e.g. appraisal during
    mediation (SAMR Order 20 Art. 20): hour limits move by the paused clock time, day limits
    by the working days the pause lasted.

    `stage` is (state the deadline runs in, when that state was entered): a state with a
    ceiling in `STAGE_CEILINGS` caps every deadline started in it at that ceiling, so a
    restarted clock (a new offer) never outlasts the stage.
    """
    if isinstance(kind, Transition):
        kind = kind.starts_deadline
    if kind is None:
        return None
    limit = policy.limit_for(kind)
    result = add_time_limit(entered_at, limit, calendar)
    for paused_at, resumed_at in pauses:
        result = extend_for_pause(result, limit, paused_at, resumed_at, calendar)
    if stage is not None:
        ceiling = stage_ceiling(stage[0], stage[1], policy, calendar)
        if ceiling is not None and ceiling.due < result.due:
            result = ceiling
    return result


def stage_ceiling(
    state: StrEnum, entered_at: datetime, policy: Policy, calendar: WorkingCalendar
) -> DeadlineResult | None:
    """When a capped state must end at the latest, counted from entering it; None if uncapped."""
    kind = STAGE_CEILINGS.get(state)
    if kind is None:
        return None
    return add_time_limit(entered_at, policy.limit_for(kind), calendar)


def extend_for_pause(
    result: DeadlineResult,
    limit: TimeLimit,
    paused_at: datetime,
    resumed_at: datetime,
    calendar: WorkingCalendar,
) -> DeadlineResult:
    """Move a deadline on by a pause: hour limits by the paused clock time (Hainan's 48 h
    mediation), day limits by the working days the pause lasted (SAMR Order 20 Art. 20)."""
    if resumed_at < paused_at:
        raise ValueError("resumed_at is before paused_at")
    if limit.unit in (LimitUnit.HOURS, LimitUnit.MINUTES):
        return DeadlineResult(result.due + (resumed_at - paused_at), result.provisional)
    return calendar.extend_for_pause(result, paused_at, resumed_at)


def fires(due_at: datetime, paused_at: datetime | None, now: datetime) -> bool:
    """Whether a running deadline is due now: never while its clock is paused."""
    return paused_at is None and due_at <= now


def reminder_times(
    kind: DeadlineKind | Transition | None,
    entered_at: datetime,
    policy: Policy,
    calendar: WorkingCalendar,
    *,
    due: DeadlineResult | None = None,
) -> list[datetime]:
    """When reminders about a deadline fire, sorted; only instants between start and due.

    Hour limits (the merchant's 24 h): at each `reminder_percents_elapsed` share of the time
    and `reminder_hours_before` the deadline. Day limits (the regulator's): at
    `reminder_hour_local` on the working day `reminder_working_days_before` the due day.
    Pass `due` when the deadline was moved (pauses); otherwise it is computed.
    """
    if isinstance(kind, Transition):
        kind = kind.starts_deadline
    if kind is None or kind in UNREMINDED_KINDS:
        return []
    due = due or add_time_limit(entered_at, policy.limit_for(kind), calendar)
    if policy.limit_for(kind).unit in (LimitUnit.HOURS, LimitUnit.MINUTES):
        span = due.due - entered_at
        percents = () if kind in FINAL_WARNING_ONLY_KINDS else policy.reminder_percents_elapsed
        candidates = [entered_at + span * percent / 100 for percent in percents]
        candidates += [due.due - timedelta(hours=h) for h in policy.reminder_hours_before]
    else:
        due_day = calendar.local_date(due.due)
        reminder_hour = time(policy.reminder_hour_local, tzinfo=calendar.tz)
        candidates = [
            datetime.combine(calendar.working_day_before(due_day, n), reminder_hour)
            for n in policy.reminder_working_days_before
        ]
    in_window = {moment.astimezone(calendar.tz) for moment in candidates}
    return sorted(moment for moment in in_window if entered_at < moment < due.due)


def is_time_barred(
    harm_known_on: date, received_at: datetime, policy: Policy, calendar: WorkingCalendar
) -> bool:
    """Whether a complaint came in after the time bar (SAMR Order 20 Art. 15(4)).

    Counted as the Civil Code counts periods in years (Arts. 201-203): the period ends on
    the same date N years on (the month's last day if there is none) and, if that is a rest
    day, on the next working day.
    """
    years = policy.complaint_time_bar_years
    try:
        last_day = harm_known_on.replace(year=harm_known_on.year + years)
    except ValueError:  # 29 February in a year without one
        last_day = harm_known_on.replace(year=harm_known_on.year + years, day=28)
    while not calendar.is_working_day(last_day):
        last_day += timedelta(days=1)
    return calendar.local_date(received_at) > last_day


def is_contract_barred(
    contract_ended_on: date, received_at: datetime, policy: Policy, calendar: WorkingCalendar
) -> bool:
    """Whether a tourism complaint came too long after its travel contract ended (Order 32,
    verify): the period ends `contract_filing_bar_days` days on, extended past rest days like
    every period counted in days. Never barred when the policy sets no such period."""
    days = policy.contract_filing_bar_days
    if not days:
        return False
    last_day = contract_ended_on + timedelta(days=days)
    while not calendar.is_working_day(last_day):
        last_day += timedelta(days=1)
    return calendar.local_date(received_at) > last_day
