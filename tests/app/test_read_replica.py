"""DATABASE_REPLICA_URL: marked console reads come from a real streaming replica, while the
writer reads its own writes from the primary."""

import re

import pytest
from sqlalchemy import event, text

from complaints.database import utcnow
from complaints.extensions import db
from complaints.replica import replica_engine
from tests import services as test_services
from tests.app.test_console_queue import numbers
from tests.app.test_console_support import SANYA_SUPERVISOR, TAXI, act, file_case, sign_in
from tests.replica_cluster import PrimaryWithReplica, postgres_bin


@pytest.fixture(scope="module")
def cluster():
    bin_dir = postgres_bin()
    if bin_dir is None:
        test_services.missing("PostgreSQL server binaries (initdb, pg_basebackup) are missing")
    pair = PrimaryWithReplica(bin_dir)
    try:
        yield pair.start()
    finally:
        pair.stop()


@pytest.fixture
def replicated_app(cluster, tmp_path):
    yield from _replicated_app(cluster, tmp_path)


@pytest.fixture
def replicated_app_cache_down(cluster, tmp_path):
    """The shared cache (Redis in production) is down: nothing listens on its port."""
    from complaints.config import REDIS_CACHE_OPTIONS
    from tests.replica_cluster import free_port

    yield from _replicated_app(
        cluster,
        tmp_path,
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        CACHE_OPTIONS=REDIS_CACHE_OPTIONS,
    )


def _replicated_app(cluster, tmp_path, **config):
    from flask_migrate import upgrade

    from complaints import create_app
    from complaints.seed import seed_all

    cluster.sql("primary", "DROP DATABASE IF EXISTS anxin WITH (FORCE)")
    cluster.sql("primary", "CREATE DATABASE anxin")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": cluster.url("primary", "anxin"),
            "DATABASE_REPLICA_URL": cluster.url("replica", "anxin"),
            "UPLOAD_DIR": str(tmp_path),
            "PUBLIC_BASE_URL": "http://anxin.test",
            "REDIS_URL": "",
            **config,
        }
    )
    with app.app_context():
        upgrade()
        seed_all()
        db.session.commit()
        case = file_case(TAXI, utcnow())  # waits for the regulator's decision to accept
        number = case.number
    cluster.wait_for_replay()
    yield app, number
    with app.app_context():
        db.engine.dispose()
        replica_engine().dispose()


class ReplicaReads:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith("SELECT CASE WHEN PG_IS_IN_RECOVERY"):
            self.count += 1  # a read of data, not the caught-up check


def _mediation(client) -> list[str]:
    response = client.get("/console/?state=mediation&lang=en")
    assert response.status_code == 200
    return numbers(response.get_data(as_text=True))


def test_lists_read_the_replica_and_the_writer_reads_its_own_writes(cluster, replicated_app):
    app, number = replicated_app
    writer, other = app.test_client(), app.test_client()
    sign_in(writer)
    sign_in(other, SANYA_SUPERVISOR)
    with app.app_context():
        replica = replica_engine()
    cluster.wait_for_replay()
    with ReplicaReads(replica) as reads:
        assert _mediation(other) == []
    assert reads.count > 0  # the list came from the replica
    with replica.connect() as connection:  # planned as on the primary (config.engine_options)
        assert connection.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"

    cluster.sql("replica", "SELECT pg_wal_replay_pause()")
    try:
        response = act(writer, number, "accept")
        assert response.status_code == 303, response.get_data(as_text=True)
        with ReplicaReads(replica) as reads:
            assert _mediation(writer) == [number]  # its own write, from the primary
        assert reads.count == 0
        with ReplicaReads(replica) as reads:
            assert _mediation(other) == []  # the paused replica has not seen it yet
        assert reads.count > 0
    finally:
        cluster.sql("replica", "SELECT pg_wal_replay_resume()")
    cluster.wait_for_replay()
    with ReplicaReads(replica) as reads:
        assert _mediation(writer) == [number]  # caught up: the writer is back on the replica
        assert _mediation(other) == [number]
    assert reads.count > 0
    # Pages that are not marked, and every write, stay on the primary.
    with ReplicaReads(replica) as reads:
        page = writer.get(f"/console/cases/{number}?lang=en").get_data(as_text=True)
    assert re.search(number, page)
    assert reads.count == 0


def test_api_reads_use_the_replica_and_a_key_reads_its_own_writes(cluster, replicated_app):
    from tests.api.support import SANYA, auth, key_for

    app, number = replicated_app
    with app.app_context():
        writer, reader = key_for(agency=SANYA), key_for(agency=SANYA)
        replica = replica_engine()
    client = app.test_client()
    cluster.wait_for_replay()

    def state(raw: str) -> str:
        response = client.get(f"/api/v1/cases/{number}", headers=auth(raw))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["state"]

    state(writer)  # a key's first use is recorded on the primary (last_used_at)
    state(reader)
    cluster.wait_for_replay()
    with ReplicaReads(replica) as reads:
        assert state(reader) == "regulator_review"
    assert reads.count > 0  # an API read, from the replica

    cluster.sql("replica", "SELECT pg_wal_replay_pause()")
    try:
        accepted = client.post(
            f"/api/v1/cases/{number}/transitions",
            json={"trigger": "accept"},
            headers=auth(writer, **{"Idempotency-Key": "accept-1"}),
        )
        assert accepted.status_code == 201, accepted.get_json()
        with ReplicaReads(replica) as reads:
            assert state(writer) == "mediation"  # its own write, from the primary
        assert reads.count == 0
        with ReplicaReads(replica) as reads:
            assert state(reader) == "regulator_review"  # another key: the paused replica
        assert reads.count > 0
    finally:
        cluster.sql("replica", "SELECT pg_wal_replay_resume()")
    cluster.wait_for_replay()
    with ReplicaReads(replica) as reads:
        assert state(writer) == "mediation"  # caught up: the writer is back on the replica
    assert reads.count > 0


def test_with_the_cache_down_an_api_key_still_reads_its_own_writes(
    cluster, replicated_app_cache_down
):
    """Where a key's last write stands cannot be kept or read: its reads go to the primary."""
    from tests.api.support import SANYA, auth, key_for

    app, number = replicated_app_cache_down
    with app.app_context():
        writer = key_for(agency=SANYA)
        replica = replica_engine()
    client = app.test_client()
    cluster.wait_for_replay()
    cluster.sql("replica", "SELECT pg_wal_replay_pause()")
    try:
        accepted = client.post(
            f"/api/v1/cases/{number}/transitions",
            json={"trigger": "accept"},
            headers=auth(writer, **{"Idempotency-Key": "accept-1"}),
        )
        assert accepted.status_code == 201, accepted.get_json()
        with ReplicaReads(replica) as reads:
            read = client.get(f"/api/v1/cases/{number}", headers=auth(writer))
        assert read.status_code == 200
        assert read.get_json()["state"] == "mediation"
        assert reads.count == 0
    finally:
        cluster.sql("replica", "SELECT pg_wal_replay_resume()")
