"""Webhook deliveries through the real outbox relay, Redis and an RQ worker."""

import pytest
from sqlalchemy import select

from complaints.agencies.models import Agency
from complaints.extensions import db
from complaints.hooks_out import services as hooks
from complaints.outbox.services import relay_pending
from tests.api.receiver import running_receiver
from tests.api.support import SANYA, routed_case
from tests.app.test_outbox_redis import _work
from tests.app.test_outbox_redis import redis_queue as redis_queue

pytestmark = pytest.mark.redis


def test_deliveries_leave_through_the_outbox_and_rq(seeded, app, redis_queue, tmp_path):
    app.config["CREDIT_EXPORT_DIR"] = str(tmp_path)
    with running_receiver() as receiver:
        agency = db.session.scalar(select(Agency).where(Agency.slug == SANYA))
        endpoint = hooks.create_endpoint(url=receiver.url, event_types=["*"], agency_id=agency.id)
        db.session.commit()
        receiver.secret = endpoint.secret
        case = routed_case()
        for _ in range(3):  # relay -> fan-out job -> its delivery jobs -> relay -> send
            relay_pending()
            _work(redis_queue)
        assert [r["payload"]["type"] for r in receiver.received] == ["case.filed", "case.routed"]
        assert {r["payload"]["data"]["case_number"] for r in receiver.received} == {case.number}
        assert receiver.rejected == 0
