"""Dispute evidence, the tourist's rating, the message thread, code rotation and staff."""

import re

from sqlalchemy import func, select

from complaints.accounts.models import Account, AccountRole
from complaints.cases.models import CaseEvent
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import OutletCodeRotation
from complaints.notices.models import Audience, SatisfactionRating
from complaints.portal import services
from complaints.portal.models import DisputeEvidence
from tests.app.helpers import outlet_named
from tests.app.test_portal_support import (
    AH_HAI,
    AH_HAI_OWNER,
    JEWELLERY_OWNER,
    act,
    csrf,
    merchant_case,
    reload,
    sign_in,
    stage,
    tourist_post,
    tracking_page,
)
from tests.app_fixtures import hidden_fields
from workflows.states import CaseState


def _staged(case):
    db.session.expire_all()
    return list(
        db.session.scalars(select(DisputeEvidence).where(DisputeEvidence.case_id == case.id))
    )


def test_dispute_evidence_is_staged_then_submitted_once_and_frozen(app, client, seeded):
    case, _key = merchant_case(utcnow())
    sign_in(client, AH_HAI_OWNER)
    assert stage(client, case.number, "receipt", (10, 10, 10), note="Till roll").status_code == 303
    assert stage(client, case.number, "photo", (20, 20, 20)).status_code == 303
    assert stage(client, case.number, "contract", (30, 30, 30)).status_code == 303
    receipt, photo, contract = _staged(case)
    token = csrf(client, f"/merchant/cases/{case.number}")
    removed = client.post(
        f"/merchant/cases/{case.number}/evidence/{contract.id}/remove", data={"csrf_token": token}
    )
    assert removed.status_code == 303
    assert [item.kind.value for item in _staged(case)] == ["receipt", "photo"]
    page = client.get(f"/merchant/cases/{case.number}?lang=en").get_data(as_text=True)
    assert "Submit the dispute (2 files)" in page

    response = act(client, case.number, "merchant_dispute", reason="The price was on the board.")
    assert response.status_code == 303
    case = reload(case)
    assert case.state is CaseState.REGULATOR_REVIEW
    event = db.session.scalar(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.trigger == "merchant_dispute"
        )
    )
    assert event.reason.startswith("The price was on the board.")
    assert "Evidence: 2 file(s) (receipt, photo)" in event.reason
    submitted = services.submitted_dispute_evidence(case)  # what the regulator is shown
    assert [item.id for item in submitted] == [receipt.id, photo.id]
    assert all(item.dispute_event_id == event.id for item in submitted)

    again = act(client, case.number, "merchant_dispute", reason="Once more")
    assert again.status_code == 409
    assert stage(client, case.number, "other", (40, 40, 40)).status_code == 409
    token = csrf(client, f"/merchant/cases/{case.number}")
    frozen = client.post(
        f"/merchant/cases/{case.number}/evidence/{receipt.id}/remove", data={"csrf_token": token}
    )
    assert frozen.status_code == 409
    assert len(_staged(case)) == 2
    served = client.get(f"/merchant/cases/{case.number}/evidence/{receipt.id}")
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    served.close()
    assert (
        db.session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)) == 3
    )


def test_a_file_that_is_not_a_photo_is_refused(client, seeded):
    import io

    case, _key = merchant_case(utcnow())
    sign_in(client, AH_HAI_OWNER)
    token = csrf(client, f"/merchant/cases/{case.number}")
    response = client.post(
        f"/merchant/cases/{case.number}/evidence?lang=en",
        data={"csrf_token": token, "kind": "contract", "file": (io.BytesIO(b"%PDF-1.7"), "c.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "c.pdf is not a readable JPEG, PNG or WebP photo." in response.get_data(as_text=True)
    assert _staged(case) == []


def test_the_tourist_rates_a_resolved_case_once_and_the_regulator_sees_it(app, client, seeded):
    case, key = merchant_case(utcnow())
    tourist = app.test_client()
    early = tourist_post(tourist, key, "rating", score="5", comment="too early")
    assert early.status_code == 303
    assert db.session.scalar(select(func.count(SatisfactionRating.id))) == 0
    sign_in(client, AH_HAI_OWNER)
    act(client, case.number, "merchant_refund", amount="792.00")
    assert 'id="rating"' in tracking_page(tourist, key)

    response = tourist_post(tourist, key, "rating", score="4", comment="Quick, but cold food.")
    assert response.status_code == 303
    rating = services.rating_for(reload(case))
    assert (rating.score, rating.comment) == (4, "Quick, but cold food.")
    page = tracking_page(tourist, key)
    assert 'id="rating-score">4 of 5' in page
    assert 'name="score"' not in page  # the form is gone
    tourist_post(tourist, key, "rating", score="1", comment="changed my mind")
    assert services.rating_for(reload(case)).score == 4


def test_messages_are_shown_to_each_audience_as_their_flags_allow(app, client, seeded):
    case, key = merchant_case(utcnow())
    tourist = app.test_client()
    assert tourist_post(tourist, key, "messages", body="When will I hear back?").status_code == 303
    sign_in(client, AH_HAI_OWNER)
    token = csrf(client, f"/merchant/cases/{case.number}")
    url = f"/merchant/cases/{case.number}/messages?lang=en"
    client.post(url, data={"csrf_token": token, "body": "Today, with an offer."})
    client.post(
        url, data={"csrf_token": token, "body": "Note: repeat complainer.", "regulator_only": "y"}
    )
    case = reload(case)

    def bodies(audience):
        return [m.body for m in services.messages_for(case, audience)]

    everything = ["When will I hear back?", "Today, with an offer.", "Note: repeat complainer."]
    assert bodies(Audience.REGULATOR) == everything
    assert bodies(Audience.MERCHANT) == everything
    assert bodies(Audience.TOURIST) == everything[:2]
    page = tracking_page(tourist, key)
    assert "Today, with an offer." in page
    assert "repeat complainer" not in page
    merchant_page = client.get(f"/merchant/cases/{case.number}?lang=en").get_data(as_text=True)
    assert "only for the regulator" in merchant_page
    empty = client.post(url, data={"csrf_token": token, "body": "  "})
    assert empty.status_code == 422


def test_rotating_a_code_is_recorded_for_the_regulator(client, seeded):
    outlet = outlet_named(AH_HAI)
    sign_in(client, AH_HAI_OWNER)
    token = csrf(client, "/merchant/outlets")
    url = f"/merchant/outlets/{outlet.code}/rotate?lang=en"
    field = f"rotate-{outlet.code}-reason"
    assert (
        client.post(url, data={f"rotate-{outlet.code}-csrf_token": token, field: ""}).status_code
        == 422
    )
    data = {f"rotate-{outlet.code}-csrf_token": token, field: "Sticker covered by a fake"}
    response = client.post(url, data=data)
    assert response.status_code == 303
    owner = db.session.scalar(select(Account).where(Account.email == AH_HAI_OWNER))
    [rotation] = services.code_rotations(owner.enterprise_id)
    assert (rotation.old_version, rotation.new_version) == (1, 2)
    assert rotation.actor == f"merchant:{owner.id}"
    assert rotation.reason == "Sticker covered by a fake"
    assert db.session.scalar(select(func.count(OutletCodeRotation.id))) == 1
    page = client.get("/merchant/outlets?lang=en").get_data(as_text=True)
    assert "Sticker covered by a fake" in page
    assert f"/outlets/{outlet.code}/qr.png" in page
    assert f"/outlets/{outlet.code}/poster?size=a6" in page


def test_the_owner_invites_a_colleague_who_sets_a_password_once(app, client, seeded, capsys):
    sign_in(client, AH_HAI_OWNER)
    token = csrf(client, "/merchant/staff")
    capsys.readouterr()
    response = client.post(
        "/merchant/staff?lang=en",
        data={"csrf_token": token, "email": "Cook@Example.com", "name": "Xiao Wu"},
    )
    assert response.status_code == 201
    # The link goes to the invitee's mailbox (issue 11.12), never onto the owner's page.
    assert "/merchant/invite/" not in response.get_data(as_text=True)
    link = re.search(r"http://anxin\.test(/merchant/invite/\S+)", capsys.readouterr().out)
    invited = db.session.scalar(select(Account).where(Account.email == "cook@example.com"))
    owner = db.session.scalar(select(Account).where(Account.email == AH_HAI_OWNER))
    assert invited.role is AccountRole.MERCHANT_STAFF
    assert invited.enterprise_id == owner.enterprise_id
    client.post("/logout", data={"csrf_token": csrf(client)})

    page = client.get(link.group(1))
    assert page.status_code == 200
    form_token = hidden_fields(page.get_data(as_text=True))["csrf_token"]
    password = "a-long-kitchen-password"
    data = {"csrf_token": form_token, "password": password, "confirm": password}
    assert client.post(link.group(1), data=data).status_code == 303
    assert client.get(link.group(1)).status_code == 404  # used once
    sign_in(client, "cook@example.com", password)
    assert client.get("/merchant/").status_code == 200
    assert client.get("/merchant/staff").status_code == 403


def test_demo_merchant_owners_are_seeded(seeded):
    owners = db.session.scalars(
        select(Account).where(Account.email.in_([AH_HAI_OWNER, JEWELLERY_OWNER]))
    ).all()
    assert {a.role for a in owners} == {AccountRole.MERCHANT_OWNER}
    assert {a.enterprise.name_en.split(",")[0] for a in owners} == {
        "Ah Hai Seafood Kitchen",
        "Yalong Bay Jewellery Trading Co.",
    }
