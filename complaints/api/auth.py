"""Who is calling: `Authorization: Bearer <key>` on every /api/v1 request, scopes checked per
route, and a fixed-window rate limit per key announced in RateLimit headers."""

import functools
import math
import threading
import time

from flask import current_app, g, request
from flask_babel import gettext as _
from redis.exceptions import RedisError

from complaints import jobs
from complaints.api.problems import problem
from complaints.apikeys.services import ApiPrincipal, principal_for
from complaints.database import utcnow
from complaints.replica import mark_replica_safe

WINDOW_SECONDS = 60
PUBLIC_PATHS = ("/api/v1/openapi.json", "/api/v1/docs")
_memory_windows: dict[tuple[str, int], int] = {}
_memory_lock = threading.Lock()


def current_principal() -> ApiPrincipal:
    return g.api_principal


def bearer_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate_api_request():
    """before_request for /api/v1: 401 without a usable key, 429 past the key's limit."""
    if not request.path.startswith("/api/v1") or request.path.startswith(PUBLIC_PATHS):
        return None
    raw = bearer_key()
    principal = principal_for(raw, utcnow()) if raw else None
    if principal is None:
        return problem(
            401,
            _("Unauthorized"),
            _("Send a valid, unexpired API key as 'Authorization: Bearer <key>'."),
            headers={"WWW-Authenticate": 'Bearer realm="anxin"'},
        )
    g.api_principal = principal
    if request.method in ("GET", "HEAD"):
        mark_replica_safe()  # no API GET writes (DATABASE_REPLICA_URL, complaints.replica)
    return _count_request(principal)


def count_request(principal: ApiPrincipal) -> bool:
    """Count one request against the key's per-minute budget; False when over it."""
    limit = principal.rate_limit_per_minute
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    used = _increment(principal.prefix, window)
    reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    g.rate_limit = (limit, max(0, limit - used), reset)
    return used <= limit


def _count_request(principal: ApiPrincipal):
    if count_request(principal):
        return None
    limit, _remaining, reset = g.rate_limit
    return problem(
        429,
        _("Too many requests"),
        _("This key may make %(n)d requests a minute. Try again later.", n=limit),
        headers={"Retry-After": str(reset), **rate_limit_headers()},
    )


def _increment(prefix: str, window: int) -> int:
    if jobs.uses_redis():
        name = f"{jobs.queue_name()}:api-rate:{prefix}:{window}"
        try:
            pipe = jobs.redis_connection().pipeline()
            pipe.incr(name)
            pipe.expire(name, WINDOW_SECONDS * 2)
            return int(pipe.execute()[0])
        except RedisError:
            current_app.logger.warning("rate limit store unavailable; counting in process")
    with _memory_lock:
        for stale in [k for k in _memory_windows if k[1] < window]:
            del _memory_windows[stale]
        _memory_windows[(prefix, window)] = _memory_windows.get((prefix, window), 0) + 1
        return _memory_windows[(prefix, window)]


def rate_limit_headers() -> dict[str, str]:
    if "rate_limit" not in g:
        return {}
    limit, remaining, reset = g.rate_limit
    return {
        # draft-ietf-httpapi-ratelimit-headers, and the older three-header form many clients read
        "RateLimit-Policy": f'"per-key";q={limit};w={WINDOW_SECONDS}',
        "RateLimit": f'"per-key";r={remaining};t={reset}',
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(reset),
    }


def requires(scope: str):
    """The key must carry `scope`; otherwise 403 naming the missing scope."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if scope not in current_principal().scopes:
                from flask_smorest import abort

                abort(403, message=_("This key lacks the scope %(scope)s.", scope=scope))
            return view(*args, **kwargs)

        return wrapper

    return decorate
