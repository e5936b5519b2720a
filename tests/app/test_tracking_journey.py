"""The tourist after filing: evidence from the tracking page, and a lost link found again."""

import io
import re
from datetime import timedelta

from sqlalchemy import select

from complaints.cases.audit import verify_case_chain
from complaints.cases.models import Case, Evidence, TrackingKey
from complaints.database import utcnow
from complaints.extensions import db
from complaints.periodic import run_periodic
from tests.app.helpers import complaint_form_data, outlet_named, photo_bytes, token_for
from tests.app.test_notices_support import TOURIST_PHONE, sms_to
from tests.app.test_notices_support import fake_servers as fake_servers
from tests.app.test_notices_support import fakes as fakes
from tests.app.test_portal_support import AH_HAI_OWNER, merchant_case, sign_in
from tests.app_fixtures import hidden_fields
from workflows.states import CaseState

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
RECOVER_CODE = re.compile(r"(\d{6}) is your code to open complaint")


def _file(client) -> str:
    token = token_for(outlet_named("Ah Hai"))
    response = client.post(f"/s/{token}/complain?lang=en", data=complaint_form_data(client, token))
    assert response.status_code == 303
    return response.headers["Location"].partition("?")[0]


def _csrf(client, path: str) -> str:
    return hidden_fields(client.get(path + "?lang=en").get_data(as_text=True))["csrf_token"]


def test_tourist_adds_a_photo_and_a_pdf_with_a_note_frozen_into_the_chain(seeded, client):
    path = _file(client)
    page = client.get(path + "?lang=en").get_data(as_text=True)
    assert "Add photos, receipts or PDFs" in page
    assert page.count("<h1") == 1  # a heading also without ?new=1 (after a reload)
    response = client.post(
        f"{path}/evidence?lang=en",
        data={
            "csrf_token": _csrf(client, path),
            "kind": "receipt",
            "note": "The bill, 880 yuan",
            "files": [(io.BytesIO(photo_bytes()), "bill.jpg"), (io.BytesIO(PDF), "bill.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"].partition("#")[0] + "?lang=en")
    html = page.get_data(as_text=True)
    assert "2 files added to your complaint." in html
    assert "The bill, 880 yuan" in html

    case = db.session.scalar(select(Case))
    items = db.session.scalars(select(Evidence).where(Evidence.case_id == case.id)).all()
    assert {item.content_type for item in items} == {"image/jpeg", "application/pdf"}
    event = case.events[-1]
    assert event.trigger == "evidence_added"
    assert all(item.event_id == event.id and item.sha256 in event.reason for item in items)
    assert verify_case_chain(case.events) is None
    event.reason = event.reason.replace(items[0].sha256, "0" * 64)  # a swapped file shows
    assert verify_case_chain(case.events) is not None
    db.session.rollback()

    pdf = next(item for item in items if item.content_type == "application/pdf")
    with client.get(f"{path}/evidence/{pdf.id}") as served:
        assert served.data == PDF
        assert served.headers["Content-Disposition"].startswith("attachment")
        assert served.headers["Content-Security-Policy"] == "sandbox"
    # The regulator and the merchant see it on their pages (scoped by case), with the note.
    assert client.get(f"/t/{'0' * 32}/evidence/{pdf.id}").status_code == 404


def test_unfit_files_are_refused_by_name_and_the_note_is_kept(seeded, client):
    path = _file(client)
    response = client.post(
        f"{path}/evidence?lang=en",
        data={
            "csrf_token": _csrf(client, path),
            "kind": "photo",
            "note": "keep this note",
            "files": [(io.BytesIO(b"MZ\x90 not a photo"), "virus.exe")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "virus.exe is not a photo (JPEG, PNG, WebP) or a PDF." in html
    assert 'value="keep this note"' in html
    bad_kind = client.post(
        f"{path}/evidence?lang=en",
        data={"csrf_token": _csrf(client, path), "kind": "bogus", "files": []},
        content_type="multipart/form-data",
    )
    assert bad_kind.status_code == 422
    assert "Choose what kind of file this is." in bad_kind.get_data(as_text=True)
    assert db.session.scalar(select(Evidence)) is None


def test_a_mistyped_link_leads_to_find_my_complaint_in_the_tourists_language(seeded, client):
    response = client.get("/t/not-a-real-key", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "/my-complaint" in html
    assert "找回我的投诉" in html


def test_case_number_and_phone_give_a_new_link_and_the_old_one_still_works(seeded, fakes, client):
    old_path = _file(client)
    case = db.session.scalar(select(Case))
    form = hidden_fields(client.get("/my-complaint?lang=en").get_data(as_text=True))
    # A wrong phone gets the same answer, and no code.
    before = len(sms_to(fakes.twilio, TOURIST_PHONE))
    wrong = client.post(
        "/my-complaint?lang=en", data={**form, "number": case.number, "phone": "+44 7911 123457"}
    )
    assert "If the case number and phone number match" in wrong.get_data(as_text=True)
    assert len(sms_to(fakes.twilio, TOURIST_PHONE)) == before

    asked = client.post(
        "/my-complaint?lang=en",
        data={**form, "number": case.number.lower(), "phone": "07911 123456"},
    )
    assert asked.status_code == 422  # a UK number without +44 is not valid in China
    assert 'id="errors-phone"' in asked.get_data(as_text=True)
    asked = client.post(
        "/my-complaint?lang=en", data={**form, "number": case.number, "phone": "+44 7911 123456"}
    )
    code_form = hidden_fields(asked.get_data(as_text=True))
    code = RECOVER_CODE.search(sms_to(fakes.twilio, TOURIST_PHONE)[-1]).group(1)
    wrong_code = client.post(
        "/my-complaint/code?lang=en", data={**code_form, "code": f"{(int(code) + 1) % 10**6:06d}"}
    )
    assert wrong_code.status_code == 422
    opened = client.post("/my-complaint/code?lang=en", data={**code_form, "code": code})
    assert opened.status_code == 303
    new_path = opened.headers["Location"]
    assert new_path != old_path
    assert case.number in client.get(new_path + "?lang=en").get_data(as_text=True)
    assert case.number in client.get(old_path + "?lang=en").get_data(as_text=True)
    assert db.session.scalar(select(TrackingKey.case_id)) == case.id
    # The recovery code does not confirm the phone, and is not shown in the delivery log.
    assert db.session.get(Case, case.id).phone_verified_at is None


def test_merchant_and_regulator_see_the_added_files_with_their_note(seeded, app, client):
    case, tracking_key = merchant_case(utcnow())
    path = f"/t/{tracking_key}"
    client.post(
        f"{path}/evidence?lang=en",
        data={
            "csrf_token": _csrf(client, path),
            "kind": "contract",
            "note": "Menu with the posted price",
            "files": [(io.BytesIO(PDF), "menu.pdf")],
        },
        content_type="multipart/form-data",
    )
    item = db.session.scalar(select(Evidence))
    sign_in(client, AH_HAI_OWNER)
    merchant_page = client.get(f"/merchant/cases/{case.number}?lang=en").get_data(as_text=True)
    assert "Menu with the posted price" in merchant_page
    assert f"/merchant/cases/{case.number}/tourist-evidence/{item.id}" in merchant_page
    client.post("/logout", data={"csrf_token": _csrf(client, f"/merchant/cases/{case.number}")})
    sign_in(client, "handler.sanya@anxin.demo")
    console_page = client.get(f"/console/cases/{case.number}?lang=en").get_data(as_text=True)
    assert "Menu with the posted price" in console_page
    assert "Evidence added" in console_page
    with client.get(f"/console/evidence/{item.id}") as served:
        assert served.data == PDF


def test_no_evidence_after_the_decision(seeded, app, client):
    case, tracking_key = merchant_case(utcnow())
    case.state = CaseState.CLOSED
    db.session.commit()
    page = client.get(f"/t/{tracking_key}?lang=en").get_data(as_text=True)
    assert "Add photos, receipts or PDFs" not in page
    refused = client.post(
        f"/t/{tracking_key}/evidence?lang=en",
        data={
            "csrf_token": hidden_fields(page)["csrf_token"],
            "kind": "photo",
            "files": [(io.BytesIO(photo_bytes()), "late.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "evidence can no longer be added" in refused.get_data(as_text=True)


def test_an_unconfirmed_case_says_what_waits_counts_down_and_is_reminded_twice(
    seeded, fakes, client
):
    path = _file(client)
    page = client.get(path + "?lang=en").get_data(as_text=True)
    assert "not sent to the merchant or the regulator until you confirm" in page
    assert re.search(r'data-wait-seconds="(5\d|60)"', page)
    assert re.search(r'id="resend-seconds">(5\d|60)<', page)
    assert "countdown.js" in page
    assert "<script>" not in page  # a static file, no inline JS
    too_soon = client.post(
        f"{path}/verify/new-code?lang=en", data={"csrf_token": _csrf(client, path)}
    )
    assert "less than a minute ago" in client.get(too_soon.headers["Location"]).get_data(
        as_text=True
    )

    case = db.session.scalar(select(Case))
    filed = case.created_at
    reminders = lambda: [b for b in sms_to(fakes.twilio, TOURIST_PHONE) if "is waiting" in b]  # noqa: E731
    run_periodic(filed + timedelta(minutes=59))
    assert reminders() == []
    run_periodic(filed + timedelta(minutes=61))
    run_periodic(filed + timedelta(minutes=62))  # a second tick sends nothing more
    assert len(reminders()) == 1
    assert f"{case.number} is waiting" in reminders()[0]
    assert "http://anxin.test/my-complaint" in reminders()[0]
    run_periodic(filed + timedelta(hours=24, minutes=1))
    assert len(reminders()) == 2
    run_periodic(filed + timedelta(days=3))
    assert len(reminders()) == 2


def test_a_confirmed_case_gets_no_reminder(seeded, fakes):
    now = utcnow()
    case, _ = merchant_case(now)  # confirmed and routed
    case.phone_verified_at = now
    db.session.commit()
    run_periodic(now + timedelta(hours=2))
    assert not [b for b in sms_to(fakes.twilio, case.tourist_phone) if "is waiting" in b]
