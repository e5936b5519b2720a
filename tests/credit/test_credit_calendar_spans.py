"""Issue 12 item 8 and 14: credit spans in calendar years, repairable overdue recoveries."""

from datetime import UTC, datetime, timedelta

from complaints.credit.engine import (
    LOCAL_ZONE,
    CreditEventKind,
    CreditFact,
    CreditPolicy,
    add_months,
    is_repairable_kind,
    repair_available_from,
)

K = CreditEventKind
POLICY = CreditPolicy()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_ZONE)


def test_serious_list_lasts_three_calendar_years_across_a_leap_day():
    listed = local(2027, 3, 1, 10)
    expires = POLICY.expires_at(K.SERIOUS_LISTED, listed)
    assert expires == local(2030, 3, 1, 10)
    assert expires - listed == timedelta(days=1096)  # not 1095: 29 Feb 2028 counts


def test_a_listing_on_29_february_ends_on_28_february():
    listed = local(2028, 2, 29, 9)
    assert POLICY.expires_at(K.SERIOUS_LISTED, listed) == local(2031, 2, 28, 9)
    assert POLICY.early_removal_from(listed) == local(2029, 2, 28, 9)


def test_early_removal_after_one_calendar_year():
    listed = local(2027, 6, 30, 23, 30)
    assert POLICY.early_removal_from(listed) == local(2028, 6, 30, 23, 30)
    # Counted on the local date even when the instant is given in UTC.
    as_utc = listed.astimezone(UTC)
    assert add_months(as_utc, 12).astimezone(LOCAL_ZONE) == local(2028, 6, 30, 23, 30)


def test_repair_minimum_periods_are_calendar_months():
    at = local(2027, 11, 30, 12)
    general = CreditFact(K.COMPENSATION_PAID, -10, at, POLICY.expires_at(K.COMPENSATION_PAID, at))
    assert repair_available_from(general, POLICY) == local(2028, 2, 29, 12)  # 3 months, leap


def test_an_overdue_recovery_is_repairable_after_its_minimum_period():
    at = local(2027, 1, 4, 9)
    overdue = CreditFact(K.RECOVERY_OVERDUE, -25, at, POLICY.expires_at(K.RECOVERY_OVERDUE, at))
    assert is_repairable_kind(K.RECOVERY_OVERDUE, POLICY)
    available = repair_available_from(overdue, POLICY)
    assert available == local(2028, 1, 4, 9)
    assert available < overdue.expires_at  # a window exists in which repair can be granted
