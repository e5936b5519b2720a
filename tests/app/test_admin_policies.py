"""Policies as dated records: an admin's version applies to deadlines opened after its time,
running ones keep theirs; env values stay the default. Calendar corrections on a screen."""

from datetime import date, timedelta

from sqlalchemy import select

from complaints.admin.models import AdminChange
from complaints.database import utcnow
from complaints.extensions import db
from complaints.policies.services import WORKFLOW, add_version
from complaints.timers.models import CalendarOverride
from complaints.timers.services import current_policy
from tests.app.test_admin_screens import ADMIN, _csrf
from tests.app.test_console_support import sign_in
from workflows.policy import Policy


def test_a_version_applies_from_its_time_and_env_stays_the_default(app_ctx):
    now = utcnow()
    default = Policy().merchant_response
    assert current_policy(at=now).merchant_response == default
    add_version(WORKFLOW, {"merchant_response": "12 hours"}, now + timedelta(hours=1), "a", "r")
    db.session.commit()
    assert current_policy(at=now).merchant_response == default  # a deadline opened now
    later = current_policy(at=now + timedelta(hours=2)).merchant_response
    assert str(later) == "12 hours"


def test_deadline_opened_after_the_version_uses_it(app_ctx):
    from workflows.calendar import WorkingCalendar
    from workflows.deadlines import deadline_for
    from workflows.states import DeadlineKind

    now = utcnow()
    add_version(WORKFLOW, {"merchant_response": "2 hours"}, now, "a", "shorter")
    db.session.commit()
    calendar = WorkingCalendar({})
    kind = DeadlineKind.MERCHANT_RESPONSE
    due = deadline_for(kind, now, current_policy(at=now), calendar).due
    two_hours = Policy.from_mapping({"merchant_response": "2 hours"})
    assert due == deadline_for(kind, now, two_hours, calendar).due
    assert due < deadline_for(kind, now, Policy(), calendar).due


def test_admin_screen_saves_a_version_with_a_reason_and_refuses_bad_values(client, seeded):
    sign_in(client, ADMIN)
    data = _csrf(client, "/admin/policies")
    data.update(
        kind="workflow",
        values='{"merchant_response": "banana"}',
        effective_from="2030-01-01T09:00",
        reason="pilot rules",
    )
    refused = client.post("/admin/policies?lang=en", data=data)
    assert refused.status_code == 422
    assert "merchant_response" in refused.get_data(as_text=True)
    data["values"] = '{"merchant_response": "12 hours"}'
    assert client.post("/admin/policies", data=data).status_code == 303
    page = client.get("/admin/policies?lang=en").get_data(as_text=True)
    assert "pilot rules" in page
    change = db.session.scalar(select(AdminChange).where(AdminChange.subject_type == "policy"))
    assert change.after["effective_from"].startswith("2030-01-01T01:00")  # 09:00 Beijing


def test_calendar_screen_corrects_a_day_and_completes_a_year(client, seeded):
    sign_in(client, ADMIN)
    data = _csrf(client, "/admin/calendar")
    data.update(day="2027-02-06", kind="working", note="国办发明电〔2026〕X号")
    assert client.post("/admin/calendar/days", data=data).status_code == 303
    assert db.session.get(CalendarOverride, date(2027, 2, 6)).is_working_day is True
    year = _csrf(client, "/admin/calendar?year=2027")
    year.update(year="2027", note="国办发明电〔2026〕X号")
    assert client.post("/admin/calendar/years", data=year).status_code == 303
    page = client.get("/admin/calendar?year=2027&lang=en").get_data(as_text=True)
    assert "2027 is official" in page
    assert db.session.scalar(select(AdminChange).where(AdminChange.subject_key == "2027-02-06"))


def test_a_credit_version_applies_from_its_time(app_ctx):
    from complaints.credit.engine import CreditPolicy
    from complaints.credit.policy import current_credit_policy
    from complaints.policies.services import CREDIT, policy_at

    now = utcnow()
    default = CreditPolicy().complaint_free_period_days
    add_version(CREDIT, {"complaint_free_period_days": 90}, now, "a", "pilot")
    db.session.commit()
    assert policy_at(CREDIT, now - timedelta(seconds=1)).complaint_free_period_days == default
    assert current_credit_policy().complaint_free_period_days == 90
