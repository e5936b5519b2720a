"""Risk early warning: rules raise alerts once, the duty inbox hears, regulators work them."""

import math
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from complaints.alerts.models import Alert, AlertStatus
from complaints.alerts.rules import poisson_tail
from complaints.alerts.services import evaluate
from complaints.analytics.rollups import refresh_recent
from complaints.cases.models import CaseSource, Remedy
from complaints.cases.services import ComplaintInput, file_complaint
from complaints.cases.workflow import route
from complaints.database import utcnow
from complaints.extensions import db
from complaints.outbox.services import relay_pending
from tests.app.test_console_support import AH_HAI, QILOU, TAXI, file_case, outlet, sign_in
from tests.app_fixtures import hidden_fields


def test_poisson_tail_matches_the_textbook():
    assert poisson_tail(0, 2.0) == 1.0
    assert math.isclose(poisson_tail(1, 2.0), 1 - math.exp(-2))
    # P(X >= 5 | mean 0.5) is about 0.00017: five complaints where one a fortnight is usual.
    assert math.isclose(poisson_tail(5, 0.5), 0.000172, rel_tol=0.01)


def file_with_phone(outlet_name, phone, now):
    place = outlet(outlet_name)
    data = ComplaintInput(
        enterprise_id=place.enterprise_id,
        outlet_id=place.id,
        category=place.category,
        description="Charged twice for the same thing, receipt attached.",
        occurred_on=(now - timedelta(days=1)).date(),
        amount_paid_fen=10000,
        amount_claimed_fen=10000,
        remedy=Remedy.REFUND,
        tourist_name="Bob Tourist",
        tourist_phone=phone,
        language="en",
        contact_consent=False,
        source=CaseSource.QR,
        submission_key=secrets.token_urlsafe(24),
    )
    case = file_complaint(data, secret_key="t", public_base_url="http://anxin.test", now=now).case
    route(case, now)
    db.session.commit()
    return case


@pytest.fixture
def burst(seeded):
    now = utcnow()
    cases = [file_case(TAXI, now - timedelta(hours=n)) for n in range(5)]
    refresh_recent(now)
    return now, cases


def test_a_burst_raises_alerts_once_with_the_cases_and_mails_the_duty_inbox(burst, capsys):
    now, cases = burst
    assert evaluate(now) >= 1
    alerts = db.session.scalars(select(Alert)).all()
    by_rule = {a.rule: a for a in alerts}
    merchant = by_rule["merchant_burst"]
    assert merchant.enterprise_id == cases[0].enterprise_id
    assert sorted(merchant.case_ids) == sorted(c.id for c in cases)
    assert merchant.figures["complaints"] == 5
    # Five transport complaints in a week with no history: far above a Poisson baseline.
    assert by_rule["category_above"].figures["value"] == "transport"
    assert evaluate(now) == 0  # the same signal in the same week is not raised again
    relay_pending()
    mail = capsys.readouterr().out
    assert "duty-460200@amr.hainan.example" in mail
    assert "风险预警" in mail


def test_one_phone_against_many_merchants_is_flagged(seeded):
    now = utcnow()
    for name in (TAXI, AH_HAI, QILOU):
        file_with_phone(name, "+8613900001111", now)
    evaluate(now)
    alert = db.session.scalar(select(Alert).where(Alert.rule == "phone_many_merchants"))
    assert alert.figures == {"merchants": 3, "days": 30, "phone_tail": "1111"}
    assert len(alert.case_ids) == 3


def test_many_phones_against_one_merchant_is_flagged(seeded):
    now = utcnow()
    for n in range(5):
        file_with_phone(AH_HAI, f"+861390000{n:04d}", now)
    evaluate(now)
    alert = db.session.scalar(select(Alert).where(Alert.rule == "phones_one_merchant"))
    assert alert.figures["phones"] == 5


def work(client, alert, action, note):
    page = client.get(f"/console/alerts/{alert.id}?lang=en").get_data(as_text=True)
    data = {"csrf_token": hidden_fields(page)["csrf_token"], "note": note}
    return client.post(f"/console/alerts/{alert.id}/{action}?lang=en", data=data)


def test_regulators_acknowledge_and_close_with_a_note(client, burst):
    now, cases = burst
    evaluate(now)
    alert = db.session.scalar(select(Alert).where(Alert.rule == "merchant_burst"))
    sign_in(client)
    queue = client.get("/console/?lang=en").get_data(as_text=True)
    assert 'id="alert-banner"' in queue
    listing = client.get("/console/alerts/?lang=en").get_data(as_text=True)
    assert 'data-rule="merchant_burst"' in listing
    page = client.get(f"/console/alerts/{alert.id}?lang=en").get_data(as_text=True)
    assert all(c.number in page for c in cases)
    assert work(client, alert, "acknowledge", "Calling the taxi company").status_code == 303
    refused = work(client, alert, "close", " ")
    assert refused.status_code == 422
    assert "Write a note" in refused.get_data(as_text=True)
    assert work(client, alert, "close", "Meter fixed, driver warned").status_code == 303
    db.session.expire_all()
    alert = db.session.get(Alert, alert.id)
    assert alert.status is AlertStatus.CLOSED
    assert "Calling the taxi company" in alert.note
    assert "Meter fixed" in alert.note


def test_another_agency_cannot_see_the_alert(client, burst):
    now, _ = burst
    evaluate(now)
    alert = db.session.scalar(select(Alert).where(Alert.rule == "merchant_burst"))
    sign_in(client, "handler.haikou@anxin.demo")
    assert client.get(f"/console/alerts/{alert.id}?lang=en").status_code == 404


def test_the_demo_seed_raises_the_taxi_burst_alert(app_ctx, runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    alert = db.session.scalar(select(Alert).where(Alert.rule == "merchant_burst"))
    assert alert is not None
    assert alert.figures["complaints"] == 5
    assert runner.invoke(args=["seed"]).exit_code == 0  # idempotent: still one alert
    assert len(db.session.scalars(select(Alert).where(Alert.rule == "merchant_burst")).all()) == 1


def test_scans_dropping_at_a_trusted_merchant_and_fund_outflow_are_flagged(seeded):
    from complaints.alerts.policy import AlertPolicy
    from complaints.alerts.rules import fund_outflows, scan_drops
    from complaints.analytics.models import ScanCount
    from complaints.analytics.rollups import local_day
    from complaints.compensation.models import Fund

    now = utcnow()
    today = local_day(now)
    place = outlet(AH_HAI)
    place.enterprise.trusted = True
    for days_ago in range(7, 35):  # four usual weeks of 10 scans a day, then silence
        db.session.add(ScanCount(day=today - timedelta(days=days_ago), outlet_id=place.id, n=10))
    db.session.commit()
    found = scan_drops(now, AlertPolicy())
    assert [(f.outlet_id, f.figures["recent"], f.figures["usual"]) for f in found] == [
        (place.id, 0, 70.0)
    ]
    fund = db.session.scalar(select(Fund).where(Fund.division_code == "460200"))
    assert fund_outflows(now, AlertPolicy()) == []  # nothing paid: nothing unusual
    assert fund_outflows(now, AlertPolicy(outflow_min_fen=0)) == []  # 0 is not above 3 x 0
    assert fund.id


def test_the_tick_runs_rollups_alerts_and_rectifications(burst):
    from complaints.periodic import run_periodic

    now, _ = burst
    counts = run_periodic(now)
    assert counts["rollup_rows"] > 0
    assert counts["alerts_raised"] >= 1
    assert counts["rectifications_overdue"] == 0


def test_a_bad_alert_policy_stops_the_start():
    from complaints import create_app
    from complaints.config import ConfigError

    with pytest.raises(ConfigError, match="ALERT_POLICY"):
        create_app({"ALERT_POLICY": {"burst_complaint": 3}, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
