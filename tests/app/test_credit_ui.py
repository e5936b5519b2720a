"""The credit pages: the merchant's record and repair application (portal), and the
regulator's merchant search, repair decisions and serious list (console), with their scopes."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from complaints.clock import LOCAL_ZONE
from complaints.credit.engine import CreditEventKind
from complaints.credit.models import CreditEvent, CreditRepairApplication, RepairState
from complaints.credit.repair import apply_for_repair
from complaints.credit.services import record_credit_event
from complaints.database import utcnow
from complaints.extensions import db
from tests.app.helpers import outlet_named, token_for
from tests.app.test_console_support import HAIKOU_HANDLER, SANYA_HANDLER, SANYA_SUPERVISOR
from tests.app.test_console_support import sign_in as console_sign_in
from tests.app.test_portal_support import (
    AH_HAI,
    AH_HAI_OWNER,
    JEWELLERY,
    JEWELLERY_OWNER,
    merchant_case,
    sign_in,
)
from tests.app_fixtures import error_for, hidden_fields

K = CreditEventKind


@pytest.fixture
def record(seeded):
    """Ah Hai's record: a missed deadline (minor, repairable at once), a substantiated
    complaint (general, repairable after 90 days) and an expired settlement: 100 - 5 - 8 = 87."""
    now = utcnow()
    case, _key = merchant_case(now - timedelta(days=101))
    enterprise_id = case.enterprise_id

    def add(kind, age):
        return record_credit_event(
            enterprise_id, kind, case_id=case.id, reason="test", now=now, occurred_at=now - age
        )

    settled = add(K.SETTLED_IN_TIME, timedelta(days=100))
    missed = add(K.DEADLINE_MISSED, timedelta(days=2))
    substantiated = add(K.COMPLAINT_SUBSTANTIATED, timedelta(days=1))
    db.session.commit()
    return {
        "enterprise_id": enterprise_id,
        "uscc": case.enterprise.uscc,
        "number": case.number,
        "settled": settled.id,
        "missed": missed.id,
        "substantiated": substantiated.id,
    }


def new_client(client, email, *, console=False):
    other = client.application.test_client()
    (console_sign_in if console else sign_in)(other, email)
    return other


def token(client, path) -> str:
    fields = hidden_fields(client.get(path).get_data(as_text=True))
    return next(v for k, v in fields.items() if k.endswith("csrf_token"))


def apply(client, entry, corrections="Refunded the tourist", commitment="We answer in 24 hours"):
    data = {"csrf_token": token(client, "/merchant/credit"), "entry": str(entry)}
    data.update(corrections=corrections, commitment=commitment)
    return client.post("/merchant/credit/repair?lang=en", data=data)


def decide(client, uscc, path, key, reason):
    data = {f"{key}-csrf_token": token(client, "/console/merchants"), f"{key}-reason": reason}
    return client.post(f"/console/merchants/{uscc}/{path}?lang=en", data=data)


def shown_grade(page: str) -> str:
    return re.search(r'class="grade[^"]*" data-grade="([A-D]?)"', page).group(1)


def events_of(enterprise_id, *kinds):
    query = select(CreditEvent).where(CreditEvent.enterprise_id == enterprise_id)
    if kinds:
        query = query.where(CreditEvent.kind.in_(kinds))
    return list(db.session.scalars(query.order_by(CreditEvent.id)))


def pending_application(record) -> CreditRepairApplication:
    application = apply_for_repair(
        record["enterprise_id"],
        record["missed"],
        corrections="Refunded the tourist",
        commitment="We answer in 24 hours",
        actor="merchant_owner:1",
        now=utcnow(),
    )
    db.session.commit()
    return application


def test_the_merchant_reads_its_record_and_applies_for_repair(client, record):
    sign_in(client, AH_HAI_OWNER)
    page = client.get("/merchant/credit?lang=en").get_data(as_text=True)
    assert "<svg" in page
    # Signed-in pages load the static confirm.js (hardening); the rule is CSP: no inline script.
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S)
    assert all(body.strip() == "" for body in scripts)
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", page))
    assert shown_grade(page) == "B"
    assert 'data-score="87"' in page
    assert "not the regulator's official risk class" in page
    assert "Merchant deadline missed" in page
    assert "Complaint substantiated" in page
    assert record["number"] in page
    assert "no longer counted" in page  # the settlement of 100 days ago has expired
    assert 'data-mark="trusted"' in page
    available = re.search(
        rf'<tr data-entry="{record["substantiated"]}">.*?data-available-from="[^"]+">([^<]+)<',
        page,
        re.S,
    )
    assert available
    assert "Not yet: repair is possible from" in available.group(1)
    assert 'href="/merchant/credit" aria-current="page"' in page

    refused = apply(client, record["missed"], commitment="  ")
    assert refused.status_code == 422
    assert error_for(refused.get_data(as_text=True), "commitment") == [
        "Make a public credit commitment."
    ]
    too_long = apply(client, record["missed"], corrections="x" * 2001)
    assert too_long.status_code == 422
    early = apply(client, record["substantiated"])
    assert early.status_code == 409
    assert "repair is possible from" in early.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CreditRepairApplication.id))) == 0

    sent = apply(client, record["missed"])
    assert sent.status_code == 303
    application = db.session.scalar(select(CreditRepairApplication))
    assert (application.credit_event_id, application.state) == (
        record["missed"],
        RepairState.REQUESTED,
    )
    page = client.get("/merchant/credit?lang=en").get_data(as_text=True)
    assert "Waiting for the regulator" in page
    assert apply(client, record["missed"]).status_code == 409  # one open application per entry


def test_granting_a_repair_is_a_new_event_that_raises_the_score(client, record):
    application = pending_application(record)
    before = events_of(record["enterprise_id"])
    handler = new_client(client, SANYA_HANDLER, console=True)
    path, key = f"repairs/{application.id}/grant", f"repair-{application.id}"
    refused = decide(handler, record["uscc"], path, key, "Looks fine to me")
    assert refused.status_code == 403  # issue 11.10: a handler may not lift a grade
    assert "Only a supervisor or an administrator grants" in refused.get_data(as_text=True)
    regulator = new_client(client, SANYA_SUPERVISOR, console=True)
    found = regulator.get("/console/merchants?q=ah hai&lang=en").get_data(as_text=True)
    assert f'data-uscc="{record["uscc"]}"' in found
    assert 'id="merchants-link"' in found
    page = regulator.get(f"/console/merchants/{record['uscc']}?lang=en").get_data(as_text=True)
    assert f'data-application="{application.id}"' in page
    assert "We answer in 24 hours" in page
    assert "<svg" in page
    assert "not the regulator's official risk class" in page

    path, key = f"repairs/{application.id}/grant", f"repair-{application.id}"
    assert decide(regulator, record["uscc"], path, key, " ").status_code == 422
    assert decide(regulator, record["uscc"], path, key, "Refund receipt seen").status_code == 303

    [grant] = events_of(record["enterprise_id"], K.REPAIR_GRANTED)
    assert (grant.points, grant.neutralises_id) == (5, record["missed"])
    after = events_of(record["enterprise_id"])
    assert [(e.id, e.points, e.reason) for e in after[: len(before)]] == [
        (e.id, e.points, e.reason) for e in before
    ]  # history unchanged: the same earlier events, untouched
    assert len(after) == len(before) + 1
    db.session.refresh(application)
    assert (application.state, application.grant_event_id) == (RepairState.GRANTED, grant.id)

    merchant = new_client(client, AH_HAI_OWNER)
    page = merchant.get("/merchant/credit?lang=en").get_data(as_text=True)
    assert "Credit repair granted" in page
    assert 'data-score="92"' in page
    assert shown_grade(page) == "A"
    assert 'data-state="granted"' in page
    assert "Refund receipt seen" in page


def test_refusing_a_repair_needs_a_reason_and_changes_no_score(client, record):
    application = pending_application(record)
    regulator = new_client(client, SANYA_HANDLER, console=True)
    path, key = f"repairs/{application.id}/refuse", f"repair-{application.id}"
    empty = decide(regulator, record["uscc"], path, key, "")
    assert empty.status_code == 422
    assert error_for(empty.get_data(as_text=True), f"{key}-reason")
    assert decide(regulator, record["uscc"], path, key, "No receipt").status_code == 303
    db.session.refresh(application)
    assert (application.state, application.decision_reason) == (RepairState.REFUSED, "No receipt")
    assert events_of(record["enterprise_id"], K.REPAIR_GRANTED) == []
    # Decided already: a second decision is refused with the service's message, not a 500.
    supervisor = new_client(client, SANYA_SUPERVISOR, console=True)
    again = decide(supervisor, record["uscc"], f"repairs/{application.id}/grant", key, "Oops")
    assert again.status_code == 409
    assert "already been decided" in again.get_data(as_text=True)


def test_the_serious_list_holds_grade_d_and_early_removal_waits_a_year(client, record):
    uscc = record["uscc"]
    handler = new_client(client, SANYA_HANDLER, console=True)
    refused = decide(handler, uscc, "serious", "serious", "Penalty decision 2026-001")
    assert refused.status_code == 403
    assert "Only a supervisor or an administrator" in refused.get_data(as_text=True)
    assert events_of(record["enterprise_id"], K.SERIOUS_LISTED) == []

    supervisor = new_client(client, SANYA_SUPERVISOR, console=True)
    assert decide(supervisor, uscc, "serious", "serious", "").status_code == 422
    done = decide(supervisor, uscc, "serious", "serious", "Penalty decision 2026-001")
    assert done.status_code == 303
    [listing] = events_of(record["enterprise_id"], K.SERIOUS_LISTED)

    scan = client.get(f"/s/{token_for(outlet_named(AH_HAI))}?lang=en").get_data(as_text=True)
    assert shown_grade(scan) == "D"
    assert 'data-mark="serious"' in scan

    early = decide(supervisor, uscc, "serious/remove", "removal", "Fine paid")
    assert early.status_code == 409
    possible = (listing.occurred_at + timedelta(days=365)).astimezone(LOCAL_ZONE).date()
    assert (
        f"Early removal is possible only after one year on the list, from {possible.isoformat()}."
        in early.get_data(as_text=True)
    )
    assert events_of(record["enterprise_id"], K.SERIOUS_LIST_REMOVED) == []
    page = supervisor.get(f"/console/merchants/{uscc}?lang=en").get_data(as_text=True)
    assert "left the list — On the serious illegal and dishonest list" in page  # list history
    assert 'data-mark="not-trusted"' in page
    again = decide(supervisor, uscc, "serious", "serious", "Penalty decision 2026-002")
    assert again.status_code == 409
    assert "already on the serious list" in again.get_data(as_text=True)


def test_another_agency_gets_404_on_every_merchant_route(client, record):
    application = pending_application(record)
    haikou = new_client(client, HAIKOU_HANDLER, console=True)
    uscc = record["uscc"]
    assert haikou.get(f"/console/merchants/{uscc}").status_code == 404
    for path, key in [
        ("serious", "serious"),
        ("serious/remove", "removal"),
        (f"repairs/{application.id}/grant", f"repair-{application.id}"),
        (f"repairs/{application.id}/refuse", f"repair-{application.id}"),
    ]:
        assert decide(haikou, uscc, path, key, "A reason").status_code == 404, path
    found = haikou.get("/console/merchants?q=ah hai&lang=en").get_data(as_text=True)
    assert uscc not in found
    # In scope, but an application of another merchant under this one's code: still a 404.
    sanya = new_client(client, SANYA_HANDLER, console=True)
    assert f'data-uscc="{uscc}"' in sanya.get(f"/console/merchants?q={uscc[:10]}").get_data(
        as_text=True
    )
    jewellery = outlet_named(JEWELLERY).enterprise.uscc
    key = f"repair-{application.id}"
    assert decide(sanya, jewellery, f"repairs/{application.id}/grant", key, "x").status_code == 404
    assert sanya.get("/console/merchants/914600000000000000").status_code == 404
    db.session.refresh(application)
    assert application.state is RepairState.REQUESTED
    assert events_of(record["enterprise_id"], K.SERIOUS_LISTED) == []


def test_another_merchant_sees_only_its_own_record(client, record):
    sign_in(client, JEWELLERY_OWNER)
    page = client.get("/merchant/credit?lang=en").get_data(as_text=True)
    assert record["number"] not in page
    assert "Merchant deadline missed" not in page
    assert "Not graded yet" in page
    refused = apply(client, record["missed"])
    assert refused.status_code == 409
    assert "No such entry in this merchant&#39;s credit record." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CreditRepairApplication.id))) == 0
