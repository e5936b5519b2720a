"""One agency's regulator can neither see nor act on another agency's cases: every route.

Another agency's case answers exactly like a case that does not exist (404), so a guessed
case number reveals nothing.
"""

import re

import pytest
from sqlalchemy import func, select

from complaints.accounts.models import Account, AccountRole
from complaints.accounts.services import create_account
from complaints.cases.models import CaseEvent
from complaints.console.forms import CONSOLE_TRIGGERS
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Enterprise
from tests.app.test_console_support import (
    HAIKOU_HANDLER,
    SANYA_HANDLER,
    TAXI,
    attach_photo,
    file_case,
    reload,
    sign_in,
)
from tests.app_fixtures import hidden_fields

# Every action route the console serves (other triggers of the table are 404 for everyone).
TRIGGERS = sorted(CONSOLE_TRIGGERS)
GET_ROUTES = ["/console/cases/{number}", "/console/evidence/{evidence}"]
ROUTES = [("GET", r) for r in GET_ROUTES] + [
    ("POST", f"/console/cases/{{number}}/actions/{t}") for t in TRIGGERS
]


@pytest.fixture
def sanya_case(app, seeded):
    case = file_case(TAXI, utcnow())
    evidence = attach_photo(app, case)
    return {"case": case, "number": case.number, "evidence": evidence.id}


def _request(client, method, route, target, token):
    url = route.format(**target)
    if method == "GET":
        response = client.get(url)
        response.get_data()
        response.close()  # a served file stays open until the response is closed
        return response
    trigger = url.rsplit("/", 1)[-1]
    data = {
        f"{trigger}-csrf_token": token,
        f"{trigger}-reason": "Trying it on",
        f"{trigger}-ground": "materials_missing",
        f"{trigger}-amount": "1.00",
        f"{trigger}-terms": "x",
        f"{trigger}-agency": "1",
        f"{trigger}-handler": "1",
    }
    return client.post(url, data=data)


def _main(response) -> str:
    return re.search(r"<main.*</main>", response.get_data(as_text=True), re.S).group(0)


def _token(client) -> str:
    return hidden_fields(client.get("/console/").get_data(as_text=True))["csrf_token"]


@pytest.mark.parametrize(("method", "route"), ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_haikou_gets_404_on_every_route_of_a_sanya_case(client, sanya_case, method, route):
    sign_in(client, HAIKOU_HANDLER)
    token = _token(client)
    foreign = _request(client, method, route, sanya_case, token)
    missing = _request(
        client, method, route, {"number": "HN-460200-20260101-999999", "evidence": 999999}, token
    )
    assert foreign.status_code == missing.status_code == 404
    # Indistinguishable from "no such case" (the page differs only where it echoes the URL).
    assert _main(foreign) == _main(missing)
    case = reload(sanya_case["case"])
    assert case.agency.slug == "amr-460200"
    assert (
        db.session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)) == 2
    )


OWNER_ROUTES = [*ROUTES[:2], ("POST", "/console/cases/{number}/actions/accept")]


def test_the_owning_agency_reaches_the_same_routes(client, sanya_case):
    sign_in(client, SANYA_HANDLER)
    for method, route in OWNER_ROUTES:
        response = _request(client, method, route, sanya_case, _token(client))
        assert response.status_code == (303 if method == "POST" else 200), route


def test_signed_out_visitors_are_sent_to_sign_in(client, sanya_case):
    for method, route in [("GET", "/console/"), *OWNER_ROUTES]:
        response = _request(client, method, route, sanya_case, "no-token")
        if method == "POST":
            assert response.status_code == 400  # CSRF refuses before the login check
        else:
            assert response.status_code == 302, route
            assert "/login?next=" in response.headers["Location"]
    assert reload(sanya_case["case"]).state.value == "regulator_review"


def test_merchant_staff_cannot_open_the_console(client, sanya_case):
    taxi = db.session.scalar(select(Enterprise).where(Enterprise.name_en.contains("Taxi")))
    create_account(
        email="owner@taxi.example",
        name="Taxi owner",
        role=AccountRole.MERCHANT_OWNER,
        password="a long enough password",
        uscc=taxi.uscc,
    )
    db.session.commit()
    sign_in_as = db.session.scalar(select(Account).where(Account.email == "owner@taxi.example"))
    assert sign_in_as.enterprise_id == taxi.id
    page = client.get("/login")
    data = hidden_fields(page.get_data(as_text=True))
    data.update(email="owner@taxi.example", password="a long enough password")
    assert client.post("/login", data=data).status_code == 303
    assert client.get("/console/").status_code == 403
    assert client.get(f"/console/cases/{sanya_case['number']}").status_code == 403
