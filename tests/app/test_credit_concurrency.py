"""Concurrent events for one merchant on PostgreSQL: no lost update, one row, one event each."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from complaints.credit.engine import CreditEventKind
from complaints.credit.models import CreditEvent, MerchantScore
from complaints.credit.recompute import recompute_all
from complaints.credit.services import record_credit_event
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Enterprise
from tests import services as test_services

THREADS = 8


@pytest.mark.postgres
def test_concurrent_events_for_one_merchant_all_count_once(app, seeded):
    if db.engine.dialect.name != "postgresql":
        test_services.missing("row locks need PostgreSQL (DATABASE_URL)")
    enterprise_id = db.session.scalar(select(func.min(Enterprise.id)))
    now = utcnow()
    barrier = threading.Barrier(THREADS)
    errors = []

    def land(i):
        with app.app_context():
            try:
                barrier.wait()
                for key in (f"t{i}", f"t{i}", "shared"):  # a retry, and a fact all threads see
                    record_credit_event(
                        enterprise_id,
                        CreditEventKind.DEADLINE_MISSED,
                        reason="race",
                        now=now + timedelta(microseconds=i),
                        dedupe_key=key,
                    )
                    db.session.commit()
            except Exception as exc:  # reported below, with the thread's number
                errors.append((i, exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=land, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count(CreditEvent.id))) == THREADS + 1
    assert db.session.get(MerchantScore, enterprise_id).score == 100 - 5 * (THREADS + 1)
    assert recompute_all(now + timedelta(seconds=1), fix=False).differences == []
