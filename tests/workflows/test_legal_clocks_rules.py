"""Issue 12, the arithmetic: stage ceilings, pauses, grounds that need a passed limit."""

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.calendar import SHANGHAI, WorkingCalendar
from workflows.deadlines import deadline_for, extend_for_pause, fires, stage_ceiling
from workflows.grounds import TerminationGround
from workflows.machine import CASE_TRANSITIONS, CaseFacts, check
from workflows.policy import Policy, hours, working_days
from workflows.states import CaseState, DeadlineKind, Role

PROPERTIES = settings(max_examples=150, deadline=None, database=None)
CALENDAR = WorkingCalendar()
ROUTE = next(t for t in CASE_TRANSITIONS if t.trigger == "route_to_merchant")
OFFER = next(t for t in CASE_TRANSITIONS if t.trigger == "merchant_offer")
TERMINATE = next(t for t in CASE_TRANSITIONS if t.trigger == "terminate")
MR = CaseState.MERCHANT_RESPONSE


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@PROPERTIES
@given(
    routed_at=st.integers(0, 330 * 24 * 60).map(
        lambda minutes: local(2026, 1, 1) + timedelta(minutes=minutes)
    ),
    response_hours=st.integers(1, 240),
    offer_gaps=st.lists(st.integers(1, 300), max_size=40),  # hours between offers
)
def test_property_the_merchant_stage_never_exceeds_its_ceiling(
    routed_at, response_hours, offer_gaps
):
    policy = Policy(merchant_response=hours(response_hours))
    ceiling = stage_ceiling(MR, routed_at, policy, CALENDAR).due
    # The ceiling is 10 working days from routing (12315 ODR).
    assert CALENDAR.working_days_between(routed_at, ceiling) == 10
    due = deadline_for(ROUTE, routed_at, policy, CALENDAR, stage=(MR, routed_at)).due
    moment = routed_at
    for gap in offer_gaps:
        moment += timedelta(hours=gap)
        if moment >= due:
            break  # the tick ended the stage before this offer could be made
        due = deadline_for(OFFER, moment, policy, CALENDAR, stage=(MR, routed_at)).due
        # The tourist gets the full answer time, unless the stage ends first.
        assert due == min(moment + timedelta(hours=response_hours), ceiling)
        assert due <= ceiling
    assert due <= ceiling


def test_offers_cannot_move_the_ceiling_whatever_the_local_limit():
    routed = local(2026, 9, 29, 10)  # before National Day: the stage spans the holiday
    policy = Policy(merchant_response=working_days(10))
    ceiling = stage_ceiling(MR, routed, policy, CALENDAR).due
    late_offer = deadline_for(OFFER, local(2026, 10, 13, 9), policy, CALENDAR, stage=(MR, routed))
    assert late_offer.due == ceiling
    # 30 Sep, (1-7 Oct National Day), 8, 9, Sat 10 Oct (adjusted working day), 12-16, 19.
    assert ceiling.date().isoformat() == "2026-10-19"


def test_uncapped_states_are_not_capped():
    start = local(2026, 3, 2, 10)
    assert stage_ceiling(CaseState.MEDIATION, start, Policy(), CALENDAR) is None


@PROPERTIES
@given(
    limit_hours=st.integers(1, 96),
    steps=st.lists(st.tuples(st.booleans(), st.integers(1, 50)), max_size=12),
)
def test_property_a_paused_deadline_never_fires_and_runs_its_full_time(limit_hours, steps):
    """A pure run of the tick's rule (`fires`) and the resume arithmetic: the deadline fires
    only with the clock running and only after `limit_hours` of running time."""
    start = local(2026, 5, 6, 9)
    limit = hours(limit_hours)
    due = deadline_for(DeadlineKind.MEDIATION, start, Policy(mediation=limit), CALENDAR)
    paused_at, moment, running = None, start, timedelta(0)
    for toggle, gap in steps:
        if paused_at is None:
            running += timedelta(hours=gap)
        moment += timedelta(hours=gap)
        if fires(due.due, paused_at, moment):
            assert paused_at is None
            assert running >= timedelta(hours=limit_hours)
            return
        if paused_at is not None:
            assert not fires(due.due, paused_at, moment)
        if toggle and paused_at is None:
            paused_at = moment
        elif toggle:
            due = extend_for_pause(due, limit, paused_at, moment, CALENDAR)
            paused_at = None


def test_hour_limits_move_by_clock_time_and_day_limits_by_working_days():
    start = local(2026, 9, 30, 9)
    paused, resumed = local(2026, 9, 30, 12), local(2026, 10, 8, 12)  # over National Day
    by_hours = deadline_for(DeadlineKind.MEDIATION, start, Policy(mediation=hours(48)), CALENDAR)
    moved = extend_for_pause(by_hours, hours(48), paused, resumed, CALENDAR)
    assert moved.due - by_hours.due == resumed - paused
    by_days = deadline_for(DeadlineKind.MEDIATION, start, Policy(), CALENDAR)
    moved_days = extend_for_pause(by_days, working_days(45), paused, resumed, CALENDAR)
    assert CALENDAR.working_days_between(by_days.due, moved_days.due) == (
        CALENDAR.working_days_between(paused, resumed)
    )


def test_time_limit_reached_is_a_ground_only_once_the_limit_passed():
    running = CaseFacts(deadline_passed=False)
    passed = CaseFacts(deadline_passed=True)
    assert TerminationGround.TIME_LIMIT_REACHED not in TERMINATE.grounds_allowed(running)
    assert TerminationGround.TIME_LIMIT_REACHED in TERMINATE.grounds_allowed(passed)
    assert TerminationGround.PARTY_REFUSED in TERMINATE.grounds_allowed(running)
    state = CaseState.MEDIATION
    assert check(state, "terminate", Role.HANDLER, passed, ground="time_limit_reached")
    check(state, "terminate", Role.HANDLER, running, ground="party_refused")


def test_closing_a_declined_case_carries_its_appeal_window():
    close = next(
        t for t in CASE_TRANSITIONS if t.trigger == "close" and CaseState.DECLINED in t.sources
    )
    assert close.carries_deadline
    assert close.starts_deadline is None


# --- 12. scoped policies ---------------------------------------------------------------


def test_scopes_apply_from_province_to_agency_to_category():
    from workflows.policy import PolicySet

    policies = PolicySet.from_mapping(
        {
            "acceptance_decision": "6 working days",
            "scopes": [
                {"agency": "amr-460200", "acceptance_decision": "4 working days"},
                {"agency": "amr-460200", "category": "travel_agency", "mediation": "48 hours"},
            ],
        }
    )
    assert policies.province.acceptance_decision == working_days(6)
    assert policies.resolve("amr-460100", "catering").acceptance_decision == working_days(6)
    assert policies.resolve("amr-460200", "catering").acceptance_decision == working_days(4)
    tours_haikou = policies.resolve("amr-460100", "travel_agency")
    assert tours_haikou.acceptance_decision == working_days(5)  # Order 32, shipped
    assert tours_haikou.contract_filing_bar_days == 90
    tours_sanya = policies.resolve("amr-460200", "travel_agency")
    assert tours_sanya.acceptance_decision == working_days(5)  # category beats agency
    assert tours_sanya.mediation == hours(48)
    assert policies.resolve(None, "catering").contract_filing_bar_days == 0


def test_a_bad_scope_is_refused_at_start():
    import pytest

    from workflows.policy import PolicySet

    with pytest.raises(ValueError, match="unknown keys"):
        PolicySet.from_mapping({"scopes": [{"agency": "x", "mediaton": "5 working days"}]})
    with pytest.raises(ValueError, match="names an agency, a category or both"):
        PolicySet.from_mapping({"scopes": [{"mediation": "5 working days"}]})
    with pytest.raises(ValueError, match="merchant_response"):
        PolicySet.from_mapping({"scopes": [{"category": "x", "merchant_response": "20 days"}]})


def test_the_contract_bar_runs_past_rest_days():
    from datetime import date

    from workflows.deadlines import is_contract_barred

    tours = Policy(contract_filing_bar_days=90)
    ended = date(2026, 7, 2)  # + 90 days = Wed 30 Sep; + 91 = 1 Oct (National Day)
    assert not is_contract_barred(ended, local(2026, 9, 30, 18), tours, CALENDAR)
    assert is_contract_barred(ended, local(2026, 10, 8, 9), tours, CALENDAR)
    assert not is_contract_barred(date(2026, 7, 3), local(2026, 10, 8, 9), tours, CALENDAR)
    assert not is_contract_barred(ended, local(2030, 1, 1, 9), Policy(), CALENDAR)


# --- 9. Order 20 -> Order 121 ------------------------------------------------------------


def test_citations_follow_the_rule_in_force_at_receipt():
    from datetime import date

    from workflows.grounds import (
        DeclineGround,
        legal_basis_on,
        order_121_applies,
        unverified_identity_ground,
    )

    assert not order_121_applies(date(2026, 4, 14))
    assert order_121_applies(date(2026, 4, 15))
    ground = DeclineGround.TIME_BARRED_3Y
    assert legal_basis_on(ground, date(2026, 4, 14)) == "SAMR Order 20 Art. 15(4)"
    assert legal_basis_on(ground, date(2026, 4, 15)) == (
        "SAMR Order 121 (formerly SAMR Order 20 Art. 15(4))"
    )
    assert unverified_identity_ground(date(2026, 4, 15)) is DeclineGround.FALSE_IDENTITY
    assert unverified_identity_ground(date(2026, 4, 14)) is DeclineGround.MATERIALS_MISSING
    decline = next(t for t in CASE_TRANSITIONS if t.trigger == "decline")
    assert DeclineGround.FALSE_IDENTITY not in decline.grounds_allowed(CaseFacts())
    assert DeclineGround.FALSE_IDENTITY in decline.grounds_allowed(
        CaseFacts(received_under_order_121=True)
    )
