"""A second app on the session's database with some settings changed (rate limits on, a dead
Redis, production headers), and the shared Limiter put back afterwards."""

import socket
from contextlib import contextmanager

from complaints.extensions import db, limiter

SHARED_KEYS = ("SQLALCHEMY_DATABASE_URI", "PUBLIC_BASE_URL", "SECRET_KEY", "QR_SIGNING_KEY")


@contextmanager
def variant_app(app, tmp_path, **overrides):
    from complaints import create_app

    settings = {key: app.config[key] for key in SHARED_KEYS}
    settings.update({"REDIS_URL": "", "UPLOAD_DIR": str(tmp_path / "uploads")})
    settings.update(overrides)
    other = create_app(settings)
    # The process-wide Limiter remembers a storage an earlier test's app found dead, and while
    # it does it applies only fallback limits: this app starts with its own storage alive.
    limiter._storage_dead = False
    try:
        yield other
    finally:
        # One Limiter object serves every app in the process: switch it back off.
        limiter.enabled = False
        limiter._storage_dead = False
        with other.app_context():
            db.engine.dispose()


def dead_redis_url(db_number: int = 3) -> str:
    """A Redis URL where nothing listens: a port we bound and released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/{db_number}"
