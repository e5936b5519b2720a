import io

import pytest

from notifications import (
    Channel,
    DeliveryError,
    DeliveryReceipt,
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    available_backends,
    create_channel,
    register,
)
from notifications.console import ConsoleEmail, ConsoleSMS


def test_outgoing_message_is_frozen_and_checks_its_channel():
    message = OutgoingMessage(channel="sms", to="+8613800138000", body="hi")
    with pytest.raises(AttributeError):
        message.body = "changed"  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        OutgoingMessage(channel="fax", to="+8613800138000", body="hi")


def test_errors_say_whether_to_retry_and_carry_code_and_reason():
    transient = TransientDeliveryError("rate limited", 20429)
    permanent = PermanentDeliveryError("invalid number", "21211")
    assert isinstance(transient, DeliveryError)
    assert isinstance(permanent, DeliveryError)
    assert (transient.retryable, permanent.retryable) == (True, False)
    assert transient.code == "20429"
    assert permanent.reason == "invalid number"
    assert str(permanent) == "invalid number (code 21211)"
    assert PermanentDeliveryError("no code").code is None


def test_builtin_backends_are_listed():
    assert {"console_sms", "console_email", "twilio_sms", "smtp_email"} <= set(available_backends())


def test_unknown_backend_is_named_with_the_alternatives():
    with pytest.raises(ValueError, match=r"unknown notification backend 'carrier_pigeon'.*console"):
        create_channel("carrier_pigeon", {})


def test_missing_settings_are_all_named():
    with pytest.raises(ValueError, match="needs setting") as excinfo:
        create_channel("twilio_sms", {"TWILIO_ACCOUNT_SID": "AC123"})
    message = str(excinfo.value)
    assert "'twilio_sms'" in message
    assert "TWILIO_AUTH_TOKEN" in message
    assert "TWILIO_FROM" in message
    assert "TWILIO_ACCOUNT_SID" not in message


def test_smtp_backend_names_its_missing_setting():
    with pytest.raises(ValueError, match="SMTP_FROM"):
        create_channel("smtp_email", {"SMTP_HOST": "127.0.0.1"})


def test_malformed_settings_are_refused_at_construction():
    with pytest.raises(ValueError, match="SMTP_STARTTLS"):
        create_channel("smtp_email", {"SMTP_HOST": "h", "SMTP_FROM": "a@b.c", "SMTP_STARTTLS": "x"})
    with pytest.raises(ValueError, match="TWILIO_API_BASE"):
        create_channel(
            "twilio_sms",
            {
                "TWILIO_ACCOUNT_SID": "AC1",
                "TWILIO_AUTH_TOKEN": "t",
                "TWILIO_FROM": "+15005550006",
                "TWILIO_API_BASE": "127.0.0.1:80",
            },
        )


def test_registering_a_second_class_under_a_taken_name_fails():
    with pytest.raises(ValueError, match="already registered"):

        @register("console_sms")
        class Impostor:
            name = "sms"


def test_console_is_the_registered_default_and_satisfies_the_protocol():
    channel = create_channel("console_sms")
    assert isinstance(channel, ConsoleSMS)
    assert isinstance(channel, Channel)
    assert create_channel("console_email").name == "email"


def test_console_sms_prints_and_reports_sent(capsys):
    receipt = ConsoleSMS().send(
        OutgoingMessage(channel="sms", to="+8613800138000", body="您的投诉已受理", reference="m-1")
    )
    assert receipt == DeliveryReceipt(provider_message_id=None, status="sent")
    out = capsys.readouterr().out
    assert "+8613800138000" in out
    assert "您的投诉已受理" in out
    assert "m-1" in out


def test_console_email_writes_subject_to_the_given_stream():
    stream = io.StringIO()
    ConsoleEmail(stream=stream).send(
        OutgoingMessage(channel="email", to="t@example.com", subject="投诉已受理", body="正文")
    )
    assert "Subject: 投诉已受理" in stream.getvalue()
    assert "正文" in stream.getvalue()


def test_a_channel_refuses_the_other_kind_of_message():
    with pytest.raises(ValueError, match="delivers sms, not email"):
        ConsoleSMS(stream=io.StringIO()).send(
            OutgoingMessage(channel="email", to="t@example.com", body="x")
        )
