"""Configuration from the environment, failing fast where a production default would be unsafe."""

import json
import os
import secrets
from pathlib import Path

from complaints.languages import SUPPORTED

ENVIRONMENTS = ("development", "test", "production")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the app refuses to start rather than run unsafely."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _int(environ, name: str, default: int) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


SERVED_URL_FILE = "served_url"


def load_config(instance_path: str, environ=None) -> dict:
    environ = os.environ if environ is None else environ
    env = environ.get("ANXIN_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"ANXIN_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")

    secret = environ.get("SECRET_KEY", "")
    if not secret:
        if env == "production":
            raise ConfigError("SECRET_KEY must be set in production (a long random string)")
        # Dev and tests get a per-instance key so nothing guessable ever signs a printed QR code.
        secret = _instance_secret(instance_path)

    # Printed QR codes are signed with their own key: rotating SECRET_KEY (sessions, CSRF)
    # must never invalidate every poster on the island.
    qr_key = environ.get("QR_SIGNING_KEY", "")
    if not qr_key:
        if env == "production":
            raise ConfigError("QR_SIGNING_KEY must be set in production; never change it")
        qr_key = secret

    database_url = environ.get("DATABASE_URL") or ""
    if not database_url:
        if env == "production":
            raise ConfigError("DATABASE_URL must be set in production (postgresql+psycopg://...)")
        database_url = f"sqlite:///{Path(instance_path) / 'anxin.sqlite3'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    replica_url = environ.get("DATABASE_REPLICA_URL") or ""
    if replica_url.startswith("postgresql://"):
        replica_url = "postgresql+psycopg://" + replica_url.removeprefix("postgresql://")
    if replica_url and not replica_url.startswith("postgresql"):
        raise ConfigError("DATABASE_REPLICA_URL must be a PostgreSQL streaming replica's URL")

    parallel_workers = _int(environ, "DATABASE_PARALLEL_WORKERS", 0)
    if parallel_workers < 0:
        raise ConfigError(f"DATABASE_PARALLEL_WORKERS must be 0 or more, got {parallel_workers}")

    public_base_url = environ.get("PUBLIC_BASE_URL", "").rstrip("/")
    if not public_base_url and env == "development":
        # `make run` records the address it serves, so `flask outlets list` in another shell
        # prints scan URLs for that port rather than the default one.
        public_base_url = _served_url(instance_path)
    if env == "production":
        _refuse_weak_production_settings(secret, qr_key, public_base_url)

    upload_dir = environ.get("UPLOAD_DIR") or str(Path(instance_path) / "uploads")
    return {
        "ANXIN_ENV": env,
        "SECRET_KEY": secret,
        "QR_SIGNING_KEY": qr_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Computed again by create_app from the URI in use (complaints.app.register_config).
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url, parallel_workers),
        "DATABASE_PARALLEL_WORKERS": parallel_workers,
        # Optional hot standby for console lists, analytics, exports, API reads (replica.py).
        "DATABASE_REPLICA_URL": replica_url,
        "REDIS_URL": environ.get("REDIS_URL", ""),
        "PUBLIC_BASE_URL": public_base_url or "http://127.0.0.1:5000",
        "UPLOAD_DIR": upload_dir,
        # Signed daily credit-list exports for credit platforms (docs/credit-exchange.md).
        "CREDIT_EXPORT_DIR": environ.get("CREDIT_EXPORT_DIR")
        or str(Path(instance_path) / "exports"),
        "CREDIT_EXPORT_KEY": environ.get("CREDIT_EXPORT_KEY") or secret,
        "WEBHOOK_TIMEOUT_SECONDS": _int(environ, "WEBHOOK_TIMEOUT_SECONDS", 10),
        "MAX_CONTENT_LENGTH": _body_limit(environ),
        "EVIDENCE_MAX_FILE_BYTES": _int(environ, "EVIDENCE_MAX_FILE_BYTES", 8 * 1024 * 1024),
        "EVIDENCE_MAX_FILES": _int(environ, "EVIDENCE_MAX_FILES", 6),
        # Workers, the scheduler and the relay all use this queue (tests use one per run).
        "RQ_QUEUE": environ.get("RQ_QUEUE", "anxin"),
        # Time limits and scoring are policy, not code: JSON objects keyed by field name
        # (workflows.policy.Policy, complaints.credit.policy.CreditPolicy); checked at start.
        "WORKFLOW_POLICY": _json(environ, "WORKFLOW_POLICY"),
        "CREDIT_POLICY": _json(environ, "CREDIT_POLICY"),
        # Days and hours personal data is kept (complaints/privacy/services.py, README).
        "RETENTION_POLICY": _json(environ, "RETENTION_POLICY"),
        "ALERT_POLICY": _json(environ, "ALERT_POLICY"),
        # Tourist scans are counted in memory and written at most this often per process.
        "SCAN_COUNT_FLUSH_SECONDS": _int(
            environ, "SCAN_COUNT_FLUSH_SECONDS", 0 if env == "test" else 10
        ),
        # manual: a fund manager enters the bank transfer reference; simulated (never in
        # production): pays at once, for the demo and tests.
        "PAYOUT_BACKEND": environ.get("PAYOUT_BACKEND", ""),
        # Who relays the outbox: worker (the RQ worker's relay loop), thread (a background
        # thread in the web process: the default without Redis) or inline (tests).
        "OUTBOX_RELAY": environ.get("OUTBOX_RELAY", ""),
        # How often the worker's relay polls the outbox (complaints/outbox/relay.py: why no
        # NOTIFY). A quarter of a second is nothing to a text and an idle poll one index probe.
        "OUTBOX_POLL_SECONDS": float(environ.get("OUTBOX_POLL_SECONDS", "0.25")),
        # A relayed message not done after this long has its RQ job looked up; a job
        # "started" this long ago without a heartbeat belongs to a dead worker.
        "OUTBOX_LOST_CHECK_SECONDS": _int(environ, "OUTBOX_LOST_CHECK_SECONDS", 20),
        "OUTBOX_STARTED_TIMEOUT_SECONDS": _int(environ, "OUTBOX_STARTED_TIMEOUT_SECONDS", 45),
        # Seconds before each retry of a transiently failed job (RQ) or message (the tick).
        "NOTIFICATION_RETRY_INTERVALS": (10, 30, 120, 600, 1800),
        # Phone codes: per number (counted in the database) and per IP (Flask-Limiter).
        "VERIFY_SENDS_PER_NUMBER": _int(environ, "VERIFY_SENDS_PER_NUMBER", 3),
        "VERIFY_SEND_WINDOW_MINUTES": _int(environ, "VERIFY_SEND_WINDOW_MINUTES", 15),
        "VERIFY_SEND_RATE_LIMIT": environ.get("VERIFY_SEND_RATE_LIMIT", "5 per 15 minutes"),
        "VERIFY_CHECK_RATE_LIMIT": environ.get("VERIFY_CHECK_RATE_LIMIT", "30 per 15 minutes"),
        # SMS pumping: texts to one tourist number per hour (filings included), and the
        # calling codes tourists' numbers may have (empty: any; premium, shared-cost and other
        # non-mobile numbers are always refused).
        "SMS_PER_NUMBER_PER_HOUR": _int(environ, "SMS_PER_NUMBER_PER_HOUR", 10),
        "SMS_ALLOWED_COUNTRY_CODES": _country_codes(environ),
        "SMS_BACKEND": environ.get("SMS_BACKEND", "console_sms"),
        "EMAIL_BACKEND": environ.get("EMAIL_BACKEND", "console_email"),
        "NOTIFICATION_SETTINGS": {
            key: value for key, value in environ.items() if key.startswith(("TWILIO_", "SMTP_"))
        },
        "BABEL_DEFAULT_LOCALE": environ.get("DEFAULT_LOCALE", "zh"),
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": SUPPORTED,  # complaints.languages: zh, zh_Hant, en, ko, ru, ja
        # Roles that must sign in with a second factor (TOTP); others may turn it on. The test
        # suite's default is none, so only the tests about 2FA meet the extra step.
        "TOTP_REQUIRED_ROLES": environ.get(
            "TOTP_REQUIRED_ROLES", "" if env == "test" else "admin,fund_manager"
        ),
        "RATELIMIT_STORAGE_URI": environ.get("REDIS_URL") or "memory://",
        # Redis down must not stop a filing, a sign-in or a phone code: limits fall back to
        # each process's memory until Redis answers again, and a storage error never fails a
        # request. Short socket timeouts so a dead or black-holed Redis costs at most a second.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "TRUSTED_PROXIES": _trusted_proxies(environ),
        # Rendered public scan pages, shared by all web processes when Redis is there and
        # dropped on commit of any change they show (merchants/scan_cache.py); the seconds are
        # only an upper bound. Tests render every time (0) unless they turn it on.
        "CACHE_TYPE": "RedisCache" if environ.get("REDIS_URL") else "SimpleCache",
        "CACHE_REDIS_URL": environ.get("REDIS_URL", ""),
        "CACHE_KEY_PREFIX": "anxin:",
        "CACHE_OPTIONS": REDIS_CACHE_OPTIONS if environ.get("REDIS_URL") else None,
        "SCAN_CACHE_SECONDS": _int(environ, "SCAN_CACHE_SECONDS", 0 if env == "test" else 3600),
        "RATELIMIT_ENABLED": _bool(environ.get("RATELIMIT_ENABLED"), default=env != "test"),
        "COMPLAINT_RATE_LIMIT": environ.get("COMPLAINT_RATE_LIMIT", "20 per hour"),
        "WTF_CSRF_TIME_LIMIT": None,  # a tourist may take a while on a bad network
        "SESSION_COOKIE_SECURE": env == "production",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "TESTING": env == "test",
    }


MIN_PRODUCTION_KEY_LENGTH = 32
# A dead or black-holed Redis costs a request at most a second, never a hang.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}


def _refuse_weak_production_settings(secret: str, qr_key: str, public_base_url: str) -> None:
    """A guessable key forges sessions or printed codes; plain http leaks tracking links."""
    for name, value in (("SECRET_KEY", secret), ("QR_SIGNING_KEY", qr_key)):
        if len(value) < MIN_PRODUCTION_KEY_LENGTH:
            raise ConfigError(
                f"{name} must have at least {MIN_PRODUCTION_KEY_LENGTH} characters in production "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
    if not public_base_url:
        raise ConfigError("PUBLIC_BASE_URL must be set in production: printed QR codes carry it")
    if not public_base_url.startswith("https://"):
        raise ConfigError(
            "PUBLIC_BASE_URL must start with https:// in production: tracking links and "
            f"sessions must not travel in clear text (got {public_base_url!r})"
        )


def _body_limit(environ) -> int:
    """Above what a valid form can send (every photo at its own limit, plus the text), so a
    photo too large is a field error on the form kept as typed; only a body no form could
    send is refused whole (413)."""
    files = _int(environ, "EVIDENCE_MAX_FILES", 6)
    file_bytes = _int(environ, "EVIDENCE_MAX_FILE_BYTES", 8 * 1024 * 1024)
    default = files * file_bytes + 1024 * 1024
    limit = _int(environ, "MAX_UPLOAD_BYTES", default)
    if limit < default:
        raise ConfigError(
            f"MAX_UPLOAD_BYTES ({limit}) must be at least EVIDENCE_MAX_FILES x "
            f"EVIDENCE_MAX_FILE_BYTES + 1 MB ({default}), or a form with valid photos is "
            "refused whole and the tourist loses what was typed"
        )
    return limit


def _trusted_proxies(environ) -> int:
    """How many reverse proxies (load balancer, nginx) stand in front and append to
    X-Forwarded-For; 0 trusts no header, so a client cannot pick its own address."""
    count = _int(environ, "TRUSTED_PROXIES", 0)
    if count < 0:
        raise ConfigError(f"TRUSTED_PROXIES must be 0 or more, got {count}")
    return count


def _country_codes(environ) -> frozenset[int]:
    raw = environ.get("SMS_ALLOWED_COUNTRY_CODES", "")
    codes = [part.strip().lstrip("+") for part in raw.split(",") if part.strip()]
    if not all(code.isdigit() and len(code) <= 3 for code in codes):
        raise ConfigError(
            f"SMS_ALLOWED_COUNTRY_CODES must be calling codes like 86,852,44 (got {raw!r})"
        )
    return frozenset(int(code) for code in codes)


def _json(environ, name: str) -> dict:
    raw = environ.get(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name} must be a JSON object: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object, got {type(value).__name__}")
    return value


def engine_options(database_url: str, parallel_workers: int) -> dict:
    """Also the replica's (complaints.replica).

    PostgreSQL's parallel query is off for the app's connections unless DATABASE_PARALLEL_WORKERS
    says otherwise: the app's reads are keyset pages of 26 rows, and where the planner misjudged
    how many rows a filter drops (a text or district filter on the console queue) it chose a
    Gather Merge whose workers took ~7 ms to start, 3 to 10 times the statement run alone
    (bench/RESULTS.md, "Console queue at a million cases"). Whole-table reports read rollups."""
    if database_url.startswith("sqlite"):
        # Several threads (the dev server, browser tests) share the file; wait instead of failing.
        return {"connect_args": {"timeout": 30}}
    return {
        "pool_pre_ping": True,
        "connect_args": {"options": f"-c max_parallel_workers_per_gather={parallel_workers}"},
    }


def _served_url(instance_path: str) -> str:
    path = Path(instance_path) / SERVED_URL_FILE
    try:
        return path.read_text().strip().rstrip("/")
    except OSError:
        return ""


def _instance_secret(instance_path: str) -> str:
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
