"""Where the real PostgreSQL and Redis are, and what to do when they are absent.

Off CI a missing service skips its tests with the reason; with CI=true it fails them, and a
DATABASE_URL or REDIS_URL that is set but unreachable always fails: a typo must not turn the
suite into a quiet SQLite run.
"""

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str):
    if ON_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def postgres_admin_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or None


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def create_postgres_database(admin_url: str) -> tuple[str, str]:
    """A database of our own per test run, so leftovers never break migration tests."""
    import psycopg

    name = f"anxin_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(_psycopg_url(admin_url), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"DATABASE_URL is set but PostgreSQL is unreachable: {exc}", pytrace=False)
    parts = urlsplit(admin_url)
    return name, urlunsplit(parts._replace(path=f"/{name}"))


def drop_postgres_database(admin_url: str, name: str) -> None:
    import psycopg

    from complaints.lookups import stop_listeners

    stop_listeners(name)  # or they would try the dropped database for the rest of the run
    with psycopg.connect(_psycopg_url(admin_url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def require_redis():
    """A live Redis client on REDIS_URL, or skip/fail as above."""
    from redis import Redis
    from redis.exceptions import RedisError

    url = redis_url()
    if not url:
        missing("REDIS_URL is not set; Redis tests need a real server")
    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except RedisError as exc:
        client.close()
        pytest.fail(f"REDIS_URL is set but Redis is unreachable: {exc}", pytrace=False)
    return client
