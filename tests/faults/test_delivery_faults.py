"""Issue 11's figure: 200 complaints filed while Redis is stopped and restarted (empty) and
while the worker is killed mid-job (SIGKILL) end as 200 cases and every text message
delivered exactly once, within 2 minutes of recovery.

Real PostgreSQL, a private redis-server, worker processes started as production starts them
(`flask --app wsgi worker`), the real Twilio SDK against the fake Twilio."""

import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from complaints.cases.models import Case
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.models import DeliveryStatus, Notification
from complaints.outbox.models import OutboxMessage
from tests import services as test_services
from tests.app.helpers import file_case, outlet_named
from tests.fakes.twilio_server import FakeTwilio
from tests.faults.conftest import WorkerProcess

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

RECOVERY_LIMIT = timedelta(minutes=2)


def _file(outlet, count: int, start: int) -> None:
    for index in range(start, start + count):
        file_case(outlet, now=utcnow(), phone=f"+44791100{index:04d}")


def _sms_rows():
    return db.session.execute(
        select(Notification.id, Notification.status, Notification.provider_message_id)
        .where(Notification.channel == "sms")
        .order_by(Notification.id)
    ).all()


def _wait_until(predicate, *, limit: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        db.session.rollback()  # a fresh snapshot each look
        if predicate():
            return True
        time.sleep(step)
    return False


def _sending_now() -> bool:
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.attempt_started_at.is_not(None),
                Notification.status == DeliveryStatus.PENDING,
            )
        )
    )


def test_nothing_lost_and_nothing_twice_through_redis_restart_and_a_killed_worker(
    app, seeded, monkeypatch, private_redis, worker_env, tmp_path
):
    if db.engine.dialect.name != "postgresql":
        test_services.missing("the fault run needs PostgreSQL (DATABASE_URL)")
    queue = f"faults-{uuid.uuid4().hex[:10]}"
    monkeypatch.setitem(app.config, "REDIS_URL", private_redis.url)
    monkeypatch.setitem(app.config, "RQ_QUEUE", queue)
    monkeypatch.setitem(app.config, "OUTBOX_RELAY", "worker")
    outlet = outlet_named("Ah Hai")

    with FakeTwilio() as twilio:
        twilio.delay_seconds = 0.02  # a real API call takes time: kills land mid-batch
        env = worker_env(queue, twilio.settings(TWILIO_VERIFY_SERVICE_SID=""))
        first = WorkerProcess(env, tmp_path / "worker-1.log")
        second = WorkerProcess(env, tmp_path / "worker-2.log")
        first.start()
        try:
            _file(outlet, 50, 0)  # Redis up
            private_redis.stop()
            _file(outlet, 50, 50)  # Redis down: filing goes on, messages wait
            private_redis.start()  # back, empty: every job it had is gone
            _file(outlet, 50, 100)
            assert _wait_until(_sending_now, limit=60, step=0.01), "the worker never sent"
            first.kill()  # SIGKILL in the middle of a batch
            second.start()
            _file(outlet, 50, 150)
            recovered_at = time.monotonic()

            def all_sent():
                rows = _sms_rows()
                return len(rows) == 400 and all(r.status is DeliveryStatus.SENT for r in rows)

            limit = RECOVERY_LIMIT.total_seconds()
            delivered = _wait_until(all_sent, limit=limit, step=0.5)
            took = time.monotonic() - recovered_at
        finally:
            first.kill()
            second.stop()
        logs = "".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("*.log")))
        assert delivered, f"not all delivered within {limit:.0f}s: {_sms_rows()}\n{logs[-5000:]}"

        assert db.session.scalar(select(func.count()).select_from(Case)) == 200
        rows = _sms_rows()
        assert len(rows) == 400  # a receipt and a phone code per complaint
        # Exactly once: one message at Twilio per notification, and no other.
        sids = [row.provider_message_id for row in rows]
        assert len(set(sids)) == 400
        assert sorted(message.sid for message in twilio.messages) == sorted(sids)
        per_phone: dict[str, int] = {}
        for message in twilio.messages:
            per_phone[message.to] = per_phone.get(message.to, 0) + 1
        assert set(per_phone.values()) == {2}
        assert len(per_phone) == 200
        pending = (
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.done_at.is_(None))
        )
        assert _wait_until(lambda: db.session.scalar(pending) == 0, limit=30)
        # The run did meet the faults it is about.
        assert "reconnecting" in logs or "lost Redis" in logs or "Retrying" in logs, logs
        assert "re-relaying" in logs, logs
        print(f"all 400 messages delivered {took:.1f}s after recovery")
