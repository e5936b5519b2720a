"""Enumeration: on every route of the OpenAPI document, a key of one tenant neither reads nor
acts on another tenant's case, claim, file, endpoint or delivery (404/403, never 2xx), and
lists never show them."""

import json
import re

import pytest
from sqlalchemy import select

from complaints.agencies.models import Agency
from complaints.cases.models import Evidence, EvidenceKind
from complaints.cases.workflow import Actor
from complaints.compensation.services import request_claim
from complaints.database import utcnow
from complaints.extensions import db
from complaints.hooks_out import services as hooks
from complaints.hooks_out.models import WebhookDelivery
from complaints.merchants.models import Enterprise
from complaints.periodic import run_periodic
from tests.api.support import HAIKOU, SANYA, ahhai, auth, key_for, routed_case
from workflows.states import Role

EVERY_SCOPE = ("cases:read", "cases:write", "credit:read", "webhooks", "compensation:write")


@pytest.fixture
def victim(seeded, app, tmp_path):
    """Sanya's and Ah Hai's things, with ids to aim at."""
    app.config["CREDIT_EXPORT_DIR"] = str(tmp_path)
    case = routed_case()
    agency = db.session.scalar(select(Agency).where(Agency.slug == SANYA))
    endpoint = hooks.create_endpoint(
        url="http://127.0.0.1:9/never", event_types=["*"], agency_id=agency.id
    )
    evidence = Evidence(
        case_id=case.id, kind=EvidenceKind.PHOTO, stored_name="victim.jpg",
        content_type="image/jpeg", size_bytes=1, sha256="0" * 64,
    )  # fmt: skip
    db.session.add(evidence)
    claim = request_claim(case, 10000, Actor(Role.TOURIST), now=utcnow())
    db.session.commit()
    run_periodic(utcnow())  # fan out: deliveries exist
    delivery = db.session.scalar(select(WebhookDelivery).limit(1))
    return {
        "number": case.number,
        "claim_id": claim.id,
        "evidence_id": evidence.id,
        "endpoint_id": endpoint.id,
        "delivery_id": delivery.id,
        "uscc": db.session.get(Enterprise, case.enterprise_id).uscc,
        "code": ahhai().code,
    }


def _other_merchant_uscc() -> str:
    return db.session.scalar(
        select(Enterprise.uscc).where(Enterprise.id != ahhai().enterprise_id).limit(1)
    )


def _operations(client):
    spec = json.loads(client.get("/api/v1/openapi.json").get_data())
    for path, item in spec["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path


BODIES = {
    "transitions": {"trigger": "merchant_offer", "amount_fen": 100, "terms": "x"},
    "messages": {"body": "hello"},
    "decision": {"decision": "approve", "reason": "ok"},
    "webhook-endpoints": {"url": "http://127.0.0.1:9/x", "event_types": ["*"]},
}


@pytest.mark.parametrize("who", ["other agency", "other merchant", "partner"])
def test_no_key_reaches_another_tenants_things(client, victim, who):
    if who == "other agency":
        raw = key_for(agency=HAIKOU, scopes=EVERY_SCOPE, role="fund_manager")
    elif who == "other merchant":
        uscc = _other_merchant_uscc()
        from complaints.accounts.models import AccountRole
        from complaints.accounts.services import create_account

        create_account(
            email="owner@other.test", name="Other owner", role=AccountRole.MERCHANT_OWNER,
            password="a-long-enough-password", uscc=uscc,
        )  # fmt: skip
        raw = key_for(uscc=uscc, scopes=("cases:read", "cases:write", "credit:read", "webhooks"))
    else:
        raw = key_for(partner="city app", scopes=("open311", "credit:read", "webhooks"))
    checked = 0
    for method, path in _operations(client):
        params = re.findall(r"{(\w+)}", path)
        public_registry = set(params) <= {"uscc", "code"} and who != "other merchant"
        if not params or public_registry:
            if method == "get":
                body = client.get(path, headers=auth(raw)).get_data(as_text=True)
                assert victim["number"] not in body, (who, path)
            continue
        url = path
        for name in params:
            url = url.replace("{" + name + "}", str(victim[name]))
        last_segment = path.rstrip("/").split("/")[-1]
        payload = BODIES.get(last_segment, {}) if method == "post" else None
        response = client.open(url, method=method.upper(), json=payload, headers=auth(raw))
        assert response.status_code in (403, 404), (who, method, url, response.status_code)
        checked += 1
    assert checked >= 10
