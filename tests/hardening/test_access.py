"""Issue 11.9 (code images only for the merchant's staff and regulators) and 11.10 (credit
repair only by a supervisor or admin, a second person for serious events)."""

import pytest

from tests.app.helpers import outlet_named
from tests.app.test_console_support import sign_in
from tests.app.test_portal_support import sign_in as portal_sign_in

CODE_PATHS = ("qr.png", "qr.svg", "qr-print.png?mm=40", "poster?size=a6")


@pytest.mark.parametrize("path", CODE_PATHS)
def test_code_images_need_the_merchants_staff_or_a_regulator(app, client, seeded, path):
    code = outlet_named("Ah Hai").code
    url = f"/outlets/{code}/{path}"
    anonymous = app.test_client()
    response = anonymous.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    for email, status in (
        ("owner.jewellery@anxin.demo", 404),  # another merchant: as if it did not exist
        ("owner.ahhai@anxin.demo", 200),
        ("handler.haikou@anxin.demo", 200),
    ):
        client = app.test_client()
        sign_in(client, email)
        assert client.get(url).status_code == status, (email, url)


def test_a_serious_entry_is_repaired_only_by_two_people(app, seeded, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from complaints.credit.engine import CreditEventKind
    from complaints.credit.models import RepairState
    from complaints.credit.repair import apply_for_repair, grant_repair
    from complaints.credit.services import CreditRuleError, record_credit_event
    from complaints.extensions import db

    # By default a serious entry expires when its minimum period ends; a deployment counting it
    # two years makes it repairable after one.
    policy = {"rules": {"recovery_overdue": {"expiry_days": 730}}}
    monkeypatch.setitem(app.config, "CREDIT_POLICY", policy)
    monkeypatch.delitem(app.extensions, "anxin_credit_policy", raising=False)
    t0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    enterprise_id = outlet_named("Ah Hai").enterprise_id
    overdue = record_credit_event(
        enterprise_id, CreditEventKind.RECOVERY_OVERDUE, reason="test", now=t0, dedupe_key="o"
    )
    later = t0 + timedelta(days=366)
    application = apply_for_repair(
        enterprise_id,
        overdue.id,
        corrections="Repaid",
        commitment="Never again",
        actor="m:1",
        now=later,
    )
    assert grant_repair(application.id, actor="supervisor:2", reason="Paid", now=later) is None
    assert application.state is RepairState.REQUESTED
    assert application.first_approved_by == "supervisor:2"
    with pytest.raises(CreditRuleError, match="second person"):
        grant_repair(application.id, actor="supervisor:2", reason="Again", now=later)
    event = grant_repair(application.id, actor="admin:5", reason="Confirmed", now=later)
    assert event.neutralises_id == overdue.id
    assert application.state is RepairState.GRANTED
    db.session.commit()
    app.extensions.pop("anxin_credit_policy", None)  # the next test gets the defaults again


def test_the_owner_removes_a_colleague_whose_sessions_end_at_once(app, client, seeded, capsys):
    import re

    from tests.app_fixtures import hidden_fields

    owner = app.test_client()
    sign_in(owner, "owner.ahhai@anxin.demo")
    token = hidden_fields(owner.get("/merchant/staff").text)["csrf_token"]
    owner.post(
        "/merchant/staff", data={"csrf_token": token, "email": "cook@example.com", "name": "Wu"}
    )
    link = re.search(r"http://anxin\.test(/merchant/invite/\S+)", capsys.readouterr().out).group(1)
    cook = app.test_client()
    form = hidden_fields(cook.get(link).text)
    password = "a-long-kitchen-password"
    cook.post(link, data={**form, "password": password, "confirm": password})
    portal_sign_in(cook, "cook@example.com", password)
    assert cook.get("/merchant/").status_code == 200
    page = owner.get("/merchant/staff?lang=en").text
    remove = re.search(r'action="(/merchant/staff/\d+/remove)"', page).group(1)
    stranger = app.test_client()
    sign_in(stranger, "owner.jewellery@anxin.demo")
    other_token = hidden_fields(stranger.get("/merchant/staff").text)["csrf_token"]
    assert stranger.post(remove, data={"csrf_token": other_token}).status_code == 303
    assert cook.get("/merchant/").status_code == 200  # another merchant cannot remove them
    assert owner.post(remove, data={"csrf_token": token}).status_code == 303
    assert cook.get("/merchant/").status_code == 302  # signed out at once
    assert "disabled" in owner.get("/merchant/staff?lang=en").text


def test_the_merchant_sees_the_tourists_name_only_with_consent(client, seeded):
    from complaints.database import utcnow
    from complaints.extensions import db
    from tests.app.test_portal_support import merchant_case

    case, _key = merchant_case(utcnow(), phone="+8613812345678")
    portal_sign_in(client, "owner.ahhai@anxin.demo")
    page = client.get(f"/merchant/cases/{case.number}?lang=en").text
    assert case.tourist_name not in page
    assert 'id="tourist-name">Withheld by the tourist' in page
    case.contact_consent = True
    db.session.commit()
    page = client.get(f"/merchant/cases/{case.number}?lang=en").text
    assert f'id="tourist-name">{case.tourist_name}' in page
