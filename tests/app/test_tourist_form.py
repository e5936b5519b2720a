"""The scan page and the complaint form as a tourist meets them (server side; the browser
side — fold, draft, countdown — is in tests/browser)."""

import re

from sqlalchemy import select

from complaints.cases.models import Case, Remedy
from complaints.extensions import db
from tests.app.helpers import complaint_form_data, outlet_named, token_for


def test_scan_page_puts_the_button_before_the_details_and_labels_the_grade(client, seeded):
    page = client.get(f"/s/{token_for(outlet_named('Ah Hai'))}?lang=en").get_data(as_text=True)
    assert page.index('id="complain"') < page.index('id="standing"')
    assert page.index('id="complain"') < page.index('id="merchant-details"')
    assert "this platform's grade" in page
    assert "style=" not in page  # no inline styles (CSP), the badge is sized by app.css


def test_form_marks_required_fields_and_does_not_ask_the_outlets_category_again(client, seeded):
    page = client.get(f"/s/{token_for(outlet_named('Ah Hai'))}/complain?lang=en")
    html = page.get_data(as_text=True)
    assert "Fields marked * are required." in html
    for name in ("description", "occurred_on", "tourist_name", "phone"):
        assert f'<label for="{name}" class="required">' in html, name
    assert 'name="category" value="catering"' in html
    assert '<select id="category"' not in html
    assert re.search(r'<option selected value="refund">|<option value="refund" selected', html)
    assert 'data-draft-restore="all"' in html
    assert "draft.js" in html


def test_the_default_remedy_needs_no_amount(client, seeded):
    token = token_for(outlet_named("Ah Hai"))
    data = complaint_form_data(client, token, remedy="refund", amount_claimed="")
    response = client.post(f"/s/{token}/complain?lang=en", data=data)
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert case.remedy is Remedy.REFUND
    assert case.amount_claimed_fen == case.amount_paid_fen == 88000


def test_error_summary_at_the_top_names_and_links_each_field(client, seeded):
    token = token_for(outlet_named("Ah Hai"))
    data = complaint_form_data(client, token, description="short", phone="12", tourist_name="")
    html = client.post(f"/s/{token}/complain?lang=en", data=data).get_data(as_text=True)
    summary = re.search(
        r'<div class="error banner" role="alert" id="error-summary".*?</div>', html, re.S
    )
    assert summary
    assert html.index('id="error-summary"') < html.index('id="complaint-form"')
    links = dict(re.findall(r'<a href="#(\w+)">(.*?)</a>', summary.group(0)))
    assert set(links) == {"description", "phone", "tourist_name"}
    assert links["description"].startswith("What happened: ")
    assert 'data-draft-restore="all"' not in html  # the server's values win after an error


def test_the_phones_country_picks_the_sms_language_when_nobody_chose_one(client, seeded):
    token = token_for(outlet_named("Ah Hai"))
    # No Accept-Language we speak: the page is in the default (Chinese), the form says "zh".
    headers = {"Accept-Language": "fr-FR"}
    page = client.get(f"/s/{token}/complain", headers=headers).get_data(as_text=True)
    assert 'option selected value="zh"' in page or 'value="zh" selected' in page
    data = complaint_form_data(client, token, phone="+82 10-2345-6789", language="zh")
    assert client.post(f"/s/{token}/complain", data=data, headers=headers).status_code == 303
    assert db.session.scalar(select(Case.language)) == "ko"


def test_a_chosen_language_wins_over_the_phone(client, seeded):
    token = token_for(outlet_named("Ah Hai"))
    data = complaint_form_data(client, token, phone="+82 10-2345-6789", language="en")
    headers = {"Accept-Language": "en"}
    assert client.post(f"/s/{token}/complain", data=data, headers=headers).status_code == 303
    assert db.session.scalar(select(Case.language)) == "en"


def test_http_errors_speak_the_visitors_language(client, seeded):
    zh = {"Accept-Language": "zh-CN"}
    missing = client.get("/no-such-page", headers=zh).get_data(as_text=True)
    assert "Not Found" not in missing
    assert "页面不存在" in missing
    wrong_method = client.delete(f"/s/{token_for(outlet_named('Ah Hai'))}", headers=zh)
    assert wrong_method.status_code == 405
    assert "Method Not Allowed" not in wrong_method.get_data(as_text=True)
    bad_code = client.get("/s/not-a-code", headers=zh).get_data(as_text=True)
    assert "The requested URL" not in bad_code


def test_machine_reasons_read_as_words_and_local_time(app):
    from complaints.cases.reasons import readable_reason

    recorded = "merchant_response deadline passed at 2026-12-04T09:59:57.036928+00:00"
    with app.test_request_context("/?lang=zh"):
        text = readable_reason("merchant_deadline_passed", recorded)
        offer = readable_reason("merchant_offer", "Offer: ¥300.00 — free dessert")
        files = readable_reason("evidence_added", f"receipt sha256:{'a' * 64} bill.jpg\nthe bill")
    assert "2026-12-04 17:59" in text  # Beijing time, not UTC ISO
    assert "T09:59" not in text
    assert "deadline passed" not in text
    assert offer == "¥300.00 — free dessert"
    assert "sha256" not in files
    assert "the bill" in files
