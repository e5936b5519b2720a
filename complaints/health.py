"""Liveness and readiness for the load balancer and the process supervisor.

`/healthz` answers while the process lives (restart it when this fails); `/readyz` says
whether this node can serve: PostgreSQL must answer, and Redis when one is configured, else a
balancer keeps sending tourists to a node that cannot file their complaint promptly.
"""

from flask import Blueprint, current_app, jsonify
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from complaints.extensions import csrf, db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
@csrf.exempt
def readyz():
    checks = {"database": _database(), "redis": _redis()}
    ready = all(state in ("ok", "not configured") for state in checks.values())
    return jsonify(status="ok" if ready else "unavailable", **checks), (200 if ready else 503)


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        return type(exc).__name__
    return "ok"


def _redis() -> str:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not configured"
    client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except RedisError as exc:
        return type(exc).__name__
    finally:
        client.close()
    return "ok"
