"""The PRC working-day calendar, checked against the 2026 State Council notice."""

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import holidays
import pytest

from workflows.calendar import SHANGHAI, DaySource, DeadlineResult, WorkingCalendar

CALENDAR = WorkingCalendar()
END_OF_DAY = time(23, 59, 59, 999999)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


SPRING_FESTIVAL_2026_OFF = days(date(2026, 2, 15), date(2026, 2, 23))
SPRING_FESTIVAL_2026_WORKING_WEEKENDS = [date(2026, 2, 14), date(2026, 2, 28)]
NATIONAL_DAY_2026_OFF = [date(2026, 9, 25), *days(date(2026, 10, 1), date(2026, 10, 7))]
NATIONAL_DAY_2026_WORKING_WEEKENDS = [date(2026, 9, 20), date(2026, 10, 10)]


def test_the_packages_agree_with_the_2026_notice():
    """Guards against a package upgrade silently changing the data the deadlines rest on."""
    estimate = holidays.China(years=2026)
    for day in SPRING_FESTIVAL_2026_OFF + NATIONAL_DAY_2026_OFF:
        assert not chinese_calendar.is_workday(day), day
        assert not estimate.is_working_day(day), day
    for day in SPRING_FESTIVAL_2026_WORKING_WEEKENDS + NATIONAL_DAY_2026_WORKING_WEEKENDS:
        assert day.weekday() >= 5, day
        assert chinese_calendar.is_workday(day), day
        assert estimate.is_working_day(day), day


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_the_packages_do_not_disagree_on_official_years(year):
    assert CALENDAR.disagreements(year) == []


def test_spring_festival_2026():
    assert not any(CALENDAR.is_working_day(d) for d in SPRING_FESTIVAL_2026_OFF)
    assert all(CALENDAR.is_working_day(d) for d in SPRING_FESTIVAL_2026_WORKING_WEEKENDS)
    assert CALENDAR.day_source(date(2026, 2, 14)) is DaySource.OFFICIAL


def test_national_day_2026():
    assert not any(CALENDAR.is_working_day(d) for d in NATIONAL_DAY_2026_OFF)
    assert all(CALENDAR.is_working_day(d) for d in NATIONAL_DAY_2026_WORKING_WEEKENDS)
    assert not CALENDAR.is_working_day(date(2026, 10, 11))  # an ordinary Sunday


def test_seven_working_days_across_spring_festival():
    # Fri 13th counts from Sat 14th (adjusted working day), then the holiday 15th-23rd.
    result = CALENDAR.add_working_days(local(2026, 2, 13, 16, 30), 7)
    # 14, 24, 25, 26, 27, 28 (Sat, adjusted), 2 March.
    assert result == DeadlineResult(local(2026, 3, 2, 23, 59, 59, 999999), provisional=False)


def test_seven_working_days_across_national_day():
    result = CALENDAR.add_working_days(local(2026, 9, 30, 9, 0), 7)
    # 8, 9, 10 (Sat, adjusted), 12, 13, 14, 15 October.
    assert result.due == local(2026, 10, 15, 23, 59, 59, 999999)
    assert not result.provisional


def test_a_deadline_may_end_on_an_adjusted_working_saturday():
    result = CALENDAR.add_working_days(local(2026, 2, 12, 15, 0), 7)
    assert result.due.date() == date(2026, 2, 28)


def test_the_day_of_receipt_never_counts_even_at_midnight():
    just_after_midnight = CALENDAR.add_working_days(local(2026, 3, 2, 0, 0), 1)
    just_before_midnight = CALENDAR.add_working_days(local(2026, 3, 2, 23, 59), 1)
    assert just_after_midnight == just_before_midnight
    assert just_after_midnight.due.date() == date(2026, 3, 3)


def test_the_local_date_decides_not_the_utc_date():
    # 2026-02-13 17:00 UTC is already Saturday the 14th, 01:00, in Shanghai.
    result = CALENDAR.add_working_days(datetime(2026, 2, 13, 17, 0, tzinfo=UTC), 1)
    assert result.due.date() == date(2026, 2, 24)
    assert result.due.tzinfo is SHANGHAI


def test_a_december_filing_with_a_deadline_in_2027_is_provisional():
    result = CALENDAR.add_working_days(local(2026, 12, 24, 10, 0), 7)
    # 25, 28, 29, 30, 31 December; 1 January is New Year's Day (estimated); 4, 5 January.
    assert result.due == local(2027, 1, 5, 23, 59, 59, 999999)
    assert result.provisional
    assert not CALENDAR.is_official(2027)
    assert CALENDAR.is_official(2026)
    assert CALENDAR.day_source(date(2027, 1, 4)) is DaySource.ESTIMATE


def test_a_long_limit_far_into_2027_does_not_crash():
    result = CALENDAR.add_working_days(local(2026, 12, 30, 10, 0), 45)
    assert result.provisional
    assert result.due.year == 2027


def test_a_deadline_within_2026_is_not_provisional():
    assert not CALENDAR.add_working_days(local(2026, 12, 1, 10, 0), 7).provisional


def test_overrides_win_and_complete_years_make_2027_official():
    overrides = {date(2027, 2, 20): True, date(2027, 1, 4): False}
    provisional = WorkingCalendar(overrides)
    assert provisional.is_working_day(date(2027, 2, 20))  # a Saturday made a working day
    assert not provisional.is_working_day(date(2027, 1, 4))  # a Monday made a day off
    assert provisional.day_source(date(2027, 1, 4)) is DaySource.OVERRIDE
    assert not provisional.is_official(2027)
    assert provisional.add_working_days(local(2026, 12, 31, 10, 0), 1).due.date() == date(
        2027, 1, 5
    )

    official = WorkingCalendar(overrides, complete_years={2027})
    assert official.is_official(2027)
    assert not official.is_working_day(date(2027, 1, 4))
    assert not official.add_working_days(local(2027, 2, 19, 10, 0), 1).provisional
    assert official.add_working_days(local(2027, 2, 19, 10, 0), 1).due.date() == date(2027, 2, 20)


def test_an_override_corrects_an_official_year():
    calendar = WorkingCalendar({date(2026, 3, 2): False})
    assert not calendar.is_working_day(date(2026, 3, 2))
    assert calendar.add_working_days(local(2026, 2, 27, 10, 0), 2).due.date() == date(2026, 3, 3)


def test_overrides_must_be_keyed_by_plain_dates_with_boolean_values():
    with pytest.raises(ValueError, match="dates"):
        WorkingCalendar({local(2027, 1, 4): True})
    with pytest.raises(ValueError, match="True or False"):
        WorkingCalendar({date(2027, 1, 4): 1})


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        CALENDAR.add_working_days(datetime(2026, 3, 2, 10, 0), 1)  # noqa: DTZ001


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_counts_must_be_positive_whole_numbers(bad):
    with pytest.raises(ValueError, match="at least 1"):
        CALENDAR.add_working_days(local(2026, 3, 2), bad)


def test_hours_are_plain_clock_hours_through_holidays():
    result = CALENDAR.add_hours(local(2026, 2, 14, 15, 0), 24)
    assert result == DeadlineResult(local(2026, 2, 15, 15, 0), provisional=False)
    assert CALENDAR.add_hours(local(2026, 12, 31, 12, 0), 24).provisional is False


def test_calendar_days_ending_on_a_holiday_run_to_the_next_working_day():
    result = CALENDAR.add_calendar_days(local(2026, 9, 16, 11, 0), 15)  # 1 October
    assert result.due == local(2026, 10, 8, 23, 59, 59, 999999)
    assert CALENDAR.add_calendar_days(local(2026, 3, 2, 11, 0), 15).due.date() == date(2026, 3, 17)


def test_working_days_between_counts_like_deadlines():
    start = local(2026, 2, 13, 10, 0)
    assert CALENDAR.working_days_between(start, local(2026, 3, 2, 9, 0)) == 7
    assert CALENDAR.working_days_between(local(2026, 3, 2, 9, 0), start) == -7
    assert CALENDAR.working_days_between(date(2026, 2, 15), date(2026, 2, 23)) == 0


def test_a_pause_moves_a_deadline_by_the_working_days_it_lasted():
    deadline = CALENDAR.add_working_days(local(2026, 3, 2, 10, 0), 10)  # Monday 16 March
    paused = CALENDAR.extend_for_pause(deadline, local(2026, 3, 5, 10), local(2026, 3, 10, 17))
    # Fri 6, Mon 9, Tue 10: three working days, so 17, 18, 19 March.
    assert paused.due == local(2026, 3, 19, 23, 59, 59, 999999)
    same_day = CALENDAR.extend_for_pause(deadline, local(2026, 3, 5, 10), local(2026, 3, 5, 17))
    assert same_day == deadline
    with pytest.raises(ValueError, match="before"):
        CALENDAR.extend_for_pause(deadline, local(2026, 3, 5, 10), local(2026, 3, 4, 10))


def test_a_pause_pushing_a_deadline_into_2027_makes_it_provisional():
    deadline = CALENDAR.add_working_days(local(2026, 12, 1, 10, 0), 10)
    assert not deadline.provisional
    moved = CALENDAR.extend_for_pause(deadline, local(2026, 12, 2, 10), local(2026, 12, 23, 10))
    assert moved.provisional
    assert moved.due.year == 2027


def test_working_day_before_skips_the_holiday():
    assert CALENDAR.working_day_before(date(2026, 2, 24), 1) == date(2026, 2, 14)
    assert CALENDAR.working_day_before(date(2026, 2, 24), 2) == date(2026, 2, 13)


def test_end_of_day_is_the_last_microsecond_in_shanghai():
    assert CALENDAR.end_of_day(date(2026, 3, 2)).timetz() == END_OF_DAY.replace(tzinfo=SHANGHAI)
