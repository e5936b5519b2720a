"""Phone verification: a one-time code by SMS before the complaint counts as real-name."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from complaints.cases.models import Case
from complaints.cases.services import phone_verified
from complaints.database import utcnow
from complaints.extensions import db, limiter
from complaints.notices.models import Notification
from complaints.outbox.services import relay_after_commit
from complaints.verification.models import PhoneVerification
from complaints.verification.services import (
    RESEND_AFTER,
    CheckResult,
    SendResult,
    check_code,
    send_first_code,
    send_new_code,
)
from tests.app.helpers import complaint_form_data, outlet_named, token_for
from tests.app.test_notices_support import TOURIST_PHONE, file_case, sms_to
from tests.app.test_notices_support import fake_servers as fake_servers
from tests.app.test_notices_support import fakes as fakes
from tests.app_fixtures import hidden_fields
from workflows.states import CaseState

CODE = re.compile(r"^【安心】(\d{6}) is your code")


def _last_code(twilio, phone=TOURIST_PHONE) -> str:
    codes = [m.group(1) for body in sms_to(twilio, phone) if (m := CODE.match(body))]
    assert codes, sms_to(twilio, phone)
    return codes[-1]


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _file_through_the_form(client) -> str:
    """The tracking page path of a complaint filed with the real form."""
    token = token_for(outlet_named("Ah Hai"))
    response = client.post(f"/s/{token}/complain?lang=en", data=complaint_form_data(client, token))
    assert response.status_code == 303
    return response.headers["Location"].partition("?")[0]


def test_filing_sends_a_code_and_keeps_only_its_hash(seeded, fakes, client):
    path = _file_through_the_form(client)
    code = _last_code(fakes.twilio)
    verification = db.session.scalar(select(PhoneVerification))
    assert verification.phone == TOURIST_PHONE
    assert verification.provider == "own"
    assert len(verification.code_hash) == 64
    assert code not in verification.code_hash
    assert verification.expires_at - verification.sent_at == timedelta(minutes=10)
    code_sms = db.session.scalar(
        select(Notification).where(Notification.event_key == f"phone_code:{verification.id}")
    )
    assert code not in code_sms.body  # redacted once delivered
    page = client.get(path).get_data(as_text=True)
    assert "Confirm your phone number" in page
    assert "+4479****3456" in page
    assert TOURIST_PHONE not in page


def test_the_right_code_confirms_the_phone_and_routes_the_case(seeded, fakes, client):
    path = _file_through_the_form(client)
    no_token = client.post(f"{path}/verify", data={"code": _last_code(fakes.twilio)})
    assert no_token.status_code == 400  # the form's CSRF protection
    csrf = hidden_fields(client.get(path).get_data(as_text=True))["csrf_token"]
    wrong = client.post(f"{path}/verify", data={"csrf_token": csrf, "code": "12 34 5x"})
    assert "not right" in client.get(wrong.headers["Location"]).get_data(as_text=True)

    code = _last_code(fakes.twilio)
    response = client.post(f"{path}/verify", data={"csrf_token": csrf, "code": code})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{path}#verify-phone")
    page = client.get(path).get_data(as_text=True)
    assert "your phone number is confirmed" in page
    assert "Confirm your phone number" not in page

    case = db.session.scalar(select(Case))
    assert case.phone_verified_at is not None
    assert case.state is CaseState.MERCHANT_RESPONSE  # Ah Hai answers first
    # Routing told the merchant, through the outbox, by SMS and email.
    assert sms_to(fakes.twilio, case.enterprise.contact_phone)
    assert [m.to for m in fakes.smtp.messages] == [case.enterprise.contact_email]


def test_five_wrong_codes_use_up_the_code(seeded, fakes):
    now = utcnow()
    case, _ = file_case(now=now)
    code = _last_code(fakes.twilio)
    assert check_code(case, "12ab", now=now) is CheckResult.WRONG  # a typo costs no try
    for _ in range(4):
        assert check_code(case, _wrong(code), now=now) is CheckResult.WRONG
    assert check_code(case, _wrong(code), now=now) is CheckResult.LOCKED
    assert check_code(case, code, now=now) is CheckResult.LOCKED  # even the right one now
    assert db.session.scalar(select(PhoneVerification.attempts)) == 5

    assert send_new_code(case, now=now) is SendResult.TOO_SOON  # the first may still arrive
    assert send_new_code(case, now=now + RESEND_AFTER) is SendResult.SENT
    db.session.commit()
    from complaints.outbox.services import relay_pending

    relay_pending()
    assert check_code(case, _last_code(fakes.twilio), now=now) is CheckResult.VERIFIED
    assert check_code(case, code, now=now) is CheckResult.ALREADY_VERIFIED


def test_a_code_expires_after_ten_minutes(seeded, fakes):
    now = utcnow()
    case, _ = file_case(now=now)
    code = _last_code(fakes.twilio)
    later = now + timedelta(minutes=10, seconds=1)
    assert check_code(case, code, now=later) is CheckResult.EXPIRED
    assert case.phone_verified_at is None


def test_new_codes_are_limited_per_number(seeded, fakes):
    now = utcnow()
    case, _ = file_case(now=now)  # the first code counts
    assert send_new_code(case, now=now + RESEND_AFTER) is SendResult.SENT
    assert send_new_code(case, now=now + 2 * RESEND_AFTER) is SendResult.SENT
    assert send_new_code(case, now=now + 3 * RESEND_AFTER) is SendResult.RATE_LIMITED
    # Per number, not per case: another complaint from the same phone waits too.
    other, _ = file_case(now=now)
    assert send_new_code(other, now=now + 3 * RESEND_AFTER) is SendResult.RATE_LIMITED
    assert send_new_code(case, now=now + timedelta(minutes=16)) is SendResult.SENT


@pytest.fixture
def limited_app(app, tmp_path):
    """The same app with rate limiting on (it is off in tests), two code requests a minute."""
    from complaints import create_app

    overrides = {
        key: app.config[key]
        for key in ("SQLALCHEMY_DATABASE_URI", "PUBLIC_BASE_URL", "SECRET_KEY", "QR_SIGNING_KEY")
    }
    limited = create_app(
        {
            **overrides,
            "REDIS_URL": "",
            "UPLOAD_DIR": str(tmp_path),
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "VERIFY_SEND_RATE_LIMIT": "2 per minute",
            "VERIFY_SENDS_PER_NUMBER": 100,
            "WTF_CSRF_ENABLED": False,
        }
    )
    try:
        yield limited
    finally:
        # One Limiter object serves every app in the process: switch it back off.
        limiter.enabled = False
        with limited.app_context():
            db.engine.dispose()


def test_new_codes_are_limited_per_ip(seeded, limited_app):
    _, tracking_url = file_case()
    path = tracking_url.removeprefix("http://anxin.test")
    client = limited_app.test_client()
    first_ip = {"REMOTE_ADDR": "203.0.113.7"}
    statuses = [
        client.post(f"{path}/verify/new-code", environ_base=first_ip).status_code for _ in range(3)
    ]
    assert statuses == [303, 303, 429]
    other_ip = {"REMOTE_ADDR": "198.51.100.9"}
    assert client.post(f"{path}/verify/new-code", environ_base=other_ip).status_code == 303


def test_twilio_verify_sends_and_checks_the_code_when_configured(seeded, fakes, app, monkeypatch):
    settings = {**app.config["NOTIFICATION_SETTINGS"], **fakes.twilio.settings()}
    monkeypatch.setitem(app.config, "NOTIFICATION_SETTINGS", settings)
    now = utcnow()
    case, _ = file_case(now=now)
    (started,) = fakes.twilio.verify.started
    assert (started.to, started.channel, started.locale) == (TOURIST_PHONE, "sms", "en")
    assert not any(CODE.match(body) for body in sms_to(fakes.twilio, TOURIST_PHONE))
    verification = db.session.scalar(select(PhoneVerification))
    assert verification.provider == "twilio_verify"
    assert verification.code_hash is None
    code = fakes.twilio.verification_code(TOURIST_PHONE)
    assert check_code(case, _wrong(code), now=now) is CheckResult.WRONG
    assert check_code(case, code, now=now) is CheckResult.VERIFIED
    assert case.phone_verified_at == now


def test_the_first_code_waits_for_no_one_and_is_sent_once(seeded, fakes):
    # The filing commits first; the code is the outbox job's. A tourist who asks for a new
    # code on the tracking page before that job runs gets that one code, not two.
    now = utcnow()
    case, _ = file_case(now=now, relay=False)
    assert db.session.scalar(select(PhoneVerification.id)) is None
    assert send_new_code(case, now=now) is SendResult.SENT
    db.session.commit()
    send_first_code(case.id)
    send_first_code(case.id)  # a retried job
    assert db.session.scalars(select(PhoneVerification.sent_at)).all() == [now]
    relay_after_commit()
    assert len([b for b in sms_to(fakes.twilio, TOURIST_PHONE) if CODE.match(b)]) == 1


def test_the_first_code_counts_from_the_filing_not_from_the_job(seeded, fakes):
    filed_at = utcnow() - timedelta(seconds=40)  # the worker was behind a rush
    case, _ = file_case(now=filed_at)
    verification = db.session.scalar(select(PhoneVerification))
    assert (verification.sent_at, verification.expires_at) == (
        filed_at,
        filed_at + timedelta(minutes=10),
    )
    assert check_code(case, _last_code(fakes.twilio), now=utcnow()) is CheckResult.VERIFIED


def test_a_batch_of_first_codes_skips_a_tourist_already_confirmed(seeded, fakes):
    now = utcnow()
    waiting, _ = file_case(now=now, relay=False)
    confirmed, _ = file_case(now=now, phone="+447911123499", relay=False)
    phone_verified(confirmed, now)
    db.session.commit()
    assert send_first_code.batch([[waiting.id], [confirmed.id]]) == {}
    codes = db.session.execute(select(PhoneVerification.case_id, PhoneVerification.sent_at)).all()
    assert [tuple(row) for row in codes] == [(waiting.id, now)]
