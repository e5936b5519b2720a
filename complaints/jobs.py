"""The job queue: RQ on Redis in production and CI; jobs run inline in the embedded default."""

from flask import current_app
from redis import Redis
from rq import Queue

DEFAULT_QUEUE = "anxin"


def uses_redis() -> bool:
    return bool(current_app.config["REDIS_URL"])


def redis_connection() -> Redis:
    connection = current_app.extensions.get("anxin_redis")
    if connection is None:
        connection = Redis.from_url(
            current_app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5
        )
        current_app.extensions["anxin_redis"] = connection
    return connection


def queue() -> Queue:
    return Queue(DEFAULT_QUEUE, connection=redis_connection())
