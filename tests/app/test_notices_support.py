"""Shared builders for the notification, webhook and verification tests (no tests here).

The fakes are real local servers (tests/fakes): the Twilio SDK and smtplib run unchanged.
"""

import secrets
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import current_app

from complaints.cases.models import CaseSource, Remedy
from complaints.cases.services import ComplaintInput, file_complaint
from complaints.clock import local_today
from complaints.database import utcnow
from complaints.extensions import db
from complaints.outbox.services import relay_after_commit
from tests.app.helpers import outlet_named
from tests.fakes.smtp_server import FakeSMTP
from tests.fakes.twilio_server import FakeTwilio
from tests.fakes.twilio_verify import VerifyState

PUBLIC = "http://anxin.test"
TOURIST_PHONE = "+447911123456"


@pytest.fixture(scope="module")
def fake_servers():
    # Started once per module: stopping the two servers costs more than most tests here.
    with FakeTwilio() as twilio, FakeSMTP() as smtp:
        yield SimpleNamespace(twilio=twilio, smtp=smtp)


@pytest.fixture
def fakes(app, monkeypatch, fake_servers):
    """Fake Twilio (own phone codes, not Verify) and fake SMTP, wired into the app config,
    with nothing recorded or scripted from an earlier test."""
    twilio, smtp = fake_servers.twilio, fake_servers.smtp
    twilio.reset()
    twilio.verify = VerifyState(twilio.account_sid, twilio.verify_service_sid)
    smtp.reset()
    settings = {**twilio.settings(TWILIO_VERIFY_SERVICE_SID=""), **smtp.settings()}
    monkeypatch.setitem(app.config, "SMS_BACKEND", "twilio_sms")
    monkeypatch.setitem(app.config, "EMAIL_BACKEND", "smtp_email")
    monkeypatch.setitem(app.config, "NOTIFICATION_SETTINGS", settings)
    return fake_servers


def file_case(
    outlet_name: str = "Ah Hai",
    *,
    phone: str = TOURIST_PHONE,
    language: str = "en",
    now=None,
    relay: bool = True,
):
    """A complaint filed through the real service, committed, its messages relayed inline.
    Returns (case, tracking_url)."""
    now = now or utcnow()
    outlet = outlet_named(outlet_name)
    data = ComplaintInput(
        enterprise_id=outlet.enterprise_id,
        outlet_id=outlet.id,
        category=outlet.category,
        description="Charged 880 yuan for seafood priced at 88 on the board.",
        occurred_on=local_today(now) - timedelta(days=1),
        amount_paid_fen=88000,
        amount_claimed_fen=79200,
        remedy=Remedy.PARTIAL_REFUND,
        tourist_name="Alice Tourist",
        tourist_phone=phone,
        language=language,
        contact_consent=True,
        source=CaseSource.QR,
        submission_key=secrets.token_urlsafe(24),
    )
    filed = file_complaint(
        data, secret_key=current_app.config["SECRET_KEY"], public_base_url=PUBLIC, now=now
    )
    db.session.commit()
    if relay:
        relay_after_commit()  # the receipt and code jobs, then their texts
    return filed.case, f"{PUBLIC}/t/{filed.tracking_key}"


def sms_to(twilio: FakeTwilio, phone: str) -> list[str]:
    return [message.body for message in twilio.messages if message.to == phone]
