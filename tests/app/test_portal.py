"""The merchant stage end to end: refund, offer and the tourist's answer, the deadline,
and what each side sees on its timeline and in the audit chain."""

import re
from datetime import timedelta

from sqlalchemy import select

from complaints.cases.models import CaseEvent
from complaints.database import utcnow
from complaints.extensions import db
from complaints.portal.models import Offer, OfferStatus
from complaints.timers.tick import run_tick
from tests.app.test_portal_support import (
    AH_HAI_OWNER,
    act,
    merchant_case,
    reload,
    sign_in,
    tourist_post,
    tracking_page,
)
from workflows.states import CaseState


def _triggers(case) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(CaseEvent.trigger).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
    )


def _offer_id(page: str) -> str:
    return re.search(r'name="offer_id" value="(\d+)"', page).group(1)


def test_offer_then_the_tourist_accepts_on_the_tracking_page(app, client, seeded, runner):
    case, key = merchant_case(utcnow())
    sign_in(client, AH_HAI_OWNER)
    response = act(client, case.number, "merchant_offer", amount="300.00", terms="Free dinner")
    assert response.status_code == 303
    tourist = app.test_client()
    page = tracking_page(tourist, key)
    assert 'id="offer-amount">¥300.00' in page
    assert "Free dinner" in page

    response = tourist_post(tourist, key, "offer/accept", offer_id=_offer_id(page))
    assert response.status_code == 303
    case = reload(case)
    assert case.state is CaseState.RESOLVED
    assert _triggers(case) == [
        "submit",
        "route_to_merchant",
        "merchant_offer",
        "tourist_accept_offer",
    ]
    offer = db.session.scalar(select(Offer).where(Offer.case_id == case.id))
    assert (offer.status, offer.amount_fen, offer.terms) == (
        OfferStatus.ACCEPTED,
        30000,
        "Free dinner",
    )

    tourist_side = tracking_page(tourist, key)
    assert "Offer: ¥300.00 — Free dinner" in tourist_side  # the tourist's timeline
    assert "Accepted Offer: ¥300.00" in tourist_side
    merchant_side = client.get(f"/merchant/cases/{case.number}?lang=en").get_data(as_text=True)
    assert "Merchant made an offer" in merchant_side
    assert "Tourist accepted the offer" in merchant_side
    assert "Merchant · Chen Hai" in merchant_side  # who on the merchant's staff made it
    assert 'id="offer-status">Accepted' in merchant_side
    dashboard = client.get("/merchant/?lang=en").get_data(as_text=True)
    assert 'data-outcome="tourist_accept_offer">1<' in dashboard
    assert 'id="settled-total">¥300.00' in dashboard

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.output


def test_the_tourist_rejects_and_the_regulator_takes_over(app, client, seeded):
    case, key = merchant_case(utcnow())
    sign_in(client, AH_HAI_OWNER)
    act(client, case.number, "merchant_offer", amount="50.00")
    tourist = app.test_client()
    offer_id = _offer_id(tracking_page(tourist, key))
    response = tourist_post(tourist, key, "offer/reject", offer_id=offer_id, note="Far too little")
    assert response.status_code == 303
    case = reload(case)
    assert case.state is CaseState.REGULATOR_REVIEW
    event = db.session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    )
    assert event.trigger == "tourist_reject_offer"
    assert "Far too little" in event.reason
    assert db.session.get(Offer, int(offer_id)).status is OfferStatus.REJECTED
    page = client.get(f"/merchant/cases/{case.number}?lang=en").get_data(as_text=True)
    assert 'id="no-actions"' in page  # the merchant's turn is over


def test_a_new_offer_replaces_the_old_one_and_the_old_one_cannot_be_accepted(app, client, seeded):
    case, key = merchant_case(utcnow())
    sign_in(client, AH_HAI_OWNER)
    act(client, case.number, "merchant_offer", amount="50.00")
    tourist = app.test_client()
    first = _offer_id(tracking_page(tourist, key))
    act(client, case.number, "merchant_offer", amount="200.00")
    response = tourist_post(tourist, key, "offer/accept", offer_id=first)
    assert response.status_code == 303
    assert "The merchant changed the offer" in tracking_page(tourist, key)
    assert reload(case).state is CaseState.MERCHANT_RESPONSE
    assert db.session.get(Offer, int(first)).status is OfferStatus.SUPERSEDED


def test_an_offer_needs_an_amount_or_terms(client, seeded):
    case, _key = merchant_case(utcnow())
    sign_in(client, AH_HAI_OWNER)
    response = act(client, case.number, "merchant_offer", amount="", terms="  ")
    assert response.status_code == 422
    assert "Offer an amount, terms, or both." in response.get_data(as_text=True)
    assert reload(case).offer_pending is False


def test_a_refund_up_to_the_claim_resolves_the_case(client, seeded):
    case, key = merchant_case(utcnow())  # ¥792.00 asked for
    sign_in(client, AH_HAI_OWNER)
    too_much = act(client, case.number, "merchant_refund", amount="792.01")
    assert too_much.status_code == 422
    assert "at most ¥792.00" in too_much.get_data(as_text=True)
    assert act(client, case.number, "merchant_refund", amount="792.00").status_code == 303
    case = reload(case)
    assert case.state is CaseState.RESOLVED
    assert _triggers(case)[-1] == "merchant_refund"
    assert "Refund of ¥792.00" in tracking_page(client, key)
    again = act(client, case.number, "merchant_refund", amount="1.00")
    assert again.status_code == 409  # the merchant's turn has ended


def test_silence_past_the_deadline_sends_the_case_to_the_regulator(client, seeded):
    now = utcnow()
    case, key = merchant_case(now)
    report = run_tick(now + timedelta(hours=25))  # the default limit is 24 hours
    assert report.errors == []
    case = reload(case)
    assert case.state is CaseState.REGULATOR_REVIEW
    assert _triggers(case)[-1] == "merchant_deadline_passed"
    sign_in(client, AH_HAI_OWNER)
    page = client.get(f"/merchant/cases/{case.number}?lang=en").get_data(as_text=True)
    assert "Merchant did not answer in time" in page
    assert 'id="no-actions"' in page
    dashboard = client.get("/merchant/?lang=en").get_data(as_text=True)
    assert 'data-outcome="merchant_deadline_passed">1<' in dashboard
    assert "Being reviewed by the regulator" in tracking_page(client, key)


def test_the_dashboard_orders_open_cases_by_deadline_with_time_left(client, seeded):
    now = utcnow()
    later, _ = merchant_case(now - timedelta(hours=1))
    sooner, _ = merchant_case(now - timedelta(hours=20))
    sign_in(client, AH_HAI_OWNER)
    page = client.get("/merchant/?lang=en").get_data(as_text=True)
    numbers = re.findall(r'data-number="([^"]+)"', page)
    assert numbers == [sooner.number, later.number]
    assert re.search(r"3 h \d\d min left", page)
    assert re.search(r"22 h \d\d min left", page)


def test_the_tourist_phone_is_masked_unless_the_tourist_consented(client, seeded):
    case, _key = merchant_case(utcnow(), phone="+8613812345678")
    sign_in(client, AH_HAI_OWNER)
    page = client.get(f"/merchant/cases/{case.number}?lang=en").get_data(as_text=True)
    assert "+86138****5678" in page
    assert "13812345678" not in page
    case.contact_consent = True
    db.session.commit()
    page = client.get(f"/merchant/cases/{case.number}?lang=en").get_data(as_text=True)
    assert 'id="tourist-phone">+8613812345678' in page
