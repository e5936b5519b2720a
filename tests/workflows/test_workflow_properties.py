"""Properties over random walks through the tables and random deadline arithmetic."""

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.calendar import SHANGHAI, WorkingCalendar
from workflows.compensation import COMPENSATION_TRANSITIONS, CompensationFacts
from workflows.deadlines import deadline_for, reminder_times
from workflows.grounds import DeclineGround, TerminationGround
from workflows.machine import (
    CASE_TRANSITIONS,
    CaseFacts,
    Transition,
    TransitionRefused,
    allowed_triggers,
    apply_effects,
    check,
)
from workflows.policy import LimitUnit, Policy, TimeLimit
from workflows.states import CaseState, CompensationState, DeadlineKind, Role

PROPERTIES = settings(max_examples=200, deadline=None, database=None)
END_OF_DAY = time(23, 59, 59, 999999)


@dataclass(frozen=True)
class Event:
    trigger: str
    role: Role
    from_state: object
    to_state: object


@dataclass
class Harness:
    """A stand-in for the case service: checks, moves the state, writes one audit event."""

    table: tuple[Transition, ...]
    state: object
    facts: object
    events: list[Event] = field(default_factory=list)

    def fire(self, trigger, role, *, reason=None, ground=None) -> Transition | None:
        try:
            transition = check(
                self.state,
                trigger,
                role,
                self.facts,
                reason=reason,
                ground=ground,
                table=self.table,
            )
        except TransitionRefused:
            return None
        before = self.state
        self.state = transition.resulting_state(before)
        self.facts = apply_effects(self.facts, transition)
        self.events.append(Event(trigger, role, before, self.state))
        return transition


WALKS = [
    pytest.param(
        CASE_TRANSITIONS, CaseState.SUBMITTED, CaseFacts(),
        ("merchant_participates", "within_appeal_window", "deadline_passed"), id="case",
    ),
    pytest.param(
        COMPENSATION_TRANSITIONS, CompensationState.REQUESTED, CompensationFacts(),
        ("small_claim", "payee_known", "merchant_has_deposit", "parties_settled", "deadline_passed"),
        id="compensation",
    ),
]  # fmt: skip

GROUNDS = [None, "junk", *DeclineGround, *TerminationGround]
REASONS = [None, "", "  ", "stated reason"]


def proper_justification(transition: Transition) -> tuple[str | None, object]:
    reason = "stated reason" if transition.reason_required else None
    ground = next(iter(transition.ground_type)) if transition.ground_type else None
    return reason, ground


@pytest.mark.parametrize(("table", "initial", "facts", "outside_facts"), WALKS)
@PROPERTIES
@given(data=st.data())
def test_random_walks_stay_inside_the_table_and_record_one_event_per_transition(
    table, initial, facts, outside_facts, data
):
    harness = Harness(table, initial, facts)
    triggers = sorted({t.trigger for t in table} | {"no_such_trigger"})
    fired = 0
    for _ in range(data.draw(st.integers(1, 30), label="steps")):
        # The world changes between steps: deadlines pass, merchants enrol, claims settle.
        world = {name: data.draw(st.booleans(), label=name) for name in outside_facts}
        harness.facts = replace(harness.facts, **world)
        offered = {
            role: allowed_triggers(harness.state, role, harness.facts, table=table) for role in Role
        }
        moves = [(role, t) for role, transitions in offered.items() for t in transitions]
        if moves and data.draw(st.booleans(), label="make an offered move"):
            role, pick = data.draw(st.sampled_from(moves), label="move")
            trigger, (reason, ground) = pick.trigger, proper_justification(pick)
        else:
            role = data.draw(st.sampled_from(Role), label="role")
            trigger = data.draw(st.sampled_from(triggers), label="trigger")
            reason = data.draw(st.sampled_from(REASONS), label="reason")
            ground = data.draw(st.sampled_from(GROUNDS), label="ground")
        if data.draw(st.integers(0, 3), label="tamper with the justification") == 0:
            reason = data.draw(st.sampled_from(REASONS), label="reason")
            ground = data.draw(st.sampled_from(GROUNDS), label="ground")

        before, events_before = harness.state, len(harness.events)
        transition = harness.fire(trigger, role, reason=reason, ground=ground)

        if transition is None:
            assert harness.state == before
            assert len(harness.events) == events_before
            continue
        fired += 1
        assert transition in offered[role]  # check never allows what the UI would not offer
        assert len(harness.events) == events_before + 1
        event = harness.events[-1]
        rows = [t for t in table if t.trigger == event.trigger and event.from_state in t.sources]
        assert len(rows) == 1
        assert event.role in rows[0].roles
        assert event.to_state == (rows[0].target or event.from_state)

    assert len(harness.events) == fired
    for earlier, later in zip(harness.events, harness.events[1:], strict=False):
        assert earlier.to_state == later.from_state


@pytest.mark.parametrize(("table", "initial", "facts", "outside_facts"), WALKS)
@PROPERTIES
@given(data=st.data())
def test_everything_offered_can_be_fired_with_its_justification(
    table, initial, facts, outside_facts, data
):
    states = type(initial)
    state = data.draw(st.sampled_from(states))
    role = data.draw(st.sampled_from(Role))
    fact_values = {
        name: data.draw(st.booleans(), label=name) for name in (f.name for f in fields(facts))
    }
    facts = type(facts)(**fact_values)
    for transition in allowed_triggers(state, role, facts, table=table):
        reason, ground = proper_justification(transition)
        fired = check(
            state, transition.trigger, role, facts, reason=reason, ground=ground, table=table
        )
        assert fired is transition


CALENDARS = st.builds(
    WorkingCalendar,
    st.dictionaries(st.dates(date(2026, 1, 1), date(2027, 12, 31)), st.booleans(), max_size=20),
    complete_years=st.sets(st.sampled_from([2026, 2027, 2028])),
)
STARTS = st.datetimes(
    datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive by design
    datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, SHANGHAI, ZoneInfo("America/New_York")]),
    allow_imaginary=False,
)


@PROPERTIES
@given(calendar=CALENDARS, start=STARTS, n=st.integers(1, 60))
def test_working_day_deadlines_end_a_working_day_after_the_start(calendar, start, n):
    result = calendar.add_working_days(start, n)
    local_due = result.due.astimezone(SHANGHAI)
    assert result.due > start
    assert local_due.time() == END_OF_DAY
    assert calendar.is_working_day(local_due.date())
    assert calendar.working_days_between(start, result.due) == n
    first_year = calendar.local_date(start).year
    years = range(first_year, local_due.year + 1)
    if all(calendar.is_official(year) for year in years):
        assert not result.provisional
    if not any(calendar.is_official(year) for year in years):
        assert result.provisional


@PROPERTIES
@given(calendar=CALENDARS, start=STARTS, n=st.integers(1, 60))
def test_calendar_day_and_hour_deadlines_come_after_the_start(calendar, start, n):
    by_days = calendar.add_calendar_days(start, n)
    assert by_days.due > start
    assert calendar.is_working_day(by_days.due.date())
    by_hours = calendar.add_hours(start, n)
    assert by_hours.due - start == timedelta(hours=n)
    assert not by_hours.provisional


LIMITS = st.builds(TimeLimit, st.integers(1, 30), st.sampled_from(LimitUnit))
POLICIES = st.builds(
    Policy,
    **{
        kind.value: LIMITS
        for kind in DeadlineKind
        if kind not in (DeadlineKind.MERCHANT_RESPONSE, DeadlineKind.MERCHANT_STAGE)
    },
    merchant_response=st.builds(
        TimeLimit, st.integers(1, 10), st.sampled_from([LimitUnit.HOURS, LimitUnit.CALENDAR_DAYS])
    ),
    reminder_percents_elapsed=st.lists(st.integers(1, 99), max_size=3).map(tuple),
    reminder_hours_before=st.lists(st.integers(1, 48), max_size=3).map(tuple),
    reminder_working_days_before=st.lists(st.integers(1, 5), max_size=3).map(tuple),
)


@PROPERTIES
@given(
    policy=POLICIES,
    calendar=CALENDARS,
    kind=st.sampled_from(DeadlineKind),
    start=STARTS,
)
def test_every_deadline_and_reminder_lies_after_the_start(policy, calendar, kind, start):
    result = deadline_for(kind, start, policy, calendar)
    assert result is not None
    assert result.due > start
    if policy.limit_for(kind).unit is not LimitUnit.HOURS:
        assert result.due.timetz() == END_OF_DAY.replace(tzinfo=SHANGHAI)
        assert calendar.is_working_day(result.due.date())
    reminders = reminder_times(kind, start, policy, calendar, due=result)
    assert reminders == sorted(set(reminders))
    assert all(start < moment < result.due for moment in reminders)
