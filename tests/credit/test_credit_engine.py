"""The pure credit engine: policy, grades, explanation, expiry, incremental = recompute."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.credit.engine import (
    DEFAULT_RULES,
    NEUTRALISING_KINDS,
    CreditEventKind,
    CreditFact,
    CreditPolicy,
    ScoreState,
    Tier,
    apply_incremental,
    history,
    is_active,
    is_repairable_kind,
    land,
    repair_available_from,
    score_at,
    summarise,
    trusted,
)

K = CreditEventKind
POLICY = CreditPolicy()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
PROPERTIES = settings(max_examples=150, deadline=None, database=None)


def fact(kind, at, *, id=None, policy=POLICY, neutralises=None):
    if neutralises is not None:
        return CreditFact(
            kind,
            -neutralises.points,
            at,
            neutralises.expires_at,
            id=id,
            neutralises_id=neutralises.id,
        )
    rule = policy.rule(kind)
    return CreditFact(kind, rule.points, at, rule.expires_at(at), id=id)


@pytest.mark.parametrize(
    ("score", "grade"),
    [(150, "A"), (90, "A"), (89, "B"), (75, "B"), (74, "C"), (60, "C"), (59, "D"), (-20, "D")],
)
def test_grade_thresholds(score, grade):
    assert POLICY.grade_for(score) == grade


def test_serious_list_holds_the_grade_at_d_whatever_the_score():
    assert POLICY.grade_for(120, serious_listed=True) == "D"


def test_every_default_expiry_follows_its_repair_tier():
    bounds = {Tier.MINOR: (1, 90), Tier.GENERAL: (90, 365), Tier.SERIOUS: (365, 1095)}
    for rule in DEFAULT_RULES.values():
        low, high = bounds[rule.tier]
        assert low <= rule.expiry_days <= high
    assert set(DEFAULT_RULES) | NEUTRALISING_KINDS == set(K)


def test_policy_from_mapping_changes_points_and_refuses_out_of_tier_expiry():
    policy = CreditPolicy.from_mapping(
        {"base_score": 80, "rules": {"deadline_missed": {"points": -7}}}
    )
    assert policy.rule(K.DEADLINE_MISSED).points == -7
    assert policy.rule(K.DEADLINE_MISSED).expiry_days == 90
    assert policy.base_score == 80
    with pytest.raises(ValueError, match="outside the minor tier"):
        CreditPolicy.from_mapping({"rules": {"deadline_missed": {"expiry_days": 200}}})
    with pytest.raises(ValueError, match="unknown credit policy keys"):
        CreditPolicy.from_mapping({"base": 1})
    with pytest.raises(ValueError, match="strictly decreasing"):
        CreditPolicy.from_mapping({"thresholds": [["A", 60], ["B", 75]]})


def test_score_is_explained_line_by_line_and_expired_lines_are_listed_not_counted():
    old = fact(K.DEADLINE_MISSED, T0, id=1)  # expires after 90 days
    recent = fact(K.MEDIATION_REFUSED, T0 + timedelta(days=100), id=2)
    later = fact(K.SETTLED_IN_TIME, T0 + timedelta(days=400), id=3)  # after the moment
    moment = T0 + timedelta(days=120)
    breakdown = score_at([old, recent, later], moment, POLICY)
    assert breakdown.score == 100 - 15
    assert breakdown.grade == "B"
    assert [(line.event.id, line.active) for line in breakdown.lines] == [(2, True), (1, False)]
    assert breakdown.counted == -15
    assert breakdown.next_expiry_at == recent.expires_at


def test_an_event_stops_counting_exactly_at_its_expiry():
    event = fact(K.COMPENSATION_PAID, T0)
    assert is_active(event, event.expires_at - timedelta(microseconds=1))
    assert not is_active(event, event.expires_at)
    assert score_at([event], event.expires_at, POLICY).score == 100


def test_a_repair_cancels_one_entry_until_it_would_have_expired():
    refused = fact(K.MEDIATION_REFUSED, T0, id=1)
    repair = fact(K.REPAIR_GRANTED, T0 + timedelta(days=100), id=2, neutralises=refused)
    assert score_at([refused, repair], T0 + timedelta(days=50), POLICY).score == 85
    assert score_at([refused, repair], T0 + timedelta(days=100), POLICY).score == 100
    assert score_at([refused, repair], refused.expires_at, POLICY).score == 100
    # History keeps both lines: nothing was edited.
    assert len(score_at([refused, repair], T0 + timedelta(days=200), POLICY).lines) == 2


def test_early_removal_ends_the_serious_listing():
    listed = fact(K.SERIOUS_LISTED, T0, id=1)
    removed = fact(K.SERIOUS_LIST_REMOVED, T0 + timedelta(days=400), id=2, neutralises=listed)
    during = score_at([listed], T0 + timedelta(days=10), POLICY)
    assert (during.serious_listed, during.grade) == (True, "D")
    after = score_at([listed, removed], T0 + timedelta(days=401), POLICY)
    assert (after.serious_listed, after.score, after.grade) == (False, 100, "A")
    # Without early removal the listing ends by itself after three calendar years (2028 is
    # a leap year, so that is 1096 days here).
    assert score_at([listed], T0 + timedelta(days=1095), POLICY).serious_listed
    assert not score_at([listed], T0.replace(year=2029), POLICY).serious_listed


def test_minimum_period_served_before_repair_by_tier():
    assert repair_available_from(fact(K.DEADLINE_MISSED, T0), POLICY) == T0
    assert repair_available_from(fact(K.MEDIATION_REFUSED, T0), POLICY) == T0 + timedelta(90)
    assert repair_available_from(fact(K.RECOVERY_OVERDUE, T0), POLICY) == T0 + timedelta(365)
    assert is_repairable_kind(K.COMPENSATION_PAID, POLICY)
    assert not is_repairable_kind(K.SETTLED_IN_TIME, POLICY)
    assert not is_repairable_kind(K.SERIOUS_LISTED, POLICY)


def test_trusted_list_rule():
    assert trusted("B", False, False, POLICY)
    assert not trusted("C", False, False, POLICY)
    assert not trusted("A", True, False, POLICY)
    assert not trusted("A", False, True, POLICY)


# --- properties ------------------------------------------------------------------------------

PLAIN_KINDS = sorted(set(K) - NEUTRALISING_KINDS - {K.SERIOUS_LISTED})


@st.composite
def event_lists(draw):
    """Random histories, with repairs cancelling earlier negative entries."""
    count = draw(st.integers(0, 25))
    events: list[CreditFact] = []
    for i in range(count):
        at = T0 + timedelta(hours=draw(st.integers(0, 24 * 800)))
        kind = draw(st.sampled_from(PLAIN_KINDS))
        events.append(fact(kind, at, id=i + 1))
    negatives = [e for e in events if e.points < 0]
    for target in draw(st.lists(st.sampled_from(negatives), unique=True)) if negatives else []:
        at = target.occurred_at + timedelta(hours=draw(st.integers(0, 24 * 400)))
        if at < target.expires_at:
            events.append(fact(K.REPAIR_GRANTED, at, id=len(events) + 1, neutralises=target))
    return events


moments = st.integers(0, 24 * 1300).map(lambda h: T0 + timedelta(hours=h))


@PROPERTIES
@given(event_lists(), moments)
def test_score_is_the_fold_of_apply_incremental_over_the_active_events(events, moment):
    folded = POLICY.base_score
    for event in events:
        if is_active(event, moment):
            folded = apply_incremental(folded, event)
    assert score_at(events, moment, POLICY).score == folded
    assert summarise(events, moment, POLICY).score == folded


@PROPERTIES
@given(event_lists(), st.lists(moments, max_size=8))
def test_incremental_updates_with_stale_refresh_agree_with_recompute(events, ticks):
    """What services.record_credit_event and the tick do, replayed: always equals a recompute."""
    timeline = sorted(
        [(e.occurred_at, 0, e) for e in events] + [(t, 1, None) for t in ticks],
        key=lambda item: (item[0], item[1]),
    )
    state, landed = ScoreState(POLICY.base_score), []
    for now, is_tick, event in timeline:
        if is_tick:
            if state.is_stale(now):
                state = summarise(landed, now, POLICY)
        else:
            landed.append(event)
            state = (
                summarise(landed, now, POLICY) if state.is_stale(now) else land(state, event, now)
            )
        # Fresh rows equal a recompute now; stale ones equal it just before their expiry.
        moment = (
            now if not state.is_stale(now) else state.next_expiry_at - timedelta(microseconds=1)
        )
        assert state == summarise(landed, moment, POLICY)


@PROPERTIES
@given(event_lists(), moments)
def test_history_steps_agree_with_score_at(events, moment):
    steps = history(events, moment, POLICY)
    before = [score for at, score in steps if at <= moment]
    assert (before[-1] if before else POLICY.base_score) == score_at(events, moment, POLICY).score
