"""Issue 11.3: the attempt is recorded before the provider is called, and a send whose outcome
was never learnt (the worker died, the reply was lost) is checked with Twilio's message list
instead of being repeated."""

import threading
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.jobs import _deliver, retry_due_notifications
from complaints.notices.models import DeliveryStatus, Notification
from complaints.notices.services import announce
from complaints.outbox.models import OutboxMessage
from tests.app.test_notices_support import TOURIST_PHONE, file_case, sms_to
from tests.app.test_notices_support import fake_servers as fake_servers
from tests.app.test_notices_support import fakes as fakes


def _offer(case) -> Notification:
    db.session.execute(db.delete(OutboxMessage))
    (offer,) = announce(case, "merchant_offer")
    db.session.commit()
    return offer


def test_a_reply_lost_after_twilio_took_the_message_is_not_sent_twice(seeded, fakes):
    case, _ = file_case(relay=False)
    offer = _offer(case)
    fakes.twilio.lose_next_replies(1)  # Twilio creates it; the answer never arrives
    _deliver(offer.id, rq_retries_left=None)
    db.session.refresh(offer)
    assert offer.status is DeliveryStatus.RETRYING
    assert offer.attempt_started_at is not None  # the outcome is unknown, and remembered
    assert len(sms_to(fakes.twilio, TOURIST_PHONE)) == 1

    assert retry_due_notifications(offer.next_attempt_at + timedelta(seconds=1)) == 1
    db.session.refresh(offer)
    assert offer.status is DeliveryStatus.SENT
    assert offer.provider_message_id == fakes.twilio.messages[0].sid
    assert len(sms_to(fakes.twilio, TOURIST_PHONE)) == 1  # found at Twilio, not sent again
    listed = [r for r in fakes.twilio.requests if r.method == "GET"]
    assert listed
    assert listed[0].form["To"] == TOURIST_PHONE


def test_an_attempt_interrupted_before_the_provider_took_it_is_sent_once(seeded, fakes):
    case, _ = file_case(relay=False)
    offer = _offer(case)
    # A worker recorded its attempt and died before calling Twilio.
    db.session.execute(
        update(Notification)
        .where(Notification.id == offer.id)
        .values(attempt_started_at=utcnow() - timedelta(minutes=2), attempts=1)
    )
    db.session.commit()
    _deliver(offer.id, rq_retries_left=None)
    db.session.refresh(offer)
    assert offer.status is DeliveryStatus.SENT
    assert offer.attempts == 2
    assert offer.attempt_started_at is None
    assert len(sms_to(fakes.twilio, TOURIST_PHONE)) == 1


def test_the_attempt_is_committed_before_the_provider_is_called(seeded, fakes):
    case, _ = file_case(relay=False)
    offer = _offer(case)
    seen = {}
    app = current_app._get_current_object()

    def look_from_another_connection(*_args):
        # What a second worker (or the relay) sees while the request to Twilio is in flight.
        with app.app_context(), db.engine.connect() as connection:
            seen["row"] = connection.execute(
                select(Notification.attempt_started_at, Notification.attempts).where(
                    Notification.id == offer.id
                )
            ).one()

    fakes.twilio.delay_seconds = 0.3
    watcher = threading.Timer(0.15, look_from_another_connection)
    watcher.start()
    try:
        _deliver(offer.id, rq_retries_left=None)
    finally:
        watcher.join()
        fakes.twilio.delay_seconds = 0.0
    assert seen["row"].attempt_started_at is not None
    assert seen["row"].attempts == 1
