"""The workflow service on a real database: routing, refusals, deadlines, the tick."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from complaints.cases.models import Case, CaseEvent
from complaints.cases.workflow import SYSTEM, Actor, available_actions, fire, route
from complaints.clock import LOCAL_ZONE
from complaints.extensions import db
from complaints.timers.models import CaseDeadline
from complaints.timers.tick import run_tick
from tests import services as test_services
from tests.app.helpers import file_case, outlet_named
from workflows.machine import RefusalCode, TransitionRefused
from workflows.states import CaseState, DeadlineKind, Role

FILED_AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Hainan, a Wednesday


def _open_deadline(case) -> CaseDeadline:
    return db.session.scalar(
        select(CaseDeadline).where(
            CaseDeadline.case_id == case.id, CaseDeadline.closed_at.is_(None)
        )
    )


def test_enrolled_merchant_answers_first_within_24_hours(seeded):
    case = file_case(outlet_named("Ah Hai"), now=FILED_AT)
    route(case, FILED_AT)
    db.session.commit()
    assert case.state is CaseState.MERCHANT_RESPONSE
    deadline = _open_deadline(case)
    assert deadline.kind is DeadlineKind.MERCHANT_RESPONSE
    assert deadline.due_at == FILED_AT + timedelta(hours=24)
    assert [e.trigger for e in case.events] == ["submit", "route_to_merchant"]


def test_merchant_outside_the_scheme_goes_straight_to_the_regulator(seeded):
    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=FILED_AT)
    route(case, FILED_AT)
    db.session.commit()
    assert case.state is CaseState.REGULATOR_REVIEW
    deadline = _open_deadline(case)
    assert deadline.kind is DeadlineKind.ACCEPTANCE_DECISION
    # 7 working days after Wed 25 Nov 2026: 26, 27, 30 Nov, 1, 2, 3, 4 Dec; end of that day.
    assert deadline.due_at.astimezone(LOCAL_ZONE).date().isoformat() == "2026-12-04"
    assert not deadline.provisional


def test_acceptance_deadline_spans_the_2026_spring_festival(seeded):
    before_holiday = datetime(2026, 2, 12, 2, 0, tzinfo=UTC)
    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=before_holiday)
    route(case, before_holiday)
    db.session.commit()
    due = _open_deadline(case).due_at.astimezone(LOCAL_ZONE)
    # 13 Feb, Sat 14 Feb (adjusted working day), 24-27 Feb, Sat 28 Feb (adjusted working day).
    assert due.date().isoformat() == "2026-02-28"


def test_december_filing_with_a_2027_deadline_is_provisional(seeded):
    late_december = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)
    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=late_december)
    route(case, late_december)
    db.session.commit()
    deadline = _open_deadline(case)
    assert deadline.due_at.year == 2027
    assert deadline.provisional


def test_the_table_refuses_with_a_clear_reason_and_changes_nothing(seeded):
    case = file_case(outlet_named("Ah Hai"), now=FILED_AT)
    route(case, FILED_AT)
    db.session.commit()
    with pytest.raises(TransitionRefused) as refused:
        fire(case, "accept", Actor(Role.MERCHANT, "m1"), now=FILED_AT)
    assert refused.value.code is RefusalCode.WRONG_STATE or refused.value.code is (
        RefusalCode.ROLE_NOT_ALLOWED
    )
    db.session.rollback()
    assert case.state is CaseState.MERCHANT_RESPONSE
    assert db.session.scalar(select(func.count(CaseEvent.id))) == 2
    actions = {t.trigger for t in available_actions(case, Role.MERCHANT, FILED_AT)}
    assert actions == {"merchant_refund", "merchant_offer", "merchant_dispute"}


def test_silent_merchant_goes_to_the_regulator_once(seeded):
    case = file_case(outlet_named("Ah Hai"), now=FILED_AT)
    route(case, FILED_AT)
    db.session.commit()
    later = FILED_AT + timedelta(hours=25)
    first = run_tick(later)
    second = run_tick(later + timedelta(minutes=1))
    assert first.expired == 1
    assert second.expired == 0
    assert first.errors == []
    assert second.errors == []
    db.session.refresh(case)
    assert case.state is CaseState.REGULATOR_REVIEW
    last = case.events[-1]
    assert (last.trigger, last.actor_role) == ("merchant_deadline_passed", Role.SYSTEM)
    assert _open_deadline(case).kind is DeadlineKind.ACCEPTANCE_DECISION


def test_reminders_fire_once_each_before_the_merchant_deadline(seeded):
    case = file_case(outlet_named("Ah Hai"), now=FILED_AT)
    route(case, FILED_AT)
    db.session.commit()
    sent = [run_tick(FILED_AT + timedelta(hours=h)).reminders for h in (11, 12, 13, 22, 23)]
    assert sum(sent) == 2  # at 50% of the time and 2 hours before
    assert sent == [0, 1, 0, 1, 0]  # due at 12 h and at 22 h, each exactly once


def test_late_regulator_is_escalated_to_the_supervisor_once(seeded):
    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=FILED_AT)
    route(case, FILED_AT)
    db.session.commit()
    late = _open_deadline(case).due_at + timedelta(minutes=1)
    assert run_tick(late).expired == 1
    assert run_tick(late + timedelta(hours=1)).expired == 0
    db.session.refresh(case)
    assert case.escalated
    assert [e.trigger for e in case.events].count("escalate") == 1
    assert case.state is CaseState.REGULATOR_REVIEW


@pytest.mark.postgres
def test_concurrent_ticks_fire_each_escalation_once(app, seeded):
    if db.engine.dialect.name != "postgresql":
        test_services.missing("concurrent ticks need PostgreSQL (DATABASE_URL)")
    cases = [file_case(outlet_named("Ah Hai"), now=FILED_AT) for _ in range(20)]
    for case in cases:
        route(case, FILED_AT)
    db.session.commit()
    later = FILED_AT + timedelta(hours=25)
    barrier = threading.Barrier(4)
    reports = []

    def tick():
        with app.app_context():
            barrier.wait()
            reports.append(run_tick(later))
            db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.expired for r in reports) == 20
    db.session.expire_all()
    passed = db.session.scalar(
        select(func.count(CaseEvent.id)).where(CaseEvent.trigger == "merchant_deadline_passed")
    )
    assert passed == 20
    states = set(db.session.scalars(select(Case.state)))
    assert states == {CaseState.REGULATOR_REVIEW}


def test_audit_verify_finds_a_tampered_event(seeded, runner):
    case = file_case(outlet_named("Ah Hai"), now=FILED_AT)
    route(case, FILED_AT)
    fire(case, "merchant_offer", Actor(Role.MERCHANT, "m1"), now=FILED_AT, reason="¥500 back")
    db.session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    event = case.events[1]
    event.reason = "nothing happened here"
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"case {case.id}: event 2: contents changed" in result.output


def test_system_actor_is_the_only_one_who_routes(seeded):
    case = file_case(outlet_named("Ah Hai"), now=FILED_AT)
    with pytest.raises(TransitionRefused) as refused:
        fire(case, "route_to_regulator", Actor(Role.TOURIST), now=FILED_AT)
    assert refused.value.code is RefusalCode.ROLE_NOT_ALLOWED
    db.session.rollback()
    fire(case, "route_to_regulator", SYSTEM, now=FILED_AT)
    db.session.commit()
    assert case.state is CaseState.REGULATOR_REVIEW


def test_tick_command_runs_every_periodic_step(seeded, runner):
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    case = file_case(outlet_named("Ah Hai"), now=three_days_ago)
    route(case, three_days_ago)
    db.session.commit()
    result = runner.invoke(args=["workflows", "tick"])  # the real clock: 24 h have passed
    assert result.exit_code == 0, result.output
    assert "expired 1" in result.output
    assert "recoveries_overdue 0" in result.output
    db.session.expire_all()
    assert db.session.get(Case, case.id).state is CaseState.REGULATOR_REVIEW


def test_an_ended_appeal_window_stops_running(seeded):
    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=FILED_AT)
    route(case, FILED_AT)
    handler = Actor(Role.HANDLER, "1")
    fire(case, "accept", handler, now=FILED_AT)
    fire(case, "record_agreement", handler, now=FILED_AT, reason="refund of ¥300 agreed")
    fire(case, "close", handler, now=FILED_AT)
    db.session.commit()
    window = _open_deadline(case)
    assert window.kind is DeadlineKind.APPEAL_WINDOW
    run_tick(window.due_at + timedelta(minutes=1))
    assert _open_deadline(case) is None
    assert case.state is CaseState.CLOSED


def test_an_unanswered_offer_goes_to_the_regulator_without_blaming_the_merchant(seeded):
    case = file_case(outlet_named("Ah Hai"), now=FILED_AT)
    route(case, FILED_AT)
    offered_at = FILED_AT + timedelta(hours=20)
    fire(case, "merchant_offer", Actor(Role.MERCHANT, "m1"), now=offered_at, reason="¥400")
    db.session.commit()
    # The tourist has the merchant's 24 hours from the offer, not the 4 left of the merchant's.
    assert run_tick(FILED_AT + timedelta(hours=25)).expired == 0
    assert run_tick(offered_at + timedelta(hours=24, minutes=1)).expired == 1
    db.session.refresh(case)
    assert case.state is CaseState.REGULATOR_REVIEW
    triggers = [e.trigger for e in case.events]
    assert triggers[-1] == "offer_unanswered"
    assert "merchant_deadline_passed" not in triggers


def test_admin_calendar_corrections_apply_to_the_next_deadline(seeded, runner):
    status = runner.invoke(args=["workflows", "calendar", "status", "2027"])
    assert "PROVISIONAL" in status.output
    # Suppose the 2027 notice makes Mon 4 Jan a day off and the year is then complete.
    for args in (
        ["workflows", "calendar", "set", "2027-01-04", "off", "--note", "notice", "--by", "admin"],
        ["workflows", "calendar", "complete", "2027", "--note", "notice", "--by", "admin"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    assert (
        "2027: official" in runner.invoke(args=["workflows", "calendar", "status", "2027"]).output
    )
    filed = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)  # Monday
    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=filed)
    route(case, filed)
    db.session.commit()
    deadline = _open_deadline(case)
    assert not deadline.provisional
    # 29, 30, 31 Dec, (1 Jan holiday, weekend), (4 Jan now off), 5, 6, 7, 8 Jan: without the
    # correction the 7th working day would be 7 Jan.
    assert deadline.due_at.astimezone(LOCAL_ZONE).date().isoformat() == "2027-01-08"


@pytest.mark.postgres
def test_concurrent_filings_in_one_city_get_distinct_numbers(app, seeded):
    if db.engine.dialect.name != "postgresql":
        test_services.missing("concurrent filings need PostgreSQL (DATABASE_URL)")
    outlet_id = outlet_named("Ah Hai").id
    barrier = threading.Barrier(8)
    numbers = []

    def file_one():
        from complaints.merchants.models import Outlet

        with app.app_context():
            barrier.wait()
            numbers.append(file_case(db.session.get(Outlet, outlet_id), now=FILED_AT).number)
            db.session.remove()

    threads = [threading.Thread(target=file_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(numbers) == 8
    assert len(set(numbers)) == 8
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 9))
