"""Delivering notifications without Redis: real Twilio SDK and smtplib against local fakes."""

from datetime import timedelta

from sqlalchemy import select

from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.jobs import retry_due_notifications, send_receipt
from complaints.notices.models import DeliveryStatus, Notification, SmsOptOut
from complaints.notices.services import RECEIPT_JOB, REDACTED, announce
from complaints.outbox.models import OutboxMessage
from complaints.outbox.services import WIPED_PAYLOAD, relay_pending
from tests.app.test_notices_support import PUBLIC, TOURIST_PHONE, file_case, sms_to
from tests.app.test_notices_support import fake_servers as fake_servers
from tests.app.test_notices_support import fakes as fakes

DUE = {"due_at": utcnow() + timedelta(days=2)}


def _received(case) -> Notification:
    return db.session.scalar(
        select(Notification).where(
            Notification.case_id == case.id, Notification.event_key == "case_received"
        )
    )


def test_sms_reaches_twilio_with_status_callback_and_link_is_redacted_after(seeded, fakes):
    case, tracking_url = file_case()
    request = next(r for r in fakes.twilio.requests if tracking_url in r.form.get("Body", ""))
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fakes.twilio.account_sid}/Messages.json"
    assert request.auth == (fakes.twilio.account_sid, fakes.twilio.auth_token)
    assert request.form["To"] == TOURIST_PHONE
    assert request.form["StatusCallback"] == f"{PUBLIC}/webhooks/twilio/status"
    notification = _received(case)
    assert notification.status is DeliveryStatus.SENT
    assert notification.provider_message_id == fakes.twilio.messages[0].sid
    assert tracking_url not in notification.body
    assert REDACTED in notification.body
    assert notification.secret_fragment is None
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.done_at.is_(None))) is None
    # The receipt job carried the link from the filing to the text: wiped once done, too.
    receipt_job = db.session.scalar(select(OutboxMessage).where(OutboxMessage.job == RECEIPT_JOB))
    assert receipt_job.payload == WIPED_PAYLOAD
    payloads = db.session.scalars(select(OutboxMessage.payload)).all()
    assert not any(tracking_url in str(payload) for payload in payloads)


def test_a_receipt_job_run_twice_sends_one_receipt(seeded, fakes):
    case, tracking_url = file_case(relay=False)
    send_receipt(case.id, tracking_url)
    send_receipt(case.id, tracking_url)
    relay_pending()
    assert len([b for b in sms_to(fakes.twilio, TOURIST_PHONE) if tracking_url in b]) == 1


def test_email_reaches_smtp_with_subject_line(seeded, fakes):
    case, _ = file_case()
    case.enterprise.notify_language = "en"
    announce(case, "route_to_merchant", **DUE)
    db.session.commit()
    relay_pending()
    (email,) = fakes.smtp.messages
    assert email.to == case.enterprise.contact_email
    assert email.subject == f"New complaint {case.number}"
    assert f"{PUBLIC}/merchant/cases/{case.number}" in email.body
    assert len(sms_to(fakes.twilio, case.enterprise.contact_phone)) == 1


def test_merchant_email_speaks_the_merchants_language(seeded, fakes):
    case, _ = file_case()
    assert case.enterprise.notify_language == "zh"
    announce(case, "route_to_merchant", **DUE)
    db.session.commit()
    relay_pending()
    (email,) = fakes.smtp.messages
    assert case.number in email.subject
    assert "New complaint" not in email.subject
    assert "投诉" in email.subject


def test_rate_limited_sms_is_retried_with_backoff_and_then_sent(seeded, fakes):
    fakes.twilio.fail_next(429, 20429, "Too Many Requests")
    now = utcnow()
    case, _ = file_case(now=now)
    notification = _received(case)
    assert notification.status is DeliveryStatus.RETRYING
    assert notification.error_code == "20429"
    assert notification.attempts == 1
    assert notification.next_attempt_at - now >= timedelta(seconds=10)
    # Not before its time; then once, and never twice by two sweeps.
    assert retry_due_notifications(now) == 0
    later = notification.next_attempt_at + timedelta(seconds=1)
    assert retry_due_notifications(later) == 1
    assert retry_due_notifications(later) == 0
    db.session.refresh(notification)
    assert notification.status is DeliveryStatus.SENT
    assert notification.attempts == 2
    assert notification.next_attempt_at is None
    assert any(message.to == TOURIST_PHONE for message in fakes.twilio.messages)


def test_network_failures_back_off_and_give_up_after_six_attempts(seeded, fakes):
    fakes.twilio.drop_next(times=50)
    moment = utcnow()
    case, _ = file_case(now=moment)
    notification = _received(case)
    waits = []
    while notification.status is DeliveryStatus.RETRYING:
        waits.append(round((notification.next_attempt_at - moment).total_seconds()))
        moment = notification.next_attempt_at
        retry_due_notifications(moment)
        db.session.refresh(notification)
    assert waits == [10, 30, 120, 600, 1800]
    assert notification.status is DeliveryStatus.FAILED
    assert notification.attempts == 6
    assert notification.error_reason.startswith("gave up after 6 attempts: could not reach Twilio")


def test_invalid_number_fails_at_once_with_its_code(seeded, fakes):
    case, _ = file_case(phone="+15005550001")
    notification = _received(case)
    assert notification.status is DeliveryStatus.FAILED
    assert notification.error_code == "21211"
    assert "not a valid phone number" in notification.error_reason
    assert notification.attempts == 1
    assert notification.next_attempt_at is None
    tried = len(fakes.twilio.requests)
    assert retry_due_notifications(utcnow() + timedelta(days=1)) == 0
    assert len(fakes.twilio.requests) == tried


def test_unsubscribed_number_fails_and_is_remembered_as_opted_out(seeded, fakes):
    case, _ = file_case(phone="+15005550004")
    notification = _received(case)
    assert notification.status is DeliveryStatus.FAILED
    assert notification.error_code == "21610"
    opt_out = db.session.scalar(select(SmsOptOut).where(SmsOptOut.phone == "+15005550004"))
    assert opt_out.source == "twilio:21610"
    # The next message is not even offered to Twilio.
    tried = len(fakes.twilio.requests)
    (offer,) = announce(case, "merchant_offer")
    assert offer.status is DeliveryStatus.FAILED
    assert offer.error_code == "opted_out"
    db.session.commit()
    relay_pending()
    assert len(fakes.twilio.requests) == tried


def test_phone_code_is_redacted_even_when_it_cannot_be_delivered(seeded, fakes):
    file_case(phone="+15005550001")
    code_sms = db.session.scalar(
        select(Notification).where(Notification.event_key.startswith("phone_code"))
    )
    assert code_sms.status is DeliveryStatus.FAILED
    assert code_sms.secret_fragment is None
    assert REDACTED in code_sms.body


def test_out_of_date_reminder_is_not_sent(seeded, fakes):
    case, _ = file_case()
    due = utcnow() + timedelta(minutes=5)
    fakes.twilio.fail_next(503, times=1)
    announce(case, "merchant_reminder:1", due_at=due)
    db.session.commit()
    relay_pending()
    reminder_sms = db.session.scalar(
        select(Notification).where(
            Notification.event_key == "merchant_reminder:1", Notification.channel == "sms"
        )
    )
    assert reminder_sms.status is DeliveryStatus.RETRYING
    retry_due_notifications(due + timedelta(minutes=1))
    db.session.refresh(reminder_sms)
    assert reminder_sms.status is DeliveryStatus.FAILED
    assert reminder_sms.error_code == "expired"
    assert sms_to(fakes.twilio, case.enterprise.contact_phone) == []


def test_smtp_greylisting_is_transient_and_a_refusal_is_permanent(seeded, fakes):
    case, _ = file_case()
    fakes.smtp.reject(case.enterprise.contact_email, 451)
    announce(case, "accept")
    fakes.smtp.reject(case.agency.notify_email, 550)
    announce(case, "escalate")
    db.session.commit()
    relay_pending()
    rows = {
        n.event_key: n
        for n in db.session.scalars(select(Notification).where(Notification.channel == "email"))
    }
    assert rows["accept"].status is DeliveryStatus.RETRYING
    assert rows["accept"].error_code == "451"
    assert rows["escalate"].status is DeliveryStatus.FAILED
    assert rows["escalate"].error_code == "550"


def test_cli_retries_due_messages(seeded, fakes, runner):
    fakes.twilio.fail_next(500)
    case, _ = file_case()
    notification = _received(case)
    notification.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["notices", "retry"])
    assert result.exit_code == 0, result.output
    assert "retried 1" in result.output
    db.session.refresh(notification)
    assert notification.status is DeliveryStatus.SENT
