"""The outbox with the real Redis and RQ: nothing is lost while Redis is down, and delivery
retries transient Twilio failures on RQ's schedule but never permanent ones."""

import uuid

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from complaints import jobs
from complaints.extensions import db
from complaints.notices.models import DeliveryStatus, Notification
from complaints.notices.services import announce
from complaints.outbox.models import OutboxMessage
from complaints.outbox.services import relay_pending
from tests import services as test_services
from tests.app.helpers import complaint_form_data, outlet_named, token_for
from tests.app.test_notices_support import TOURIST_PHONE, file_case, sms_to
from tests.app.test_notices_support import fake_servers as fake_servers
from tests.app.test_notices_support import fakes as fakes
from tests.fakes import closed_port

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_queue(app, monkeypatch):
    """The real Redis with a queue of this test's own, removed afterwards."""
    client = test_services.require_redis()
    name = f"anxin-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(app.config, "RQ_QUEUE", name)
    monkeypatch.setitem(app.config, "REDIS_URL", test_services.redis_url())
    try:
        yield name
    finally:
        keys = list(client.scan_iter(match=f"*{name}*"))
        if keys:
            client.delete(*keys)
        client.close()
        app.extensions.pop("anxin_redis", None)


def _work(queue_name: str) -> None:
    """Run what is queued (and what RQ schedules for retry) inside this app context."""
    worker = SimpleWorker([queue_name], connection=jobs.redis_connection())
    worker.work(burst=True, with_scheduler=True)


def _pending_outbox() -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.done_at.is_(None)).order_by(OutboxMessage.id)
    ).all()


def test_filing_succeeds_with_redis_down_and_messages_go_out_when_it_is_back(
    seeded, fakes, client, app, monkeypatch, redis_queue
):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    token = token_for(outlet_named("Ah Hai"))
    response = client.post(f"/s/{token}/complain", data=complaint_form_data(client, token))
    assert response.status_code == 303

    waiting = _pending_outbox()
    # The receipt with the tracking link, the phone code, and the duplicate check.
    assert len(waiting) == 3
    assert "Connection refused" in (waiting[0].last_error or "")
    assert all(message.relayed_at is None for message in waiting)
    assert fakes.twilio.messages == []

    monkeypatch.setitem(app.config, "REDIS_URL", test_services.redis_url())
    assert relay_pending() == 3
    assert fakes.twilio.messages == []  # queued, not yet run
    _work(redis_queue)  # the receipt and the code jobs, then in the same job their texts

    assert _pending_outbox() == []
    # One RQ job did it all: the texts were claimed by the job that wrote them.
    assert len(set(db.session.scalars(select(OutboxMessage.relay_job_id)))) == 1
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 5
    bodies = sms_to(fakes.twilio, TOURIST_PHONE)
    assert any("/t/" in body for body in bodies)
    assert any(" is your code " in body for body in bodies)
    statuses = set(db.session.scalars(select(Notification.status)))
    assert statuses == {DeliveryStatus.SENT}


def test_rq_retries_a_rate_limited_sms_until_it_is_sent(
    seeded, fakes, app, monkeypatch, redis_queue
):
    # Immediate retries: the schedule itself is the configuration's business.
    monkeypatch.setitem(app.config, "NOTIFICATION_RETRY_INTERVALS", (0, 0, 0, 0, 0))
    case, _ = file_case(relay=False)
    db.session.execute(db.delete(OutboxMessage))  # only the message under test
    (offer,) = announce(case, "merchant_offer")
    db.session.commit()
    fakes.twilio.fail_next(429, 20429, "Too Many Requests", times=2)
    assert relay_pending() == 1
    _work(redis_queue)
    db.session.refresh(offer)
    assert offer.status is DeliveryStatus.SENT
    assert offer.attempts == 3
    assert _pending_outbox() == []
    assert len(sms_to(fakes.twilio, TOURIST_PHONE)) == 1


def test_rq_gives_up_after_its_retries_and_says_why(seeded, fakes, app, monkeypatch, redis_queue):
    monkeypatch.setitem(app.config, "NOTIFICATION_RETRY_INTERVALS", (0, 0, 0, 0, 0))
    case, _ = file_case(relay=False)
    db.session.execute(db.delete(OutboxMessage))
    (offer,) = announce(case, "merchant_offer")
    db.session.commit()
    fakes.twilio.fail_next(503, times=10)
    relay_pending()
    _work(redis_queue)
    db.session.refresh(offer)
    assert offer.status is DeliveryStatus.FAILED
    assert offer.attempts == 6
    assert offer.error_reason.startswith("gave up after 6 attempts")
    assert _pending_outbox() == []  # recorded, so the relay does not start over


def test_rq_does_not_retry_an_invalid_number(seeded, fakes, redis_queue):
    case, _ = file_case(phone="+15005550001", relay=False)
    db.session.execute(db.delete(OutboxMessage))
    (offer,) = announce(case, "merchant_offer")
    db.session.commit()
    relay_pending()
    _work(redis_queue)
    db.session.refresh(offer)
    assert (offer.status, offer.error_code, offer.attempts) == (DeliveryStatus.FAILED, "21211", 1)
    assert len(fakes.twilio.requests) == 1
