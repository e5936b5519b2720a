"""Time limits as configuration: defaults from RULES.md, validation that names the field."""

import pytest

from workflows.policy import (
    LimitUnit,
    Policy,
    TimeLimit,
    calendar_days,
    hours,
    working_days,
)
from workflows.states import DeadlineKind


def test_defaults_follow_the_rules():
    policy = Policy()
    assert policy.merchant_response == hours(24)
    assert policy.acceptance_decision == working_days(7)
    assert policy.mediation == working_days(45)
    assert policy.termination_notice == working_days(7)
    assert policy.appeal_window == calendar_days(15)
    assert policy.recovery_due == working_days(10)
    assert policy.deposit_top_up == working_days(5)
    assert policy.complaint_time_bar_years == 3
    assert policy.reminder_percents_elapsed == (50,)
    assert policy.reminder_hours_before == (2,)
    assert policy.reminder_working_days_before == (1,)


def test_every_deadline_kind_has_a_limit():
    policy = Policy()
    assert all(isinstance(policy.limit_for(kind), TimeLimit) for kind in DeadlineKind)
    assert policy.limit_for("mediation") == working_days(45)


def test_from_mapping_reads_every_spelling():
    policy = Policy.from_mapping(
        {
            "merchant_response": "10 working days",
            "mediation": 5,  # the field's own unit: Hainan's guide
            "appeal_window": {"amount": 30, "unit": "calendar_days"},
            "acceptance_decision": "5 working_day",
            "termination_notice": TimeLimit(7, LimitUnit.WORKING_DAYS),
            "deposit_top_up": " 5  Working_Days ",
            "reminder_percents_elapsed": [25, 75],
            "reminder_hours_before": (1, 2),
            "reminder_hour_local": 0,
        }
    )
    assert policy.merchant_response == working_days(10)
    assert policy.mediation == working_days(5)
    assert policy.appeal_window == calendar_days(30)
    assert policy.acceptance_decision == working_days(5)
    assert policy.deposit_top_up == working_days(5)
    assert policy.reminder_percents_elapsed == (25, 75)
    assert policy.reminder_hours_before == (1, 2)
    assert Policy.from_mapping({}) == Policy()


def test_an_unknown_key_is_named():
    with pytest.raises(ValueError, match="unknown policy key 'mediation_days'"):
        Policy.from_mapping({"mediation_days": 5})


@pytest.mark.parametrize(
    "limit", ["240 hours", "10 working days", "10 calendar days", "1 hour", hours(1)]
)
def test_merchant_response_up_to_ten_working_days_is_accepted(limit):
    assert Policy.from_mapping({"merchant_response": limit}).merchant_response.amount >= 1


@pytest.mark.parametrize("limit", ["241 hours", "11 working days", "11 calendar days"])
def test_merchant_response_beyond_ten_working_days_is_refused(limit):
    with pytest.raises(
        ValueError,
        match=r"^merchant_response: must not exceed the merchant stage \(10 working_days\)",
    ):
        Policy.from_mapping({"merchant_response": limit})


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("acceptance_decision", 0, "must be at least 1"),
        ("mediation", "5 fortnights", "unknown unit"),
        ("mediation", "five working days", "cannot read a time limit"),
        ("mediation", 4.5, "cannot read a time limit"),
        ("mediation", True, "cannot read a time limit"),
        ("appeal_window", {"amount": "15", "unit": "calendar_days"}, "whole number"),
        ("complaint_time_bar_years", 0, "must be at least 1"),
        ("complaint_time_bar_years", True, "whole number"),
        ("reminder_percents_elapsed", [0], "between 1 and 99"),
        ("reminder_percents_elapsed", [100], "between 1 and 99"),
        ("reminder_percents_elapsed", "50", "list of whole numbers"),
        ("reminder_hours_before", [0], "≥ 1"),
        ("reminder_working_days_before", [-1], "≥ 1"),
        ("reminder_hour_local", 24, "between 0 and 23"),
    ],
)
def test_validation_errors_name_the_field(key, value, problem):
    with pytest.raises(ValueError, match=rf"^{key}: .*{problem}"):
        Policy.from_mapping({key: value})


def test_the_constructor_validates_too():
    with pytest.raises(ValueError, match=r"^mediation: expected a TimeLimit"):
        Policy(mediation=45)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^termination_notice: must be at least 1"):
        Policy(termination_notice=working_days(0))


def test_time_limits_print_readably():
    assert str(working_days(7)) == "7 working_days"
