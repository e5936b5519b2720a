"""API keys and the cases resource: permissions from the pages' lookups, same workflow."""

import json

from sqlalchemy import select

from complaints.apikeys.models import ApiKey
from complaints.cases.models import CaseEvent
from complaints.database import utcnow
from complaints.extensions import db
from tests.api.support import HAIKOU, SANYA, ahhai_uscc, auth, key_for, routed_case


def test_cli_prints_the_key_alone_on_its_last_line(seeded, runner):
    result = runner.invoke(
        args=["apikeys", "create", "--name", "12345 hotline", "--agency-slug", SANYA,
              "--scope", "cases:read", "--scope", "cases:write"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip().splitlines()[-1]
    assert raw.startswith("anx_")
    assert " " not in raw
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == raw[:12]))
    assert key.key_hash != raw
    assert raw not in key.key_hash
    assert key.scope_set == {"cases:read", "cases:write"}


def test_no_key_bad_key_revoked_key_are_401_problems(seeded, client):
    raw = key_for(agency=SANYA)
    assert client.get("/api/v1/cases").status_code == 401
    bad = client.get("/api/v1/cases", headers=auth("anx_nothing_here"))
    assert bad.status_code == 401
    assert bad.content_type == "application/problem+json"
    assert bad.get_json()["status"] == 401
    assert client.get("/api/v1/cases", headers=auth(raw)).status_code == 200
    key = db.session.scalar(select(ApiKey))
    assert key.last_used_at is not None
    key.revoked_at = utcnow()
    db.session.commit()
    assert client.get("/api/v1/cases", headers=auth(raw)).status_code == 401


def test_regulator_reads_its_queue_and_case_with_etag(seeded, client):
    case = routed_case()
    raw = key_for(agency=SANYA)
    listing = client.get("/api/v1/cases", headers=auth(raw))
    assert listing.status_code == 200
    assert [c["number"] for c in listing.get_json()["data"]] == [case.number]
    assert listing.headers["RateLimit-Limit"] == "600"
    one = client.get(f"/api/v1/cases/{case.number}", headers=auth(raw))
    body = one.get_json()
    assert body["tourist"]["phone"] == "+8613812345678"
    assert [e["trigger"] for e in body["timeline"]] == ["submit", "route_to_merchant"]
    again = client.get(
        f"/api/v1/cases/{case.number}", headers=auth(raw, **{"If-None-Match": one.headers["ETag"]})
    )
    assert again.status_code == 304


def test_other_agency_and_other_merchant_get_404(seeded, client):
    case = routed_case()
    haikou = key_for(agency=HAIKOU)
    assert client.get(f"/api/v1/cases/{case.number}", headers=auth(haikou)).status_code == 404
    assert client.get("/api/v1/cases", headers=auth(haikou)).get_json()["data"] == []


def test_merchant_offer_goes_through_the_portal_service_with_idempotency(seeded, client):
    case = routed_case()
    raw = key_for(uscc=ahhai_uscc(), scopes=("cases:read", "cases:write"))
    seen = client.get(f"/api/v1/cases/{case.number}", headers=auth(raw)).get_json()
    assert seen["tourist"]["phone"] != "+8613812345678"  # masked for merchants
    assert "merchant_offer" in seen["available_triggers"]
    payload = {"trigger": "merchant_offer", "amount_fen": 50000, "terms": "half back"}
    headers = auth(raw, **{"Idempotency-Key": "offer-1"})
    first = client.post(f"/api/v1/cases/{case.number}/transitions", json=payload, headers=headers)
    assert first.status_code == 201, first.get_json()
    replay = client.post(f"/api/v1/cases/{case.number}/transitions", json=payload, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()
    offers = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.trigger == "merchant_offer")
    ).all()
    assert len(offers) == 1
    changed = dict(payload, amount_fen=60000)
    reused = client.post(f"/api/v1/cases/{case.number}/transitions", json=changed, headers=headers)
    assert reused.status_code == 422
    assert reused.get_json()["errors"][0]["field"] == "Idempotency-Key"


def test_bad_input_is_a_problem_naming_the_field(seeded, client):
    case = routed_case()
    raw = key_for(agency=SANYA)
    response = client.post(
        f"/api/v1/cases/{case.number}/transitions",
        json={"trigger": "accept", "amount_fen": "lots"},
        headers=auth(raw),
    )
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert [e["field"] for e in response.get_json()["errors"]] == ["amount_fen"]


def test_regulator_transition_refused_by_the_table_is_409(seeded, client):
    case = routed_case()  # with the merchant: the regulator cannot decline yet
    raw = key_for(agency=SANYA)
    response = client.post(
        f"/api/v1/cases/{case.number}/transitions",
        json={"trigger": "decline", "ground": "outside_remit", "reason": "x"},
        headers=auth(raw),
    )
    assert response.status_code == 409, response.get_json()
    assert response.content_type == "application/problem+json"


def test_scope_is_enforced(seeded, client):
    case = routed_case()
    raw = key_for(agency=SANYA, scopes=("cases:read",))
    response = client.post(
        f"/api/v1/cases/{case.number}/messages", json={"body": "hello"}, headers=auth(raw)
    )
    assert response.status_code == 403


def test_rate_limit_answers_429_with_retry_after(seeded, client):
    raw = key_for(agency=SANYA)
    key = db.session.scalar(select(ApiKey))
    key.rate_limit_per_minute = 2
    db.session.commit()
    codes = [client.get("/api/v1/statistics", headers=auth(raw)).status_code for _ in range(3)]
    assert codes[:2] == [200, 200]
    last = client.get("/api/v1/statistics", headers=auth(raw))
    assert last.status_code == 429
    assert int(last.headers["Retry-After"]) >= 1
    assert last.headers["RateLimit-Remaining"] == "0"


def test_openapi_and_docs_are_served_locally(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    doc = json.loads(spec.get_data(as_text=True))
    assert "/api/v1/cases/{number}/transitions" in doc["paths"]
    docs = client.get("/api/v1/docs")
    html = docs.get_data(as_text=True)
    assert docs.status_code == 200
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert "//cdn" not in html
    assert "unpkg" not in html
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()
