import io
import re

from PIL import Image
from sqlalchemy import func, select

from complaints.cases.models import Case, CaseEvent, Evidence
from complaints.extensions import db
from complaints.notices.models import DeliveryStatus, Notification
from complaints.outbox.models import OutboxMessage
from tests.app.helpers import complaint_form_data, outlet_named, photo_bytes, token_for
from tests.app_fixtures import error_for

CASE_NUMBER = re.compile(r"HN-460200-\d{8}-\d{6}")


def test_scan_page_shows_merchant_outlet_and_standing(client, seeded):
    outlet = outlet_named("Ah Hai")
    page = client.get(f"/s/{token_for(outlet)}?lang=en").get_data(as_text=True)
    assert outlet.enterprise.uscc in page
    assert "Ah Hai Seafood Kitchen" in page
    assert "Tianya District" in page
    assert "Catering" in page
    assert "official risk class" in page
    assert "<script" not in page  # no JavaScript
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing from another host


def test_scan_page_speaks_chinese_by_default(client, seeded):
    outlet = outlet_named("Ah Hai")
    page = client.get(f"/s/{token_for(outlet)}", headers={"Accept-Language": "zh-CN"})
    assert "阿海海鲜加工店" in page.get_data(as_text=True)


def test_full_submission_creates_case_event_and_outbox(client, seeded, capsys):
    outlet = outlet_named("Ah Hai")
    token = token_for(outlet)
    data = complaint_form_data(client, token)
    data["evidence"] = [(io.BytesIO(photo_bytes(with_gps=True)), "receipt.jpg")]
    response = client.post(
        f"/s/{token}/complain?lang=en", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    tracking = client.get(response.headers["Location"] + "&lang=en").get_data(as_text=True)

    case = db.session.scalar(select(Case))
    assert CASE_NUMBER.fullmatch(case.number)
    assert case.number in tracking
    assert "Complaint received" in tracking
    assert "What happens next" in tracking
    assert case.amount_paid_fen == 88000
    assert case.amount_claimed_fen == 79200
    assert case.tourist_phone == "+447911123456"
    assert case.agency.slug == "amr-460200"
    assert [e.trigger for e in case.events] == ["submit"]
    assert len(case.evidence) == 1
    # The tourist got the tracking link by SMS (console backend), and the outbox is drained.
    assert "/t/" in capsys.readouterr().out
    notification = db.session.scalar(select(Notification))
    assert notification.status is DeliveryStatus.SENT
    assert "/t/" not in notification.body  # the key is redacted once delivered
    assert db.session.scalar(select(func.count()).where(OutboxMessage.done_at.is_(None))) == 0


def test_evidence_is_reencoded_without_gps(client, seeded, app):
    outlet = outlet_named("Ah Hai")
    token = token_for(outlet)
    data = complaint_form_data(client, token)
    data["evidence"] = [(io.BytesIO(photo_bytes(with_gps=True)), "gps.jpg")]
    client.post(f"/s/{token}/complain", data=data, content_type="multipart/form-data")
    stored = db.session.scalar(select(Evidence))
    with Image.open(f"{app.config['UPLOAD_DIR']}/{stored.stored_name}") as image:
        assert image.format == "JPEG"
        assert 0x8825 not in image.getexif()  # no GPS IFD
        assert 0x010F not in image.getexif()


def test_double_submit_makes_one_case(client, seeded):
    outlet = outlet_named("Ah Hai")
    token = token_for(outlet)
    data = complaint_form_data(client, token)
    first = client.post(f"/s/{token}/complain", data=dict(data))
    second = client.post(f"/s/{token}/complain", data=dict(data))
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count(Case.id))) == 1
    assert db.session.scalar(select(func.count(CaseEvent.id))) == 1
    received = select(func.count(Notification.id)).where(Notification.event_key == "case_received")
    assert db.session.scalar(received) == 1


def test_invalid_input_shows_each_error_by_its_field_and_keeps_input(client, seeded):
    outlet = outlet_named("Ah Hai")
    token = token_for(outlet)
    data = complaint_form_data(
        client,
        token,
        phone="12345",
        amount_paid="12.345",
        amount_claimed="abc",
        description="short",
        occurred_on="2099-01-01",
        tourist_name="Bob Keepme",
    )
    data["evidence"] = [
        (io.BytesIO(photo_bytes("PNG")), "ok.png"),
        (io.BytesIO(b"%PDF-1.4 not a photo"), "fake.jpg"),
    ]
    response = client.post(
        f"/s/{token}/complain?lang=en", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_for(html, "phone")
    assert "two decimals" in " ".join(error_for(html, "amount_paid"))
    assert error_for(html, "amount_claimed")
    assert error_for(html, "description")
    assert "future" in " ".join(error_for(html, "occurred_on"))
    assert "fake.jpg" in " ".join(error_for(html, "evidence"))
    assert 'value="Bob Keepme"' in html
    assert 'value="12.345"' in html
    assert "Photos already attached: 1" in html  # the good photo was kept
    assert db.session.scalar(select(func.count(Case.id))) == 0

    # Fixing the fields files the case with the photo sent the first time.
    fixed = complaint_form_data(client, token, submission_key=data["submission_key"])
    assert client.post(f"/s/{token}/complain", data=fixed).status_code == 303
    case = db.session.scalar(select(Case))
    assert len(case.evidence) == 1
    assert case.evidence[0].original_name == "ok.png"


def test_money_rejects_nan_infinity_and_negative(client, seeded):
    outlet = outlet_named("Ah Hai")
    token = token_for(outlet)
    for bad in ("NaN", "Infinity", "-5", "1e9"):
        data = complaint_form_data(client, token, amount_paid=bad)
        html = client.post(f"/s/{token}/complain?lang=en", data=data).get_data(as_text=True)
        assert error_for(html, "amount_paid"), bad


def test_form_without_csrf_token_is_refused_politely(client, seeded):
    outlet = outlet_named("Ah Hai")
    token = token_for(outlet)
    data = complaint_form_data(client, token)
    data.pop("csrf_token")
    response = client.post(f"/s/{token}/complain?lang=en", data=data)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_forged_and_truncated_tokens_get_a_friendly_404(client, seeded):
    token = token_for(outlet_named("Ah Hai"))
    for bad in (token[:-3], token[:-1] + ("A" if token[-1] != "A" else "B"), "nonsense", "x" * 300):
        response = client.get(f"/s/{bad}")
        assert response.status_code == 404
        assert "<html" in response.get_data(as_text=True)
        assert client.get(f"/s/{bad}/complain").status_code == 404


def test_rotated_code_shows_replaced_page_not_the_form(client, seeded):
    from complaints.merchants.services import rotate_outlet_code

    outlet = outlet_named("Ah Hai")
    old_token = token_for(outlet)
    rotate_outlet_code(outlet, actor="regulator:test", reason="sticker copied to a fake stall")
    db.session.commit()
    response = client.get(f"/s/{old_token}?lang=en")
    assert response.status_code == 410
    assert "This code was replaced" in response.get_data(as_text=True)
    assert client.post(f"/s/{old_token}/complain").status_code in (400, 410)
    assert client.get(f"/s/{token_for(outlet)}").status_code == 200


def test_find_a_merchant_without_a_code(client, seeded):
    outlet = outlet_named("Ah Hai")
    uscc = outlet.enterprise.uscc
    for query in ("阿海", "Ah Hai", uscc, uscc.lower()):
        page = client.get("/find", query_string={"q": query}).get_data(as_text=True)
        assert f"/m/{uscc}" in page, query
    form = client.get(f"/m/{uscc}/complain")
    assert form.status_code == 200
    assert client.get("/find", query_string={"q": "x"}).status_code == 200  # too short: an error
    assert client.get("/m/914403001922038216").status_code == 404


def test_tracking_page_needs_the_exact_key(client, seeded):
    assert client.get("/t/" + "0" * 32).status_code == 404


def test_switching_language_on_the_form_keeps_everything(client, seeded):
    outlet = outlet_named("Ah Hai")
    token = token_for(outlet)
    data = complaint_form_data(client, token, tourist_name="Chen Keepme", phone="12345")
    data["switch_lang"] = "zh"
    data["evidence"] = [(io.BytesIO(photo_bytes("PNG")), "kept.png")]
    response = client.post(f"/s/{token}/complain", data=data, content_type="multipart/form-data")
    assert response.status_code == 200  # not judged: only the language changed
    html = response.get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    assert 'value="Chen Keepme"' in html
    assert 'value="12345"' in html
    assert not error_for(html, "phone")
    assert 'name="switch_lang" value="en"' in html
    assert db.session.scalar(select(func.count(Evidence.id))) == 1
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_language_links_keep_the_search(client, seeded):
    page = client.get("/find?q=Ah+Hai&lang=en").get_data(as_text=True)
    assert 'href="/find?q=Ah+Hai&amp;lang=zh"' in page


def test_message_language_follows_the_interface(client, seeded):
    token = token_for(outlet_named("Ah Hai"))
    html = client.get(
        f"/s/{token}/complain?lang=en", headers={"Accept-Language": "zh-CN"}
    ).get_data(as_text=True)
    assert '<option selected value="en">' in html or 'value="en" selected' in html
