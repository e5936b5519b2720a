"""Issue 11.1 and 17.4: filing, sign-in and phone codes work with Redis down, and the filing
limit counts only complaints filed, never losing what the tourist typed."""

import pytest
from sqlalchemy import func, select

from complaints.cases.models import Case
from complaints.config import REDIS_CACHE_OPTIONS
from complaints.extensions import db
from tests.app.helpers import complaint_form_data, outlet_named, token_for
from tests.app_fixtures import hidden_fields
from tests.hardening.support import dead_redis_url, variant_app


@pytest.fixture
def redis_down_app(app, tmp_path):
    url = dead_redis_url()
    with variant_app(
        app,
        tmp_path,
        REDIS_URL=url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=url,
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=url,
        CACHE_OPTIONS=REDIS_CACHE_OPTIONS,
        SCAN_CACHE_SECONDS=15,
    ) as other:
        yield other


def test_filing_signing_in_and_codes_work_with_redis_down(seeded, redis_down_app):
    client = redis_down_app.test_client()
    with redis_down_app.app_context():
        token = token_for(outlet_named("Ah Hai"))
    assert client.get(f"/s/{token}").status_code == 200  # the scan cache is skipped
    data = complaint_form_data(client, token)
    filed = client.post(f"/s/{token}/complain", data=data)
    assert filed.status_code == 303, filed.get_data(as_text=True)[:500]
    assert db.session.scalar(select(func.count(Case.id))) == 1
    tracking = filed.headers["Location"].split("?")[0]
    assert client.get(tracking).status_code == 200
    csrf = hidden_fields(client.get(tracking).get_data(as_text=True))["csrf_token"]
    new_code = client.post(f"{tracking}/verify/new-code", data={"csrf_token": csrf})
    assert new_code.status_code == 303
    login = client.post(
        "/login",
        data={
            **hidden_fields(client.get("/login").get_data(as_text=True)),
            "email": "handler.sanya@anxin.demo",
            "password": "anxin-demo-2026",
        },
    )
    assert login.status_code == 303


def test_the_500_page_never_claims_nothing_was_lost(app, tmp_path):
    from flask import abort

    with variant_app(app, tmp_path) as other:

        @other.get("/_test/boom")
        def boom():
            abort(500)

        page = other.test_client().get("/_test/boom?lang=en").get_data(as_text=True)
    assert "may not have been saved" in page
    assert "lost" not in page


@pytest.fixture
def limited_app(app, tmp_path):
    with variant_app(
        app,
        tmp_path,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        COMPLAINT_RATE_LIMIT="2 per hour",
    ) as other:
        yield other


def test_only_filed_complaints_count_and_the_form_survives_the_limit(seeded, limited_app):
    client = limited_app.test_client()
    with limited_app.app_context():
        outlet = outlet_named("Ah Hai")
        token, uscc = token_for(outlet), outlet.enterprise.uscc
    ip = {"REMOTE_ADDR": "203.0.113.50"}
    # Language switches and forms sent back with errors cost nothing.
    for _ in range(3):
        data = complaint_form_data(client, token, switch_lang="en")
        assert client.post(f"/s/{token}/complain", data=data, environ_base=ip).status_code == 200
        bad = complaint_form_data(client, token, description="short")
        assert client.post(f"/s/{token}/complain", data=bad, environ_base=ip).status_code == 422
    # One limit across both filing endpoints.
    first = complaint_form_data(client, token)
    assert client.post(f"/s/{token}/complain", data=first, environ_base=ip).status_code == 303
    second = complaint_form_data(client, token)
    second.pop("outlet_code")
    response = client.post(f"/m/{uscc}/complain", data=second, environ_base=ip)
    assert response.status_code == 303
    # At the limit: the form comes back, as typed, translated, saying when to retry.
    third = complaint_form_data(client, token, description="The third complaint, typed in full.")
    response = client.post(f"/s/{token}/complain", data=third, environ_base=ip)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "The third complaint, typed in full." in page
    assert 'value="Alice Tourist"' in page
    assert "submit it again after" in page
    assert "Beijing time" in page
    assert "Too Many Requests" not in page
    assert db.session.scalar(select(func.count(Case.id))) == 2
    # Another client is not held back.
    other = complaint_form_data(client, token)
    other_ip = {"REMOTE_ADDR": "198.51.100.60"}
    assert client.post(f"/s/{token}/complain", data=other, environ_base=other_ip).status_code == 303
