import pytest

from notifications import PermanentDeliveryError, TransientDeliveryError
from notifications.twilio_verify import TwilioVerify
from tests.fakes import closed_port

PHONE = "+8613800138000"


@pytest.fixture
def verify(fake_twilio):
    with TwilioVerify(fake_twilio.settings()) as client:
        yield client


def test_start_posts_to_the_verify_host_with_locale(fake_twilio, verify):
    sid = verify.start(PHONE, "zh")

    [request] = fake_twilio.requests
    assert request.host == "verify.twilio.com"
    assert request.path == f"/v2/Services/{fake_twilio.verify_service_sid}/Verifications"
    assert request.auth == (fake_twilio.account_sid, fake_twilio.auth_token)
    assert request.form == {"To": PHONE, "Channel": "sms", "Locale": "zh"}
    assert sid.startswith("VE")


def test_locale_is_optional(fake_twilio, verify):
    verify.start(PHONE)
    assert "Locale" not in fake_twilio.requests[0].form


def test_right_code_is_approved_once(fake_twilio, verify):
    verify.start(PHONE, "en")
    code = fake_twilio.verification_code(PHONE)

    assert verify.check(PHONE, code) is True
    check = fake_twilio.requests[-1]
    assert check.path.endswith("/VerificationCheck")
    assert check.host == "verify.twilio.com"
    assert check.form == {"To": PHONE, "Code": code}
    # Twilio deletes an approved verification; a replay gets 404, which means "not valid".
    assert verify.check(PHONE, code) is False


def test_wrong_code_is_refused_and_the_right_one_still_works(fake_twilio, verify):
    verify.start(PHONE)
    code = fake_twilio.verification_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    assert verify.check(PHONE, wrong) is False
    assert verify.check(PHONE, code) is True


def test_check_without_a_verification_is_false(verify):
    assert verify.check(PHONE, "123456") is False


def test_too_many_wrong_codes_is_permanent(fake_twilio, verify):
    verify.start(PHONE)
    for _ in range(5):
        verify.check(PHONE, "wrong")
    with pytest.raises(PermanentDeliveryError) as excinfo:
        verify.check(PHONE, fake_twilio.verification_code(PHONE))
    assert excinfo.value.code == "60202"


def test_too_many_sends_is_permanent_despite_http_429(verify):
    for _ in range(5):
        verify.start(PHONE)
    with pytest.raises(PermanentDeliveryError) as excinfo:
        verify.start(PHONE)
    assert excinfo.value.code == "60203"


def test_invalid_number_on_start_is_permanent(fake_twilio, verify):
    fake_twilio.fail_next(400, 60200, "Invalid parameter: To")
    with pytest.raises(PermanentDeliveryError) as excinfo:
        verify.start("12345")
    assert excinfo.value.code == "60200"


def test_outage_is_transient(fake_twilio, verify):
    fake_twilio.fail_next(503)
    with pytest.raises(TransientDeliveryError):
        verify.start(PHONE)


def test_unreachable_verify_is_transient(fake_twilio):
    settings = fake_twilio.settings(TWILIO_API_BASE=f"http://127.0.0.1:{closed_port()}")
    with TwilioVerify(settings) as client, pytest.raises(TransientDeliveryError):
        client.check(PHONE, "123456")


def test_missing_service_sid_is_named(fake_twilio):
    with pytest.raises(ValueError, match="TWILIO_VERIFY_SERVICE_SID"):
        TwilioVerify(fake_twilio.settings(TWILIO_VERIFY_SERVICE_SID=""))
