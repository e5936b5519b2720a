import pytest
from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from notifications import (
    DeliveryReceipt,
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    create_channel,
)
from notifications.twilio_client import twilio_errors
from notifications.twilio_sms import TwilioSMS
from tests.fakes import closed_port

TOURIST = "+8613800138000"
SERVICE_SID = "MG" + "a" * 32
Transient, Permanent = TransientDeliveryError, PermanentDeliveryError


@pytest.fixture
def sms(fake_twilio):
    with TwilioSMS(fake_twilio.settings()) as channel:
        yield channel


def text(body="您的投诉已受理 Your complaint was received", **fields):
    return OutgoingMessage(channel="sms", to=TOURIST, body=body, **fields)


def test_sends_through_the_sdk_to_the_messages_endpoint(fake_twilio, sms):
    receipt = sms.send(text(status_callback_url="https://anxin.example/twilio/status/7"))

    [request] = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.host == "api.twilio.com"
    assert request.auth == (fake_twilio.account_sid, fake_twilio.auth_token)
    assert request.form == {
        "To": TOURIST,
        "From": "+15005550006",
        "Body": "您的投诉已受理 Your complaint was received",
        "StatusCallback": "https://anxin.example/twilio/status/7",
    }
    [message] = fake_twilio.messages
    assert receipt == DeliveryReceipt(provider_message_id=message.sid, status="queued")
    assert receipt.provider_message_id.startswith("SM")


def test_registry_builds_the_twilio_channel(fake_twilio):
    channel = create_channel("twilio_sms", fake_twilio.settings())
    try:
        assert channel.send(text()).status == "queued"
    finally:
        channel.close()


def test_messaging_service_sender_is_sent_as_messaging_service_sid(fake_twilio):
    with TwilioSMS(fake_twilio.settings(TWILIO_FROM=SERVICE_SID)) as channel:
        receipt = channel.send(text())
    form = fake_twilio.requests[0].form
    assert form["MessagingServiceSid"] == SERVICE_SID
    assert "From" not in form
    assert receipt.status == "queued"  # Twilio says "accepted"; for us it is still queued


def test_no_status_callback_unless_asked(fake_twilio, sms):
    sms.send(text())
    assert "StatusCallback" not in fake_twilio.requests[0].form


def test_status_callback_template_uses_the_message_reference(fake_twilio):
    settings = fake_twilio.settings(
        TWILIO_STATUS_CALLBACK_URL="https://anxin.example/twilio/status/{reference}"
    )
    with TwilioSMS(settings) as channel:
        channel.send(text(reference="msg 42"))
        channel.send(text())  # no reference: no callback rather than a broken URL
    first, second = (r.form for r in fake_twilio.requests)
    assert first["StatusCallback"] == "https://anxin.example/twilio/status/msg%2042"
    assert "StatusCallback" not in second


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("+15005550001", "21211"),  # invalid number
        ("+15005550004", "21610"),  # unsubscribed (STOP)
        ("+15005550009", "21614"),  # not a mobile
        ("not-a-number", "21211"),
    ],
)
def test_refused_numbers_are_permanent_with_twilio_code(sms, to, code):
    with pytest.raises(PermanentDeliveryError) as excinfo:
        sms.send(OutgoingMessage(channel="sms", to=to, body="hi"))
    assert excinfo.value.code == code
    assert "HTTP 400" in excinfo.value.reason


def test_stop_reason_is_readable(sms):
    with pytest.raises(PermanentDeliveryError, match="unsubscribed"):
        sms.send(OutgoingMessage(channel="sms", to="+15005550004", body="hi"))


def test_scripted_21211_is_permanent(fake_twilio, sms):
    fake_twilio.fail_next(400, 21211, "The 'To' number is not a valid phone number.")
    with pytest.raises(PermanentDeliveryError) as excinfo:
        sms.send(text())
    assert excinfo.value.code == "21211"
    assert not excinfo.value.retryable


def test_wrong_credentials_are_permanent(fake_twilio):
    settings = fake_twilio.settings(TWILIO_AUTH_TOKEN="wrong")
    with TwilioSMS(settings) as channel, pytest.raises(PermanentDeliveryError) as excinfo:
        channel.send(text())
    assert excinfo.value.code == "20003"
    assert "credentials" in excinfo.value.reason


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, None), (503, None), (502, 20500)])
def test_rate_limits_and_server_errors_are_transient(fake_twilio, sms, status, code):
    fake_twilio.fail_next(status, code)
    with pytest.raises(TransientDeliveryError) as excinfo:
        sms.send(text())
    assert excinfo.value.retryable
    assert excinfo.value.code == (str(code) if code else None)
    assert f"HTTP {status}" in excinfo.value.reason


def test_failure_script_runs_out_and_sending_recovers(fake_twilio, sms):
    fake_twilio.fail_next(503, times=2)
    for _ in range(2):
        with pytest.raises(TransientDeliveryError):
            sms.send(text())
    assert sms.send(text()).status == "queued"
    assert len(fake_twilio.requests) == 3
    assert len(fake_twilio.messages) == 1


def test_dropped_connection_is_transient(fake_twilio, sms):
    fake_twilio.drop_next()
    with pytest.raises(TransientDeliveryError, match="could not reach Twilio"):
        sms.send(text())


def test_connection_refused_is_transient(fake_twilio):
    settings = fake_twilio.settings(TWILIO_API_BASE=f"http://127.0.0.1:{closed_port()}")
    with TwilioSMS(settings) as channel, pytest.raises(TransientDeliveryError) as excinfo:
        channel.send(text())
    assert excinfo.value.code is None


def test_api_base_path_prefix_is_kept(fake_twilio):
    # A self-hosted proxy mounted under a path: the prefix goes before Twilio's own path.
    settings = fake_twilio.settings(TWILIO_API_BASE=fake_twilio.api_base + "/twilio/")
    with TwilioSMS(settings) as channel, pytest.raises(PermanentDeliveryError) as excinfo:
        channel.send(text())
    assert excinfo.value.code == "20404"
    assert fake_twilio.requests[0].path.startswith("/twilio/2010-04-01/Accounts/")


def test_an_email_is_not_sent_as_sms(sms):
    with pytest.raises(ValueError, match="not email"):
        sms.send(OutgoingMessage(channel="email", to="a@b.example", body="x"))


@pytest.mark.parametrize(
    ("exc", "kind", "code"),
    [
        # A non-JSON 503 page: the SDK copies the status into `code`; it is not a Twilio code.
        (TwilioRestException(503, "/x", "Unable to create record", code=503), Transient, None),
        (TwilioRestException(400, "/x", "Unable to create record", code=21211), Permanent, "21211"),
        # RFC 9457 problem bodies come as TwilioServiceException, a separate class.
        (TwilioServiceException("about:blank", "Too Many", 429, 20429), Transient, "20429"),
        (TwilioServiceException("about:blank", "Bad To", 400, 21211), Permanent, "21211"),
    ],
)
def test_sdk_exceptions_are_classified(exc, kind, code):
    with pytest.raises(kind) as excinfo, twilio_errors():
        raise exc
    assert excinfo.value.code == code
    assert excinfo.value.__cause__ is exc
