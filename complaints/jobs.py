"""The job queue: RQ on Redis in production and CI; jobs run inline in the embedded default."""

from flask import current_app
from redis import Redis
from rq import Queue

DEFAULT_QUEUE = "anxin"


def uses_redis() -> bool:
    return bool(current_app.config["REDIS_URL"])


def queue_name() -> str:
    # Tests give each run its own queue so that runs sharing one Redis never take each
    # other's jobs.
    return current_app.config.get("RQ_QUEUE") or DEFAULT_QUEUE


def redis_connection() -> Redis:
    url = current_app.config["REDIS_URL"]
    cached = current_app.extensions.get("anxin_redis")
    # Keyed by URL: a changed REDIS_URL (a failover, a test bringing Redis back) gets a new
    # client instead of the one still pointing at the old server.
    if cached is None or cached[0] != url:
        connection = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        cached = current_app.extensions["anxin_redis"] = (url, connection)
    return cached[1]


def queue() -> Queue:
    return Queue(queue_name(), connection=redis_connection())
