"""Deadlines and reminders derived from table + policy + calendar."""

from datetime import date, datetime

import pytest

from workflows.calendar import SHANGHAI, WorkingCalendar
from workflows.deadlines import deadline_for, is_time_barred, reminder_times
from workflows.machine import CASE_TRANSITIONS, CaseFacts, check
from workflows.policy import Policy, hours, working_days
from workflows.states import CaseState, DeadlineKind, Role

CALENDAR = WorkingCalendar()
POLICY = Policy()
K = DeadlineKind


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def end_of(year: int, month: int, day: int) -> datetime:
    return local(year, month, day, 23, 59, 59, 999999)


def test_each_kind_uses_its_policy_limit():
    start = local(2026, 2, 12, 15, 0)  # Thursday before Spring Festival
    due = {kind: deadline_for(kind, start, POLICY, CALENDAR).due for kind in DeadlineKind}
    assert due == {
        K.MERCHANT_RESPONSE: local(2026, 2, 13, 15, 0),
        K.MERCHANT_STAGE: end_of(2026, 3, 4),  # 10 working days, like recovery_due
        K.IDENTITY_VERIFICATION: local(2026, 2, 15, 15, 0),
        K.ACCEPTANCE_DECISION: end_of(2026, 2, 28),
        K.MEDIATION: end_of(2026, 4, 23),
        K.TERMINATION_NOTICE: end_of(2026, 2, 28),
        K.APPEAL_WINDOW: end_of(2026, 2, 27),
        K.RECOVERY_DUE: end_of(2026, 3, 4),
        K.DEPOSIT_TOP_UP: end_of(2026, 2, 26),
    }


def test_a_transition_gives_its_own_deadline_or_none():
    accept = check(CaseState.REGULATOR_REVIEW, "accept", Role.HANDLER, CaseFacts())
    start = local(2026, 3, 2, 10, 0)
    assert deadline_for(accept, start, POLICY, CALENDAR) == deadline_for(
        K.MEDIATION, start, POLICY, CALENDAR
    )
    assign = next(t for t in CASE_TRANSITIONS if t.trigger == "assign")
    assert deadline_for(assign, start, POLICY, CALENDAR) is None
    assert deadline_for(None, start, POLICY, CALENDAR) is None


def test_mediation_pauses_do_not_count():
    accepted = local(2026, 3, 2, 10, 0)
    plain = deadline_for(K.MEDIATION, accepted, POLICY, CALENDAR)
    pauses = [
        (local(2026, 3, 5, 10), local(2026, 3, 10, 17)),  # 3 working days
        (local(2026, 3, 20, 9), local(2026, 3, 23, 9)),  # 1 working day
    ]
    paused = deadline_for(K.MEDIATION, accepted, POLICY, CALENDAR, pauses=pauses)
    assert CALENDAR.working_days_between(plain.due, paused.due) == 4


def test_an_hour_limit_moves_by_the_paused_clock_time():
    policy = Policy(mediation=hours(48))
    accepted = local(2026, 3, 2, 10, 0)
    pause = (local(2026, 3, 2, 12), local(2026, 3, 2, 18))
    paused = deadline_for(K.MEDIATION, accepted, policy, CALENDAR, pauses=[pause])
    assert paused.due == local(2026, 3, 4, 16, 0)
    with pytest.raises(ValueError, match="before"):
        deadline_for(K.MEDIATION, accepted, policy, CALENDAR, pauses=[pause[::-1]])


def test_merchant_reminders_at_half_time_and_two_hours_before():
    start = local(2026, 3, 2, 8, 0)
    assert reminder_times(K.MERCHANT_RESPONSE, start, POLICY, CALENDAR) == [
        local(2026, 3, 2, 20, 0),
        local(2026, 3, 3, 6, 0),
    ]


def test_regulator_reminders_on_the_working_day_before_across_the_holiday():
    start = local(2026, 2, 12, 15, 0)  # due Saturday 28 February (adjusted working day)
    assert reminder_times(K.ACCEPTANCE_DECISION, start, POLICY, CALENDAR) == [
        local(2026, 2, 27, 9, 0)
    ]
    start = local(2026, 2, 6, 15, 0)  # due Tuesday 24 February, right after the holiday
    assert reminder_times(K.ACCEPTANCE_DECISION, start, POLICY, CALENDAR) == [
        local(2026, 2, 14, 9, 0)
    ]


def test_reminders_before_the_start_are_dropped():
    policy = Policy(acceptance_decision=working_days(1))
    start = local(2026, 3, 2, 15, 0)  # due end of 3 March; its eve's 09:00 has passed
    assert reminder_times(K.ACCEPTANCE_DECISION, start, policy, CALENDAR) == []


def test_reminder_style_follows_the_unit_not_the_kind():
    policy = Policy(merchant_response=working_days(10))
    start = local(2026, 3, 2, 10, 0)
    assert reminder_times(K.MERCHANT_RESPONSE, start, policy, CALENDAR) == [
        local(2026, 3, 13, 9, 0)
    ]


def test_nobody_is_reminded_of_the_appeal_window():
    assert reminder_times(K.APPEAL_WINDOW, local(2026, 3, 2), POLICY, CALENDAR) == []
    assert reminder_times(None, local(2026, 3, 2), POLICY, CALENDAR) == []


def test_reminders_for_a_moved_deadline():
    start = local(2026, 3, 2, 10, 0)
    moved = CALENDAR.extend_for_pause(
        deadline_for(K.MEDIATION, start, POLICY, CALENDAR),
        local(2026, 3, 5, 10),
        local(2026, 3, 10, 17),
    )
    [reminder] = reminder_times(K.MEDIATION, start, POLICY, CALENDAR, due=moved)
    assert CALENDAR.working_days_between(reminder, moved.due) == 1


@pytest.mark.parametrize(
    ("known_on", "received_on", "barred"),
    [
        (date(2023, 3, 1), date(2026, 3, 2), False),  # 1 March 2026 is a Sunday
        (date(2023, 3, 1), date(2026, 3, 3), True),
        (date(2020, 2, 29), date(2023, 2, 28), False),  # no 29 February: the 28th
        (date(2020, 2, 29), date(2023, 3, 1), True),
        (date(2023, 10, 1), date(2026, 10, 8), False),  # National Day runs to the 7th
        (date(2023, 10, 1), date(2026, 10, 9), True),
    ],
)
def test_the_three_year_time_bar(known_on, received_on, barred):
    received_at = local(received_on.year, received_on.month, received_on.day, 12, 0)
    assert is_time_barred(known_on, received_at, POLICY, CALENDAR) is barred
