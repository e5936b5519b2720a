"""Admin and merchant-owner screens: keys shown once and usable, endpoints, log and replay."""

import re

from sqlalchemy import select

from complaints.database import utcnow
from complaints.extensions import db
from complaints.hooks_out.models import DeliveryState, WebhookDelivery
from complaints.periodic import run_periodic
from tests.api.support import auth, routed_case
from tests.app.test_console_support import SANYA_HANDLER, sign_in
from tests.app_fixtures import hidden_fields

OWNER = "owner.ahhai@anxin.demo"
ADMIN = "admin@anxin.demo"


def _csrf(client, path: str) -> str:
    return hidden_fields(client.get(path).get_data(as_text=True))["csrf_token"]


def test_merchant_owner_creates_a_key_shown_once_and_revokes_it(seeded, client):
    sign_in(client, OWNER)
    token = _csrf(client, "/merchant/integrations/")
    created = client.post(
        "/merchant/integrations/keys",
        data={"csrf_token": token, "name": "our POS", "scopes": ["cases:read"]},
    )
    assert created.status_code == 201
    raw = re.search(r"(anx_[0-9a-f]{8}_[\w-]+)", created.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/cases", headers=auth(raw)).status_code == 200
    again = client.get("/merchant/integrations/").get_data(as_text=True)
    assert raw not in again  # shown once
    key_id = re.search(r"/merchant/integrations/keys/(\d+)/revoke", again).group(1)
    client.post(f"/merchant/integrations/keys/{key_id}/revoke", data={"csrf_token": token})
    assert client.get("/api/v1/cases", headers=auth(raw)).status_code == 401


def test_merchant_key_form_offers_only_merchant_scopes(seeded, client):
    sign_in(client, OWNER)
    token = _csrf(client, "/merchant/integrations/")
    refused = client.post(
        "/merchant/integrations/keys",
        data={"csrf_token": token, "name": "x", "scopes": ["compensation:write"]},
    )
    assert refused.status_code == 422


def test_owner_adds_endpoint_sees_log_and_replays(seeded, client, app, tmp_path):
    app.config["CREDIT_EXPORT_DIR"] = str(tmp_path)
    sign_in(client, OWNER)
    token = _csrf(client, "/merchant/integrations/")
    added = client.post(
        "/merchant/integrations/endpoints",
        data={"csrf_token": token, "url": "http://127.0.0.1:9/pos", "event_types": ["case.routed"]},
    )
    assert added.status_code == 201
    assert "whsec_" in added.get_data(as_text=True)
    routed_case()
    run_periodic(utcnow())
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.event.type == "case.routed"
    page = client.get("/merchant/integrations/").get_data(as_text=True)
    assert "case.routed" in page
    replay = client.post(
        f"/merchant/integrations/endpoints/{delivery.endpoint_id}/deliveries/{delivery.id}/replay",
        data={"csrf_token": token},
    )
    assert replay.status_code == 303
    db.session.refresh(delivery)
    assert delivery.state is DeliveryState.PENDING


def test_console_integrations_are_for_admins(seeded, client):
    sign_in(client, SANYA_HANDLER)
    assert client.get("/console/integrations/").status_code == 403


def test_admin_issues_a_partner_key(seeded, client):
    sign_in(client, ADMIN)
    token = _csrf(client, "/console/integrations/")
    created = client.post(
        "/console/integrations/keys",
        data={
            "csrf_token": token,
            "name": "12345",
            "partner": "12345 hotline",
            "scopes": ["open311"],
        },
    )
    assert created.status_code == 201
    assert "12345 hotline" in client.get("/console/integrations/").get_data(as_text=True)
