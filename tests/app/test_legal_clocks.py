"""Issue 12: legal clocks a party cannot game (offers, pauses, early closing, grounds)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from complaints.cases.workflow import Actor, available_actions, fire, route
from complaints.clock import LOCAL_ZONE
from complaints.extensions import db
from complaints.timers.services import open_deadline_for
from complaints.timers.tick import run_tick
from tests.app.helpers import file_case, outlet_named
from workflows.grounds import TerminationGround
from workflows.machine import RefusalCode, TransitionRefused
from workflows.policy import Policy, hours, working_days
from workflows.states import CaseState, DeadlineKind, Role

FILED_AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 10:00 in Hainan
MERCHANT = Actor(Role.MERCHANT, "m1")
HANDLER = Actor(Role.HANDLER, "1")
TOURIST = Actor(Role.TOURIST)


def _in_mediation(now=FILED_AT):
    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=now)
    route(case, now)
    fire(case, "accept", HANDLER, now=now)
    db.session.commit()
    return case


# --- 1. offers cannot hold a case past the ODR ceiling -------------------------------------


def test_an_offer_every_20_hours_cannot_keep_the_case_from_the_regulator(seeded):
    case = file_case(outlet_named("Ah Hai"), now=FILED_AT)
    route(case, FILED_AT)
    db.session.commit()
    # 10 working days from Wed 25 Nov: 26, 27, 30 Nov, 1-4, 7, 8, 9 Dec -> end of 9 Dec.
    ceiling = datetime(2026, 12, 9, 23, 59, 59, 999999, tzinfo=LOCAL_ZONE)
    moment = FILED_AT
    while case.state is CaseState.MERCHANT_RESPONSE:
        moment += timedelta(hours=20)
        run_tick(moment)
        db.session.refresh(case)
        if case.state is not CaseState.MERCHANT_RESPONSE:
            break
        fire(case, "merchant_offer", MERCHANT, now=moment, reason="a new offer")
        db.session.commit()
        assert open_deadline_for(case.id).due_at <= ceiling
    assert case.state is CaseState.REGULATOR_REVIEW
    assert case.events[-1].trigger == "offer_unanswered"
    assert moment <= ceiling + timedelta(hours=20)


def test_a_late_offer_still_gives_the_tourist_time_inside_the_stage(seeded):
    case = file_case(outlet_named("Ah Hai"), now=FILED_AT)
    route(case, FILED_AT)
    offered_at = FILED_AT + timedelta(hours=30)
    fire(case, "merchant_offer", MERCHANT, now=offered_at, reason="¥300")
    db.session.commit()
    assert open_deadline_for(case.id).due_at == offered_at + timedelta(hours=24)


# --- 4. no deadline fires while its case is paused -----------------------------------------


def test_a_paused_case_is_not_escalated_and_the_moved_deadline_fires(app, seeded):
    app.extensions["anxin_policy"] = Policy(mediation=hours(48))  # Hainan's 48 h mediation
    try:
        case = _in_mediation()
        due = open_deadline_for(case.id).due_at
        assert due == FILED_AT + timedelta(hours=48)
        paused_at = FILED_AT + timedelta(hours=10)
        fire(case, "pause_for_appraisal", HANDLER, now=paused_at)
        db.session.commit()
        # The old due time passes during the appraisal: nothing fires, nothing is reminded.
        report = run_tick(due + timedelta(hours=1))
        assert (report.expired, report.reminders) == (0, 0)
        assert not any(e.trigger == "escalate" for e in case.events)
        assert "terminate" in {t.trigger for t in available_actions(case, Role.HANDLER, due)}
        resumed_at = FILED_AT + timedelta(hours=70)  # a 60 h pause
        fire(case, "resume_after_appraisal", HANDLER, now=resumed_at)
        db.session.commit()
        moved = open_deadline_for(case.id)
        assert moved.due_at == due + timedelta(hours=60)  # clock time, not working days
        assert run_tick(moved.due_at - timedelta(minutes=1)).expired == 0
        assert run_tick(moved.due_at + timedelta(minutes=1)).expired == 1
        db.session.refresh(case)
        assert case.events[-1].trigger == "escalate"
    finally:
        app.extensions.pop("anxin_policy", None)


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["pause", "resume", "tick"]), st.integers(1, 40)),
        min_size=1,
        max_size=8,
    )
)
def test_property_no_deadline_fires_while_its_case_is_paused(app, seeded, steps):
    """Random pauses, resumes and ticks on the real tick: an escalation only ever happens
    with the clock running, after 48 h of running time, and at most once."""
    app.extensions["anxin_policy"] = Policy(mediation=hours(48))
    try:
        case = _in_mediation()
        moment, running_hours, paused = FILED_AT, 0.0, False
        for action, gap in [*steps, ("resume", 1), ("tick", 60)]:
            if not paused:
                running_hours += gap
            moment += timedelta(hours=gap)
            if action == "pause" and not paused and case.state is CaseState.MEDIATION:
                fire(case, "pause_for_appraisal", HANDLER, now=moment)
                paused = True
            elif action == "resume" and paused:
                fire(case, "resume_after_appraisal", HANDLER, now=moment)
                paused = False
            db.session.commit()
            fired = run_tick(moment).expired
            db.session.refresh(case)
            if fired:
                assert not paused
                assert running_hours >= 48
        escalations = [e for e in case.events if e.trigger == "escalate"]
        assert len(escalations) == 1
    finally:
        app.extensions.pop("anxin_policy", None)
        db.session.rollback()


# --- 6. closing a declined case early keeps the appeal window ------------------------------


def test_closing_a_declined_case_early_keeps_the_appeal_window(seeded):
    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=FILED_AT)
    route(case, FILED_AT)
    fire(case, "decline", HANDLER, now=FILED_AT, ground="not_consumer_dispute")
    window_due = open_deadline_for(case.id).due_at
    fire(case, "close", HANDLER, now=FILED_AT + timedelta(hours=1))
    db.session.commit()
    window = open_deadline_for(case.id)
    assert (window.kind, window.due_at, window.state) == (
        DeadlineKind.APPEAL_WINDOW,
        window_due,
        CaseState.CLOSED,
    )
    day_3 = FILED_AT + timedelta(days=3)
    assert "reopen" in {t.trigger for t in available_actions(case, Role.TOURIST, day_3)}
    fire(case, "reopen", TOURIST, now=day_3, reason="I have the receipt now")
    db.session.commit()
    assert case.state is CaseState.REGULATOR_REVIEW


def test_the_carried_window_still_ends(seeded):
    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=FILED_AT)
    route(case, FILED_AT)
    fire(case, "decline", HANDLER, now=FILED_AT, ground="not_consumer_dispute")
    fire(case, "close", HANDLER, now=FILED_AT)
    db.session.commit()
    due = open_deadline_for(case.id).due_at
    run_tick(due + timedelta(minutes=1))
    assert open_deadline_for(case.id) is None
    assert "reopen" not in {
        t.trigger for t in available_actions(case, Role.TOURIST, due + timedelta(minutes=2))
    }


# --- 7. "time limit reached" only once it has -----------------------------------------------


def test_time_limit_reached_cannot_be_cited_on_day_one(seeded):
    case = _in_mediation()
    with pytest.raises(TransitionRefused) as refused:
        fire(
            case,
            "terminate",
            HANDLER,
            now=FILED_AT + timedelta(days=1),
            ground=TerminationGround.TIME_LIMIT_REACHED.value,
        )
    assert refused.value.code is RefusalCode.GUARD_FAILED
    db.session.rollback()
    due = open_deadline_for(case.id).due_at
    fire(case, "terminate", HANDLER, now=due + timedelta(seconds=1), ground="time_limit_reached")
    db.session.commit()
    assert case.state is CaseState.TERMINATED


def test_the_running_deadline_is_not_passed_while_paused(seeded):
    case = _in_mediation()
    fire(case, "pause_for_appraisal", HANDLER, now=FILED_AT + timedelta(hours=1))
    db.session.commit()
    far_later = FILED_AT + timedelta(days=200)
    with pytest.raises(TransitionRefused):
        fire(case, "terminate", HANDLER, now=far_later, ground="time_limit_reached")
    db.session.rollback()
    assert open_deadline_for(case.id).paused_at is not None


# --- 16. transfer, termination, provisional flags, next-step text -------------------------


def test_a_transfer_gives_the_receiving_agency_its_own_acceptance_clock(seeded):
    from complaints.agencies.models import Agency
    from complaints.console.services import transfer_case

    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=FILED_AT)
    route(case, FILED_AT)
    db.session.commit()
    first_due = open_deadline_for(case.id).due_at
    late = first_due + timedelta(hours=1)
    run_tick(late)  # the sending agency was late: escalated
    db.session.refresh(case)
    assert case.escalated
    haikou = db.session.scalar(select(Agency).where(Agency.slug == "amr-460100"))
    transfer_case(case, HANDLER, haikou.id, "the outlet operates in Haikou", late)
    db.session.commit()
    deadline = open_deadline_for(case.id)
    assert deadline.started_at == late
    # 7 working days from Fri 4 Dec 2026 at the receiving agency: 7-11, 14, 15 Dec.
    assert deadline.due_at.astimezone(LOCAL_ZONE).date().isoformat() == "2026-12-15"
    assert not case.escalated


def test_a_terminated_case_is_closed_not_escalated(seeded):
    case = _in_mediation()
    fire(case, "terminate", HANDLER, now=FILED_AT, ground="party_refused")
    db.session.commit()
    due = open_deadline_for(case.id).due_at
    run_tick(due + timedelta(minutes=1))
    db.session.refresh(case)
    assert case.state is CaseState.CLOSED
    assert not any(e.trigger == "escalate" for e in case.events)
    assert open_deadline_for(case.id).kind is DeadlineKind.APPEAL_WINDOW


def test_provisional_deadlines_are_flagged_to_the_merchant(app, client, seeded):
    from complaints.notices.models import Notification
    from tests.app.test_portal_support import AH_HAI_OWNER, sign_in

    app.extensions["anxin_policy"] = Policy(merchant_response=working_days(3))
    try:
        december = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)
        case = file_case(outlet_named("Ah Hai"), now=december)
        route(case, december)
        db.session.commit()
        assert open_deadline_for(case.id).provisional
        sms = db.session.scalar(
            select(Notification.body).where(
                Notification.case_id == case.id, Notification.event_key == "route_to_merchant"
            )
        )
        assert "provisional" in sms or "暂定" in sms
        sign_in(client, AH_HAI_OWNER)
        page = client.get(f"/merchant/cases/{case.number}?lang=en").get_data(as_text=True)
        assert 'id="provisional-note"' in page
    finally:
        app.extensions.pop("anxin_policy", None)


def test_the_tourists_next_step_quotes_the_policy(client, seeded):
    from complaints.cases.services import tracking_key_for

    case = file_case(outlet_named("Coconut Dream tour desk"), now=FILED_AT, key="k" * 24)
    case.merchant_first = False
    route(case, FILED_AT)
    db.session.commit()
    key = tracking_key_for("k" * 24, "test-secret-key-not-for-production")
    page = client.get(f"/t/{key}?lang=en").get_data(as_text=True)
    # A tour complaint: Order 32's 5 working days, not a hard-coded 7.
    assert "accept the complaint within 5 working days" in page
