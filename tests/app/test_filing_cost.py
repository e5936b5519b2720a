"""A filing is one transaction of a handful of statements (issue 13), counted so it cannot
regress: one commit, the case number drawn inside the case's INSERT on PostgreSQL, reference
data served from a cache that a change empties."""

import threading

import pytest
from sqlalchemy import event, select, text

from complaints.cases.models import Case
from complaints.database import utcnow
from complaints.duplicates.services import FLAG_JOB
from complaints.extensions import db
from complaints.notices.services import RECEIPT_JOB
from complaints.outbox.models import OutboxMessage
from complaints.verification.services import FIRST_CODE_JOB
from tests import services as test_services
from tests.app.helpers import complaint_form_data, outlet_named, token_for

# PostgreSQL: the case (its number drawn inside), the audit event, the deadline and the
# outbox rows. SQLite draws the number with a statement of its own, attaches staged evidence
# with a second one (no data-modifying CTE) and cannot batch the three outbox rows'
# INSERT ... RETURNING: four more.
MAX_STATEMENTS = {"postgresql": 4, "sqlite": 8}


class Counter:
    def __init__(self, engine):
        self.statements: list[str] = []
        self.commits = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)

    def _commit(self, _conn):
        self.commits += 1

    def reset(self):
        self.statements.clear()
        self.commits = 0

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


@pytest.fixture
def relay_by_worker(app, monkeypatch):
    # Production's path: the request only commits; the worker side relays.
    monkeypatch.setitem(app.config, "OUTBOX_RELAY", "worker")


def _file(client, token, phone):
    data = complaint_form_data(client, token, phone=phone)
    return client.post(f"/s/{token}/complain", data=data)


def test_a_filing_is_one_commit_of_a_handful_of_statements(seeded, client, relay_by_worker):
    token = token_for(outlet_named("Ah Hai"))
    assert _file(client, token, "+447911123400").status_code == 303  # fills the caches
    counter = Counter(db.engine)
    try:
        data = complaint_form_data(client, token, phone="+447911123401")
        counter.reset()
        response = client.post(f"/s/{token}/complain", data=data)
    finally:
        counter.close()
    assert response.status_code == 303
    dialect = db.engine.dialect.name
    assert counter.commits == 1
    assert len(counter.statements) <= MAX_STATEMENTS[dialect], "\n".join(counter.statements)
    lookups = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    # Outlet, enterprise, division, routing and agency come from the cache; the opt-out
    # check and the duplicate candidates are read by the jobs after the commit.
    assert lookups == []
    # Nothing was relayed in the request: per filing the receipt, the phone code and the
    # duplicate check wait for the worker side, in that order.
    pending = db.session.scalars(
        select(OutboxMessage.job)
        .where(OutboxMessage.relayed_at.is_(None))
        .order_by(OutboxMessage.id)
    )
    assert list(pending) == 2 * [RECEIPT_JOB, FIRST_CODE_JOB, FLAG_JOB]


def test_a_changed_outlet_is_seen_by_the_next_filing(seeded, client, relay_by_worker):
    outlet = outlet_named("Ah Hai")
    token = token_for(outlet)
    assert _file(client, token, "+447911123400").status_code == 303
    outlet.name_en = "Ah Hai Seafood, renamed"
    db.session.commit()
    assert _file(client, token, "+447911123401").status_code == 303
    page = client.get(f"/s/{token}/complain?lang=en").get_data(as_text=True)
    assert "Ah Hai Seafood, renamed" in page


def test_a_rotated_code_stops_filing_at_once(seeded, client, relay_by_worker):
    from complaints.merchants.services import rotate_outlet_code

    outlet = outlet_named("Ah Hai")
    token = token_for(outlet)
    assert _file(client, token, "+447911123400").status_code == 303
    rotate_outlet_code(outlet, actor="test", reason="copied")
    db.session.commit()
    assert client.get(f"/s/{token}/complain").status_code == 410


@pytest.mark.postgres
def test_case_numbers_come_from_a_sequence_without_a_shared_row_lock(seeded, app):
    if db.engine.dialect.name != "postgresql":
        test_services.missing("case number sequences need PostgreSQL (DATABASE_URL)")
    from datetime import UTC, datetime

    from tests.app.helpers import file_case

    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    outlet = outlet_named("Ah Hai")
    # A day counted before the upgrade continues from its counter row.
    db.session.execute(
        text(
            "INSERT INTO case_number_sequences (prefix, last_value) VALUES ('460200-20261204', 41)"
        )
    )
    db.session.commit()
    first = file_case(outlet, now=now, phone="+8613800000000")
    assert first.number == "HN-460200-20261204-000042"
    outlet_id = outlet.id

    numbers, errors = [], []

    def file_one(index):
        try:
            with app.app_context():
                place = db.session.get(type(outlet), outlet_id)
                numbers.append(file_case(place, now=now, phone=f"+86138000000{index:02d}").number)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=file_one, args=(i,)) for i in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [f"HN-460200-20261204-{n:06d}" for n in range(43, 51)]
    # Nobody waits on the counter row any more: it was not touched.
    assert (
        db.session.scalar(
            text("SELECT last_value FROM case_number_sequences WHERE prefix = '460200-20261204'")
        )
        == 41
    )
    assert db.session.scalar(select(Case.number).order_by(Case.id.desc()).limit(1)) in numbers


@pytest.mark.postgres
def test_the_tick_drops_day_sequences_once_the_day_is_long_past(seeded):
    if db.engine.dialect.name != "postgresql":
        test_services.missing("case number sequences need PostgreSQL (DATABASE_URL)")
    from datetime import UTC, datetime, timedelta

    from complaints.cases.numbering import drop_finished_day_sequences
    from tests.app.helpers import file_case

    day = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    file_case(outlet_named("Ah Hai"), now=day, phone="+8613800000001")
    exists = text("SELECT to_regclass('case_no_460200_20261201') IS NOT NULL")
    assert db.session.scalar(exists)
    assert drop_finished_day_sequences(day + timedelta(days=1)) == 0
    assert drop_finished_day_sequences(day + timedelta(days=3)) == 1
    assert not db.session.scalar(exists)


def test_the_workers_texts_skip_the_orms_bulk_insert(seeded, monkeypatch):
    """A receipt's notification row: one INSERT on the table whose RETURNING the ORM loads as
    an instance with its defaults. The ORM insert of the model ran SQLAlchemy's bulk insert
    machinery for one row; the notification rows were the worker's costliest statements."""
    from sqlalchemy.orm import bulk_persistence

    from complaints.notices.jobs import send_receipt
    from complaints.notices.models import DeliveryStatus, Notification
    from tests.app import helpers

    helpers.file_case(outlet_named("Ah Hai"), now=utcnow(), run_jobs=False)
    payload = db.session.scalar(
        select(OutboxMessage.payload).where(OutboxMessage.job == RECEIPT_JOB)
    )
    bulk_inserts = []
    bulk_insert = bulk_persistence._bulk_insert

    def spy(mapper, *args, **kwargs):
        bulk_inserts.append(mapper.class_.__name__)
        return bulk_insert(mapper, *args, **kwargs)

    monkeypatch.setattr(bulk_persistence, "_bulk_insert", spy)
    counter = Counter(db.engine)
    try:
        assert send_receipt.batch([payload["args"]]) == {}
        assert send_receipt.batch([payload["args"]]) == {}  # run twice: the twin is skipped
    finally:
        counter.close()
    assert "Notification" not in bulk_inserts
    inserts = [sql for sql in counter.statements if sql.startswith("INSERT INTO notifications")]
    assert len(inserts) == 2
    receipt = db.session.scalars(select(Notification)).one()
    assert receipt.status is DeliveryStatus.PENDING
    assert receipt.attempts == 0
    assert receipt.created_at is not None
    assert receipt.updated_at is not None
