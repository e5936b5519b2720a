"""Relaying off the request path (issue 13) and noticing lost jobs within a minute (11.2)."""

import time
import uuid

import pytest
from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import select, text

from complaints import jobs
from complaints.extensions import db
from complaints.notices.models import DeliveryStatus, Notification
from complaints.outbox.models import OutboxMessage
from complaints.outbox.services import recover_lost_jobs, relay_pending
from tests import services as test_services
from tests.app.helpers import complaint_form_data, outlet_named, token_for
from tests.app.test_notices_support import TOURIST_PHONE, file_case, sms_to
from tests.app.test_notices_support import fake_servers as fake_servers
from tests.app.test_notices_support import fakes as fakes


def _statuses() -> list[DeliveryStatus]:
    db.session.rollback()
    return list(db.session.scalars(select(Notification.status).order_by(Notification.id)))


@pytest.fixture
def background_relay(app, monkeypatch):
    from complaints.outbox.relay import stop_background_relays

    monkeypatch.setitem(app.config, "OUTBOX_RELAY", "thread")
    yield
    stop_background_relays()  # later tests relay deterministically


def test_without_redis_a_background_thread_delivers_after_the_request(
    seeded, fakes, client, background_relay
):
    token = token_for(outlet_named("Ah Hai"))
    response = client.post(f"/s/{token}/complain", data=complaint_form_data(client, token))
    assert response.status_code == 303
    deadline = time.monotonic() + 10
    while _statuses() != [DeliveryStatus.SENT] * 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _statuses() == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert len(sms_to(fakes.twilio, "+447911123456")) == 2


@pytest.fixture
def redis_queue(app, monkeypatch):
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


@pytest.mark.redis
def test_messages_whose_job_redis_forgot_are_relayed_again(
    seeded, fakes, app, monkeypatch, redis_queue
):
    file_case(relay=False)
    # One batch job for the receipt, the phone code and the duplicate check.
    assert relay_pending() == 3
    job_ids = set(db.session.scalars(select(OutboxMessage.relay_job_id)))
    assert len(job_ids) == 1
    # Redis restarts without persistence: the job is gone, the database still waits for it.
    Job.fetch(job_ids.pop(), connection=jobs.redis_connection()).delete()
    jobs.queue().empty()
    monkeypatch.setitem(app.config, "OUTBOX_LOST_CHECK_SECONDS", 60)
    assert recover_lost_jobs() == 0  # too early to call it lost
    monkeypatch.setitem(app.config, "OUTBOX_LOST_CHECK_SECONDS", 0)
    assert recover_lost_jobs() == 3
    assert relay_pending() == 3
    # The receipt and the code jobs, then in the same RQ job the texts they queued.
    SimpleWorker([redis_queue], connection=jobs.redis_connection()).work(burst=True)
    assert _statuses() == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert len(sms_to(fakes.twilio, TOURIST_PHONE)) == 2
    assert (
        db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.done_at.is_(None))) is None
    )


@pytest.mark.redis
def test_a_queued_job_is_left_alone(seeded, fakes, app, monkeypatch, redis_queue):
    file_case(relay=False)
    relay_pending()
    monkeypatch.setitem(app.config, "OUTBOX_LOST_CHECK_SECONDS", 0)
    assert recover_lost_jobs() == 0  # still in the queue: the worker will run it


@pytest.mark.redis
def test_the_workers_relay_finds_committed_rows_by_polling(seeded, fakes, app, redis_queue):
    """Nobody nudges the worker's relay: it polls every OUTBOX_POLL_SECONDS."""
    from complaints.outbox.relay import RelayLoop

    file_case(relay=False)
    loop = RelayLoop(app, poll_seconds=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while loop.relayed < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        loop.stop()
        loop.thread.join(5)
    db.session.rollback()
    relayed = db.session.scalars(select(OutboxMessage.relayed_at)).all()
    assert len(relayed) == 3
    assert None not in relayed
    assert jobs.queue().count == 1  # the filing's three messages as one batch job


@pytest.mark.postgres
def test_a_filing_commits_without_notify(seeded, fakes, app):
    """A transaction that NOTIFYs takes a database-wide lock through its commit, so filings
    committed one at a time (`make bench-db`): nothing on the outbox's way may notify."""
    import psycopg

    if db.engine.dialect.name != "postgresql":
        test_services.missing("LISTEN/NOTIFY needs PostgreSQL (DATABASE_URL)")
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute("LISTEN anxin_outbox")
        file_case(relay=False)
        assert db.session.scalar(select(OutboxMessage.id)) is not None
        assert list(listener.notifies(timeout=0.5)) == []
    triggers = db.session.execute(
        text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'outbox_messages'::regclass")
    ).all()
    assert [name for (name,) in triggers if not name.startswith("RI_")] == []
