"""Issue 12 item 3: calendar corrections reach the deadlines already running."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from complaints.cases.workflow import route
from complaints.clock import LOCAL_ZONE
from complaints.extensions import db
from complaints.notices.models import Notification
from complaints.timers.services import open_deadline_for, set_calendar_day
from tests.app.helpers import file_case, outlet_named
from tests.app.test_legal_recovery import paid_large_claim

LATE_DECEMBER = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)  # Monday


def _keys(case_id: int) -> list[str]:
    return list(
        db.session.scalars(select(Notification.event_key).where(Notification.case_id == case_id))
    )


def _local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_ZONE).date()


def test_the_2027_notice_moves_running_deadlines_and_ends_provisional(seeded, runner):
    case = file_case(outlet_named("Taxi Qiong B·T1234"), now=LATE_DECEMBER)
    route(case, LATE_DECEMBER)
    untouched = file_case(
        outlet_named("Taxi Qiong B·T1234"), now=datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    )
    route(untouched, untouched.created_at)
    db.session.commit()
    deadline = open_deadline_for(case.id)
    assert deadline.provisional
    assert _local_day(deadline.due_at) == date(2027, 1, 7)
    untouched_due = open_deadline_for(untouched.id).due_at

    result = runner.invoke(
        args=[
            "workflows",
            "calendar",
            "set",
            "2027-01-04",
            "off",
            "--note",
            "notice",
            "--by",
            "admin",
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    deadline = open_deadline_for(case.id)
    assert _local_day(deadline.due_at) == date(2027, 1, 8)
    assert deadline.provisional  # the year is not declared complete yet
    event = case.events[-1]
    assert event.trigger == "deadline_recomputed"
    assert "2027-01-07" in event.reason
    assert "2027-01-08" in event.reason
    assert any(key.startswith("regulator_deadline_moved") for key in _keys(case.id))
    assert open_deadline_for(untouched.id).due_at == untouched_due
    assert not any(e.trigger == "deadline_recomputed" for e in untouched.events)

    result = runner.invoke(
        args=["workflows", "calendar", "complete", "2027", "--note", "notice", "--by", "admin"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not open_deadline_for(case.id).provisional
    assert [e.trigger for e in case.events].count("deadline_recomputed") == 2


def test_a_correction_moves_a_recovery_due_date_and_tells_the_merchant(seeded):
    claim = paid_large_claim()
    order = claim.recovery
    before = order.due_at
    # Take a working day inside the repayment period off.
    day = order.created_at.astimezone(LOCAL_ZONE).date()
    while True:
        day += timedelta(days=1)
        if day.weekday() < 5:
            break
    set_calendar_day(day, working=False, note="correction", actor="admin")
    db.session.commit()
    db.session.expire_all()
    assert claim.recovery.due_at > before
    assert any(key.startswith("recovery_due_moved") for key in _keys(claim.case_id))
    assert claim.case.events[-1].trigger == "deadline_recomputed"
