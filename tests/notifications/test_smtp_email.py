import pytest

from notifications import (
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    create_channel,
)
from notifications.smtp_email import SMTPEmail
from tests.fakes import closed_port
from tests.fakes.smtp_server import FakeSMTP

TOURIST = "tourist@example.com"


def mail(
    to=TOURIST,
    subject="您的投诉已受理（编号 HN-2024-0001）",
    body="您好：\n商家须在 3 个工作日内答复。",
):
    return OutgoingMessage(channel="email", to=to, subject=subject, body=body, reference="msg-42")


def test_delivers_utf8_chinese_subject_and_body(fake_smtp):
    receipt = SMTPEmail(fake_smtp.settings()).send(mail())

    [received] = fake_smtp.messages
    assert received.rcpt_tos == [TOURIST]
    assert received.mail_from == "noreply@anxin.example"
    assert received.subject == "您的投诉已受理（编号 HN-2024-0001）"
    assert received.body == "您好：\n商家须在 3 个工作日内答复。\n"
    assert received.to == TOURIST
    assert received.message["From"].addresses[0].display_name == "安心 Anxin"
    assert received.message.get_content_charset() == "utf-8"
    assert receipt.status == "sent"
    assert receipt.provider_message_id == received.message["Message-ID"]
    assert receipt.provider_message_id.endswith("@anxin.example>")
    assert "msg-42" in receipt.provider_message_id


def test_headers_on_the_wire_are_ascii(fake_smtp):
    # Non-ASCII headers must travel RFC 2047 encoded, so that any relay accepts them.
    SMTPEmail(fake_smtp.settings()).send(mail())
    raw_headers = fake_smtp.messages[0].raw.split(b"\r\n\r\n", 1)[0]
    raw_headers.decode("ascii")
    assert b"=?utf-8?" in raw_headers


def test_registry_builds_the_smtp_channel(fake_smtp):
    channel = create_channel("smtp_email", fake_smtp.settings())
    assert channel.send(mail(subject=None)).status == "sent"
    assert fake_smtp.messages[0].subject is None


def test_recipient_refused_with_550_is_permanent(fake_smtp):
    fake_smtp.reject(TOURIST, 550)
    with pytest.raises(PermanentDeliveryError) as excinfo:
        SMTPEmail(fake_smtp.settings()).send(mail())
    assert excinfo.value.code == "550"
    assert TOURIST in excinfo.value.reason
    assert fake_smtp.messages == []


def test_recipient_refused_with_451_is_transient_and_later_delivered(fake_smtp):
    channel = SMTPEmail(fake_smtp.settings())
    fake_smtp.reject(code=451)
    with pytest.raises(TransientDeliveryError) as excinfo:
        channel.send(mail())
    assert excinfo.value.code == "451"
    fake_smtp.accept()
    channel.send(mail())
    assert len(fake_smtp.messages) == 1


def test_server_down_is_transient(fake_smtp):
    channel = SMTPEmail(fake_smtp.settings(SMTP_PORT=str(closed_port())))
    with pytest.raises(TransientDeliveryError, match="cannot reach SMTP server"):
        channel.send(mail())


def test_starttls_against_a_server_without_it_is_permanent(fake_smtp):
    with pytest.raises(PermanentDeliveryError, match="STARTTLS"):
        SMTPEmail(fake_smtp.settings(SMTP_STARTTLS="1")).send(mail())


def test_login_with_credentials():
    with FakeSMTP(username="anxin", password="s3cret") as server:
        SMTPEmail(server.settings()).send(mail())
        assert server.logins == [("anxin", True)]
        assert len(server.messages) == 1


def test_wrong_password_is_permanent():
    with FakeSMTP(username="anxin", password="s3cret") as server:
        with pytest.raises(PermanentDeliveryError) as excinfo:
            SMTPEmail(server.settings(SMTP_PASSWORD="nope")).send(mail())
        assert excinfo.value.code == "535"
        assert server.messages == []


def test_newline_in_subject_is_permanent_not_a_crash(fake_smtp):
    with pytest.raises(PermanentDeliveryError, match="cannot build"):
        SMTPEmail(fake_smtp.settings()).send(mail(subject="a\nBcc: victim@example.com"))
    assert fake_smtp.messages == []


def test_sender_must_be_an_address():
    with pytest.raises(ValueError, match="SMTP_FROM"):
        SMTPEmail({"SMTP_HOST": "127.0.0.1", "SMTP_FROM": "Anxin"})
