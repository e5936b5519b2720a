"""Twilio's webhooks: signed like Twilio signs them, refused with 403 otherwise."""

import re

from sqlalchemy import select

from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.models import DeliveryStatus, Notification, SatisfactionRating, SmsOptOut
from complaints.notices.services import announce
from tests.app.test_notices_support import PUBLIC, TOURIST_PHONE, file_case
from tests.app.test_notices_support import fake_servers as fake_servers
from tests.app.test_notices_support import fakes as fakes
from tests.fakes.twilio_webhooks import (
    DEFAULT_AUTH_TOKEN,
    inbound_sms_params,
    send_inbound_sms,
    send_status_callback,
    sign_webhook,
)
from workflows.states import CaseState

STATUS_URL = f"{PUBLIC}/webhooks/twilio/status"
INBOUND_PATH = "/webhooks/twilio/inbound"
INBOUND_URL = f"{PUBLIC}{INBOUND_PATH}"


def _sent_receipt(case) -> Notification:
    return db.session.scalar(
        select(Notification).where(
            Notification.case_id == case.id, Notification.event_key == "case_received"
        )
    )


def _reply(response) -> str:
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    return response.get_data(as_text=True)


def test_status_callbacks_move_a_message_to_delivered_and_never_back(seeded, fakes, client):
    case, _ = file_case()
    notification = _sent_receipt(case)
    sid = notification.provider_message_id
    webhook = fakes.twilio.send_status_callback(sid, "delivered", client)
    assert webhook.response.status_code == 200
    db.session.refresh(notification)
    assert notification.status is DeliveryStatus.DELIVERED
    # A late "sent" (callbacks may arrive out of order) must not undo it.
    assert send_status_callback(client, sid, "sent", url=STATUS_URL).response.status_code == 200
    db.session.refresh(notification)
    assert notification.status is DeliveryStatus.DELIVERED


def test_undelivered_callback_records_the_carrier_error(seeded, fakes, client):
    case, _ = file_case()
    notification = _sent_receipt(case)
    fakes.twilio.send_status_callback(notification.provider_message_id, "undelivered", client)
    db.session.refresh(notification)
    assert notification.status is DeliveryStatus.FAILED
    assert notification.error_code == "30003"
    assert "undelivered" in notification.error_reason


def test_unknown_message_is_acknowledged_but_an_unknown_status_is_a_clear_400(
    seeded, fakes, client
):
    unknown = send_status_callback(client, "SM" + "f" * 32, "delivered", url=STATUS_URL)
    assert unknown.response.status_code == 200
    case, _ = file_case()
    notification = _sent_receipt(case)
    sid = notification.provider_message_id
    response = send_status_callback(client, sid, "teleported", url=STATUS_URL).response
    assert response.status_code == 400
    assert "teleported" in response.get_data(as_text=True)
    db.session.refresh(notification)
    assert notification.status is DeliveryStatus.SENT


def test_anything_not_signed_by_twilio_is_refused(seeded, fakes, client):
    case, _ = file_case()
    params = inbound_sms_params(TOURIST_PHONE, case.number)
    forgeries = {
        "no signature": ({}, params),
        "wrong token": (sign_webhook(INBOUND_URL, params, "not-the-token").headers, params),
        # What request.url says behind a TLS-terminating proxy: not the URL Twilio signed.
        "other URL": (
            sign_webhook("http://localhost" + INBOUND_PATH, params, DEFAULT_AUTH_TOKEN).headers,
            params,
        ),
        "tampered form": (
            sign_webhook(INBOUND_URL, params, DEFAULT_AUTH_TOKEN).headers,
            {**params, "From": "+8613900000000"},
        ),
    }
    for forgery, (headers, form) in forgeries.items():
        for path in (INBOUND_PATH, "/webhooks/twilio/status"):
            response = client.post(path, data=form, headers=headers)
            assert response.status_code == 403, (forgery, path)
            assert case.number not in response.get_data(as_text=True)


def test_webhooks_need_no_csrf_token_but_a_configured_auth_token(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFICATION_SETTINGS", {})  # Twilio not configured
    webhook = send_inbound_sms(client, TOURIST_PHONE, "HELLO", url=INBOUND_URL)
    assert webhook.response.status_code == 403


def test_tourist_texting_the_case_number_hears_its_state_in_the_case_language(
    seeded, fakes, client
):
    case, _ = file_case(language="en")
    body = f"  {case.number.lower()} please"
    reply = _reply(send_inbound_sms(client, TOURIST_PHONE, body, url=INBOUND_URL).response)
    assert f"<Message>【安心】Case {case.number}: Received (since " in reply
    zh_case, _ = file_case(language="zh", phone="+8613800138000")
    reply = _reply(
        send_inbound_sms(client, "+8613800138000", zh_case.number, url=INBOUND_URL).response
    )
    assert zh_case.number in reply
    assert re.search(r"since \d{4}-\d{2}-\d{2}", reply) or "自" in reply


def test_someone_else_texting_a_case_number_learns_nothing(seeded, fakes, client):
    case, _ = file_case()
    stranger = _reply(
        send_inbound_sms(client, "+8613900000000", case.number, url=INBOUND_URL).response
    )
    nonsense = _reply(
        send_inbound_sms(client, "+8613900000000", "hello?", url=INBOUND_URL).response
    )
    assert case.number not in stranger
    assert "Received" not in stranger
    assert stranger == nonsense
    assert "<Message>" in stranger


def test_stop_opts_out_silently_and_start_opts_back_in(seeded, fakes, client):
    case, _ = file_case()
    for word in ("stop", "STOP"):  # twice: the second is not an error
        reply = _reply(send_inbound_sms(client, TOURIST_PHONE, word, url=INBOUND_URL).response)
        assert "<Message>" not in reply  # Twilio answers STOP itself
    assert db.session.scalar(select(SmsOptOut.source).where(SmsOptOut.phone == TOURIST_PHONE))
    (offer,) = announce(case, "merchant_offer")
    assert offer.error_code == "opted_out"
    db.session.commit()
    _reply(send_inbound_sms(client, TOURIST_PHONE, "START", url=INBOUND_URL).response)
    assert db.session.scalar(select(SmsOptOut).where(SmsOptOut.phone == TOURIST_PHONE)) is None
    (accepted,) = announce(case, "tourist_accept_offer")[:1]
    assert accepted.status is DeliveryStatus.PENDING


def test_chinese_unsubscribe_word_is_honoured_and_confirmed(fakes, client):
    reply = _reply(send_inbound_sms(client, "+8613800138000", "退订", url=INBOUND_URL).response)
    assert "START" in reply
    assert (
        db.session.scalar(select(SmsOptOut.source).where(SmsOptOut.phone == "+8613800138000"))
        == "退订"
    )


def test_a_score_after_closing_is_recorded_once(seeded, fakes, client):
    case, _ = file_case()
    generic = _reply(send_inbound_sms(client, TOURIST_PHONE, "4", url=INBOUND_URL).response)
    assert db.session.scalar(select(SatisfactionRating)) is None  # not closed yet
    case.state, case.state_entered_at = CaseState.CLOSED, utcnow()
    db.session.commit()
    thanks = _reply(send_inbound_sms(client, TOURIST_PHONE, " 4 ", url=INBOUND_URL).response)
    assert f"Thank you for rating how case {case.number}" in thanks
    assert thanks != generic
    # As on the tracking page, the first score counts.
    again = _reply(send_inbound_sms(client, TOURIST_PHONE, "1", url=INBOUND_URL).response)
    assert "already rated" in again
    rating = db.session.scalar(select(SatisfactionRating))
    assert (rating.case_id, rating.score) == (case.id, 4)
