"""Issue 12 at filing: the time bar, the consumer's ODR choice, scoped tourism limits."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from complaints.cases.models import Case
from complaints.cases.workflow import route
from complaints.clock import LOCAL_ZONE, local_today
from complaints.extensions import db
from complaints.timers.services import open_deadline_for
from tests.app.helpers import complaint_form_data, file_case, outlet_named, token_for
from tests.app_fixtures import error_for
from workflows.policy import PolicySet
from workflows.states import CaseState

TOUR_DESK = "Coconut Dream tour desk"


def _post(client, outlet, **overrides):
    token = token_for(outlet)
    data = complaint_form_data(client, token, **overrides)
    return client.post(f"/s/{token}/complain?lang=en", data=data)


@pytest.fixture
def frozen_now(monkeypatch):
    def freeze(moment: datetime):
        monkeypatch.setattr("complaints.cases.forms.utcnow", lambda: moment)

    return freeze


@pytest.fixture
def policies(app):
    def use(config):
        app.extensions["anxin_policy_set"] = PolicySet.from_mapping(config)
        app.extensions["anxin_policy_cache"] = {}

    yield use
    app.extensions.pop("anxin_policy_set", None)


# --- 5. the time bar ---------------------------------------------------------------------


def test_filing_on_29_february_does_not_crash_and_applies_the_bar(client, seeded, frozen_now):
    frozen_now(datetime(2028, 2, 29, 4, 0, tzinfo=UTC))
    outlet = outlet_named("Ah Hai")
    barred = _post(client, outlet, occurred_on="2025-02-28")
    assert barred.status_code == 422
    assert "3 years" in " ".join(error_for(barred.get_data(as_text=True), "occurred_on"))
    assert _post(client, outlet, occurred_on="2025-03-01").status_code == 303


def test_a_bar_ending_on_a_rest_day_runs_to_the_next_working_day(client, seeded, frozen_now):
    # Three years from 28 Nov 2023 end on Saturday 28 Nov 2026: filed on Monday, still in time.
    frozen_now(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    assert _post(client, outlet_named("Ah Hai"), occurred_on="2023-11-28").status_code == 303


def test_the_bar_counts_from_when_the_tourist_knew(client, seeded):
    today = local_today()
    long_ago = today.replace(year=today.year - 4, day=1).isoformat()
    recently = (today - timedelta(days=30)).isoformat()
    outlet = outlet_named("Ah Hai")
    response = _post(client, outlet, occurred_on=long_ago, harm_known_on=recently)
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert case.harm_known_on.isoformat() == recently
    before = _post(client, outlet, occurred_on=recently, harm_known_on=long_ago)
    assert "before it happened" in " ".join(
        error_for(before.get_data(as_text=True), "harm_known_on")
    )


def test_the_bar_follows_the_policy(client, seeded, policies):
    policies({"complaint_time_bar_years": 2})
    today = local_today()
    thirty_months = today.replace(year=today.year - 2, day=1) - timedelta(days=180)
    response = _post(client, outlet_named("Ah Hai"), occurred_on=thirty_months.isoformat())
    assert response.status_code == 422
    assert "2 years" in " ".join(error_for(response.get_data(as_text=True), "occurred_on"))


# --- 10. ODR is the consumer's choice ----------------------------------------------------


def test_the_tourist_may_send_the_complaint_straight_to_the_regulator(client, seeded):
    page = client.get(f"/s/{token_for(outlet_named('Ah Hai'))}/complain?lang=en")
    html = page.get_data(as_text=True)
    assert "10 working days to settle with you" in html  # the ceiling, from the policy
    assert 'checked id="first_answer-0" name="first_answer" type="radio" value="merchant"' in html
    assert _post(client, outlet_named("Ah Hai"), first_answer="regulator").status_code == 303
    assert _post(client, outlet_named("Ah Hai")).status_code == 303  # the default
    straight, merchant_first = db.session.scalars(select(Case).order_by(Case.id)).all()
    now = datetime.now(UTC)
    route(straight, now)
    route(merchant_first, now)
    db.session.commit()
    assert straight.state is CaseState.REGULATOR_REVIEW
    assert merchant_first.state is CaseState.MERCHANT_RESPONSE


# --- 12. tourism limits scoped by category and agency -------------------------------------


def test_a_tour_complaint_more_than_90_days_after_the_contract_is_refused(client, seeded):
    outlet = outlet_named(TOUR_DESK)
    form = client.get(f"/s/{token_for(outlet)}/complain?lang=en").get_data(as_text=True)
    assert 'name="contract_ended_on"' in form
    today = local_today()
    late = _post(
        client,
        outlet,
        category="travel_agency",
        contract_ended_on=(today - timedelta(days=120)).isoformat(),
    )
    assert late.status_code == 422
    assert "90 days" in " ".join(error_for(late.get_data(as_text=True), "contract_ended_on"))
    ok = _post(
        client,
        outlet,
        category="travel_agency",
        contract_ended_on=(today - timedelta(days=30)).isoformat(),
    )
    assert ok.status_code == 303


FILED = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday


def _acceptance_due(outlet_name: str) -> date:
    case = file_case(outlet_named(outlet_name), now=FILED)
    case.merchant_first = False
    route(case, FILED)
    db.session.commit()
    return open_deadline_for(case.id).due_at.astimezone(LOCAL_ZONE).date()


def test_tourism_complaints_get_order_32_acceptance_time(seeded):
    assert _acceptance_due(TOUR_DESK) == date(2026, 12, 2)  # 5 working days
    assert _acceptance_due("Taxi Qiong") == date(2026, 12, 4)  # 7 working days


def test_an_agency_scope_changes_only_its_cases(seeded, policies):
    policies({"scopes": [{"agency": "amr-460200", "acceptance_decision": "3 working days"}]})
    assert _acceptance_due("Taxi Qiong") == date(2026, 11, 30)  # Sanya: 3 working days
    assert _acceptance_due("Qilou") == date(2026, 12, 4)  # Haikou: the province's 7
    # The category scope (Order 32) is more specific than the agency's own.
    assert _acceptance_due(TOUR_DESK) == date(2026, 12, 2)
