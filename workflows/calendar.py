"""The PRC working-day calendar and deadline arithmetic on it.

Sources, in order of precedence:

1. Admin overrides `{date: is_working_day}`: always win (corrections, next year's notice).
2. `chinese_calendar`: official State Council data, including adjusted working weekends
   (调休). It raises for a year it lacks, which is how we know a year is official.
3. `holidays.China`: for a year without official data it silently estimates (weekends plus
   holidays, no adjusted working weekends). Every answer for such a year is provisional until
   the packages are upgraded or an admin declares the year complete (`complete_years`),
   meaning the calendar as shown, overrides included, matches the published notice.

Deadline convention (SAMR Order 20 counts "within N working days of receipt"):

- Working days: the day of receipt does not count. The deadline is the end of the N-th working
  day after the local start date (23:59:59.999999 Asia/Shanghai), whatever the start time.
- Calendar days: the end of the N-th day after the local start date; if that day is not a
  working day the period runs to the end of the next working day, as the Civil Procedure Law
  does for periods ending on a rest day.
- Hours: plain clock hours from the start instant, nights and holidays included.
- A result is provisional when any day it depends on lies in a year that is not official.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DeadlineResult:
    due: datetime
    provisional: bool  # depends on a year without official calendar data


class DaySource(StrEnum):
    OVERRIDE = "override"
    OFFICIAL = "official"
    ESTIMATE = "estimate"


@lru_cache(maxsize=64)
def _official_working_days(year: int) -> frozenset[date] | None:
    try:
        return frozenset(d for d in _days_of(year) if chinese_calendar.is_workday(d))
    except NotImplementedError:
        return None


@lru_cache(maxsize=64)
def _estimated_working_days(year: int) -> frozenset[date]:
    # One instance per year keeps the lazily filled holidays object out of shared mutation.
    estimate = holidays.China(years=year)
    return frozenset(d for d in _days_of(year) if estimate.is_working_day(d))


def _days_of(year: int) -> Iterable[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += ONE_DAY


class WorkingCalendar:
    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        *,
        complete_years: Iterable[int] = (),
        tz: ZoneInfo = SHANGHAI,
    ) -> None:
        overrides = dict(overrides or {})
        for day, working in overrides.items():
            # datetime is a subclass of date; a datetime key would never match a lookup.
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"override keys must be dates, got {day!r}")
            if not isinstance(working, bool):
                raise ValueError(f"override for {day} must be True or False, got {working!r}")
        self._overrides = MappingProxyType(overrides)
        self._complete_years = frozenset(complete_years)
        self.tz = tz

    # --- days ---------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        day = _plain_date(day)
        if day in self._overrides:
            return self._overrides[day]
        official = _official_working_days(day.year)
        if official is not None:
            return day in official
        return day in _estimated_working_days(day.year)

    def day_source(self, day: date) -> DaySource:
        day = _plain_date(day)
        if day in self._overrides:
            return DaySource.OVERRIDE
        if _official_working_days(day.year) is not None:
            return DaySource.OFFICIAL
        return DaySource.ESTIMATE

    def is_official(self, year: int) -> bool:
        return year in self._complete_years or _official_working_days(year) is not None

    def disagreements(self, year: int) -> list[date]:
        """Days where the two packages disagree; empty when only one of them knows the year."""
        official = _official_working_days(year)
        if official is None:
            return []
        return sorted(official ^ _estimated_working_days(year))

    def working_day_before(self, day: date, n: int) -> date:
        """The n-th working day strictly before `day`."""
        _require_positive("n", n)
        while n:
            day -= ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    # --- instants -----------------------------------------------------------------------

    def local_date(self, moment: datetime | date) -> date:
        if isinstance(moment, datetime):
            return self._local(moment).date()
        return moment

    def end_of_day(self, day: date) -> datetime:
        return datetime.combine(day, time.max, tzinfo=self.tz)

    def add_working_days(self, start: datetime, n: int) -> DeadlineResult:
        _require_positive("n", n)
        first = self._local(start).date() + ONE_DAY
        day, remaining = first, n
        while True:
            if self.is_working_day(day):
                remaining -= 1
                if not remaining:
                    break
            day += ONE_DAY
        return DeadlineResult(self.end_of_day(day), self._provisional(first, day))

    def add_calendar_days(self, start: datetime, n: int) -> DeadlineResult:
        _require_positive("n", n)
        last = self._local(start).date() + timedelta(days=n)
        day = last
        while not self.is_working_day(day):
            day += ONE_DAY
        return DeadlineResult(self.end_of_day(day), self._provisional(last, day))

    def add_hours(self, start: datetime, hours: int) -> DeadlineResult:
        _require_positive("hours", hours)
        # Arithmetic in UTC stays exact even if the zone ever observes daylight saving again.
        due = self._local(start).astimezone(ZoneInfo("UTC")) + timedelta(hours=hours)
        return DeadlineResult(due.astimezone(self.tz), provisional=False)

    def working_days_between(self, a: datetime | date, b: datetime | date) -> int:
        """Working days d with a < d <= b (local dates); negative when b is before a.

        The same counting as deadlines: `working_days_between(start, add_working_days(start,
        n).due) == n`.
        """
        first, last = self.local_date(a), self.local_date(b)
        if last < first:
            return -self.working_days_between(last, first)
        count, day = 0, first + ONE_DAY
        while day <= last:
            if self.is_working_day(day):
                count += 1
            day += ONE_DAY
        return count

    def extend_for_pause(
        self, deadline: DeadlineResult, paused_at: datetime, resumed_at: datetime
    ) -> DeadlineResult:
        """Move a working-day deadline on by the working days a pause lasted (Art. 20).

        Pause days are counted like a time limit: the day the pause starts does not count,
        the day it ends does; a pause within one day moves nothing.
        """
        if resumed_at < paused_at:
            raise ValueError("resumed_at is before paused_at")
        lost = self.working_days_between(paused_at, resumed_at)
        if lost == 0:
            return deadline
        moved = self.add_working_days(deadline.due, lost)
        span_provisional = self._provisional(
            self.local_date(paused_at), self.local_date(resumed_at)
        )
        return DeadlineResult(
            moved.due, deadline.provisional or moved.provisional or span_provisional
        )

    # --- helpers ------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"a timezone-aware datetime is required, got {moment!r}")
        return moment.astimezone(self.tz)

    def _provisional(self, first: date, last: date) -> bool:
        return not all(self.is_official(year) for year in range(first.year, last.year + 1))


def _plain_date(day: date) -> date:
    if isinstance(day, datetime):
        raise ValueError(f"pass a local date, not a datetime: {day!r}")
    return day


def _require_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
