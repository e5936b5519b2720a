"""One merchant can neither see nor act on another merchant's cases, files or outlets.

Every /merchant route is tried by the Yalong Bay Jewellery owner with Ah Hai's ids: each
answers exactly like an id that does not exist (404), and nothing changes.
"""

import re

import pytest
from sqlalchemy import func, select

from complaints.accounts.models import Account, AccountRole
from complaints.cases.models import CaseEvent
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Outlet
from complaints.portal.models import CaseMessage, DisputeEvidence
from tests.app.helpers import outlet_named
from tests.app.test_console_support import attach_photo
from tests.app.test_portal_support import (
    AH_HAI,
    AH_HAI_OWNER,
    JEWELLERY,
    JEWELLERY_OWNER,
    csrf,
    merchant_case,
    photo,
    sign_in,
    stage,
)

CASE = "/merchant/cases/{number}"
ROUTES = [
    ("GET", CASE),
    ("POST", CASE + "/actions/merchant_refund"),
    ("POST", CASE + "/actions/merchant_offer"),
    ("POST", CASE + "/actions/merchant_dispute"),
    ("POST", CASE + "/actions/no_such_action"),
    ("POST", CASE + "/evidence"),
    ("POST", CASE + "/messages"),
    ("GET", CASE + "/evidence/{item}"),
    ("POST", CASE + "/evidence/{item}/remove"),
    ("GET", CASE + "/tourist-evidence/{evidence}"),
    # The attacker's own case with the other merchant's file ids.
    ("GET", "/merchant/cases/{own}/evidence/{item}"),
    ("POST", "/merchant/cases/{own}/evidence/{item}/remove"),
    ("GET", "/merchant/cases/{own}/tourist-evidence/{evidence}"),
    ("POST", "/merchant/outlets/{code}/rotate"),
]
MISSING = {"number": "HN-460200-20260101-999999", "item": 999999, "evidence": 999999}


@pytest.fixture
def targets(app, client, seeded):
    """Ah Hai's case with a tourist photo and a staged dispute file; a Jewellery case."""
    now = utcnow()
    case, _key = merchant_case(now)
    tourist_photo = attach_photo(app, case)
    sign_in(client, AH_HAI_OWNER)
    assert stage(client, case.number).status_code == 303
    item = db.session.scalar(select(DisputeEvidence.id).where(DisputeEvidence.case_id == case.id))
    own, _ = merchant_case(now, JEWELLERY)
    client.post("/logout", data={"csrf_token": csrf(client)})
    sign_in(client, JEWELLERY_OWNER)
    return {
        "case": case,
        "number": case.number,
        "own": own.number,
        "item": item,
        "evidence": tourist_photo.id,
        "code": outlet_named(AH_HAI).code,
    }


def _request(client, method, route, target, token):
    url = route.format(**target)
    if method == "GET":
        response = client.get(url)
        response.get_data()
        response.close()  # a served file stays open until the response is closed
        return response
    trigger = url.rsplit("/", 1)[-1]
    data = {
        "csrf_token": token,
        f"{trigger}-csrf_token": token,
        f"{trigger}-amount": "1.00",
        f"{trigger}-terms": "x",
        f"{trigger}-reason": "Trying it on",
        "reason": "Trying it on",
        f"rotate-{target.get('code')}-reason": "Trying it on",
        f"rotate-{target.get('code')}-csrf_token": token,
        "body": "hello",
        "kind": "receipt",
        "file": (photo(), "x.jpg"),
    }
    return client.post(url, data=data, content_type="multipart/form-data")


def _without(response, route, target) -> bytes:
    # The page's own address differs, and so does the CSRF token when the two requests fall
    # in different seconds (it is signed with a timestamp): neither tells a tenant anything.
    body = response.get_data().replace(route.format(**target).encode(), b"")
    return re.sub(rb'name="csrf_token" value="[^"]*"', b'name="csrf_token"', body)


@pytest.mark.parametrize(("method", "route"), ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_another_merchant_gets_404_on_every_route(client, targets, method, route):
    token = csrf(client)
    foreign = _request(client, method, route, targets, token)
    missing_target = {**targets, **MISSING}
    if "{own}" not in route:
        missing_target["code"] = "ZZZZZZZZ"
    missing = _request(client, method, route, missing_target, token)
    assert foreign.status_code == missing.status_code == 404
    # Indistinguishable from "no such thing" (but for the page's own address in its links).
    assert _without(foreign, route, targets) == _without(missing, route, missing_target)
    case = targets["case"]
    db.session.expire_all()
    events = select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)
    assert db.session.scalar(events) == 2  # submitted, routed: nothing more
    assert db.session.get(DisputeEvidence, targets["item"]).submitted_at is None
    assert db.session.scalar(select(func.count(CaseMessage.id))) == 0
    outlet = db.session.scalar(select(Outlet).where(Outlet.code == targets["code"]))
    assert outlet.qr_key_version == 1


def test_the_dashboard_lists_only_the_own_enterprise_cases(client, targets):
    page = client.get("/merchant/?lang=en").get_data(as_text=True)
    assert targets["own"] in page
    assert targets["number"] not in page


def test_the_outlet_page_lists_only_the_own_outlets(client, targets):
    page = client.get("/merchant/outlets?lang=en").get_data(as_text=True)
    assert outlet_named(JEWELLERY).code in page
    assert targets["code"] not in page


def test_a_case_not_yet_routed_is_hidden_from_its_own_merchant(client, seeded):
    from tests.app.helpers import file_case

    unrouted = file_case(outlet_named(AH_HAI), now=utcnow())  # phone not yet verified
    sign_in(client, AH_HAI_OWNER)
    assert client.get(f"/merchant/cases/{unrouted.number}").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, seeded):
    response = client.get("/merchant/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_regulator_staff_are_refused(client, seeded):
    sign_in(client, "handler.sanya@anxin.demo")
    assert client.get("/merchant/").status_code == 403
    assert client.get("/merchant/outlets").status_code == 403


def test_only_the_owner_may_open_the_staff_page_or_invite(client, seeded):
    owner = db.session.scalar(select(Account).where(Account.email == AH_HAI_OWNER))
    colleague = Account(
        email="staff.ahhai@anxin.demo",
        name="Staff",
        role=AccountRole.MERCHANT_STAFF,
        enterprise_id=owner.enterprise_id,
        password_hash=owner.password_hash,  # the demo password
    )
    db.session.add(colleague)
    db.session.commit()
    sign_in(client, "staff.ahhai@anxin.demo")
    assert client.get("/merchant/").status_code == 200
    assert client.get("/merchant/staff").status_code == 403
    data = {"csrf_token": csrf(client), "email": "x@example.com", "name": "X"}
    assert client.post("/merchant/staff", data=data).status_code == 403
    assert db.session.scalar(select(Account).where(Account.email == "x@example.com")) is None
