import xml.etree.ElementTree as ET

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from notifications.twilio_webhooks import (
    is_valid_twilio_request,
    messaging_reply,
    normalise_status,
)
from tests.fakes.twilio_webhooks import (
    DEFAULT_AUTH_TOKEN,
    inbound_sms_params,
    sign_webhook,
    status_callback_params,
)

URL = "https://anxin.example/twilio/status/42"


@pytest.fixture
def signed():
    params = status_callback_params("SM" + "1" * 32, "delivered")
    return sign_webhook(URL, params, DEFAULT_AUTH_TOKEN)


def test_valid_signature_is_accepted(signed):
    assert is_valid_twilio_request(DEFAULT_AUTH_TOKEN, URL, signed.params, signed.signature)


def test_flask_style_multidict_is_accepted(signed):
    form = MultiDict(list(signed.params.items()))
    assert is_valid_twilio_request(DEFAULT_AUTH_TOKEN, URL, form, signed.signature)


def test_repeated_form_keys_are_signed_like_twilio():
    form = MultiDict([("Body", "a"), ("MediaUrl", "x"), ("MediaUrl", "y")])
    signature = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(URL, form)
    assert is_valid_twilio_request(DEFAULT_AUTH_TOKEN, URL, form, signature)
    assert not is_valid_twilio_request(
        DEFAULT_AUTH_TOKEN, URL, {"Body": "a", "MediaUrl": "y"}, signature
    )


def test_tampered_params_are_refused(signed):
    tampered = {**signed.params, "MessageStatus": "failed"}
    assert not is_valid_twilio_request(DEFAULT_AUTH_TOKEN, URL, tampered, signed.signature)
    extra = {**signed.params, "Injected": "1"}
    assert not is_valid_twilio_request(DEFAULT_AUTH_TOKEN, URL, extra, signed.signature)


def test_wrong_url_is_refused(signed):
    # Behind TLS termination the request URL says http://: it must not validate.
    http_url = URL.replace("https://", "http://")
    assert not is_valid_twilio_request(
        DEFAULT_AUTH_TOKEN, http_url, signed.params, signed.signature
    )
    assert not is_valid_twilio_request(
        DEFAULT_AUTH_TOKEN, URL.replace("42", "43"), signed.params, signed.signature
    )


def test_wrong_token_or_missing_signature_is_refused(signed):
    assert not is_valid_twilio_request("other-token", URL, signed.params, signed.signature)
    assert not is_valid_twilio_request(DEFAULT_AUTH_TOKEN, URL, signed.params, None)
    assert not is_valid_twilio_request(DEFAULT_AUTH_TOKEN, URL, signed.params, "")
    assert not is_valid_twilio_request("", URL, signed.params, signed.signature)


def test_explicit_default_port_still_validates(signed):
    # Twilio signs with or without :443 inconsistently; the SDK tries both.
    url_with_port = URL.replace("anxin.example", "anxin.example:443")
    assert is_valid_twilio_request(
        DEFAULT_AUTH_TOKEN, url_with_port, signed.params, signed.signature
    )


def test_status_callback_form_matches_twilio():
    params = status_callback_params("SMabc", "undelivered", to="+8613800138000")
    assert params["MessageSid"] == params["SmsSid"] == "SMabc"
    assert params["MessageStatus"] == params["SmsStatus"] == "undelivered"
    assert params["ErrorCode"] == "30003"
    assert "ErrorCode" not in status_callback_params("SMabc", "delivered")


def test_inbound_sms_form_carries_body_and_sender():
    params = inbound_sms_params("+8613800138000", "STOP")
    assert params["Body"] == "STOP"
    assert params["From"] == "+8613800138000"
    assert params["MessageSid"].startswith("SM")


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode("utf-8"))  # noqa: S314 - our own TwiML, not untrusted input


def test_messaging_reply_is_valid_twiml_with_the_text():
    root = parse(messaging_reply("已收到 <thanks> & 再见"))
    assert root.tag == "Response"
    [message] = list(root)
    assert message.tag == "Message"
    assert message.text == "已收到 <thanks> & 再见"


def test_empty_reply_sends_nothing():
    root = parse(messaging_reply())
    assert root.tag == "Response"
    assert list(root) == []


@pytest.mark.parametrize(
    ("twilio_status", "ours"),
    [
        ("queued", "queued"),
        ("accepted", "queued"),
        ("scheduled", "queued"),
        ("sending", "queued"),
        ("receiving", "queued"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "delivered"),
        ("received", "delivered"),
        ("undelivered", "failed"),
        ("failed", "failed"),
        ("canceled", "failed"),
        (" Delivered ", "delivered"),
    ],
)
def test_status_normalisation(twilio_status, ours):
    assert normalise_status(twilio_status) == ours


def test_unknown_status_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="unknown Twilio message status 'teleported'"):
        normalise_status("teleported")
