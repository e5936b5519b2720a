"""The reference-data cache's listener: a NOTIFY from any process empties it, and it stops
before its database is dropped instead of retrying it for the rest of the process."""

import time

from sqlalchemy import text

from complaints.extensions import db
from complaints.lookups import CHANNEL, LookupCache, stop_listeners
from tests import services as test_services


def _until(condition, limit: float = 5.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_notify_empties_the_cache_and_stop_ends_the_listener(app_ctx):
    if db.engine.dialect.name != "postgresql":
        test_services.missing("the cache listens with PostgreSQL's LISTEN (DATABASE_URL)")
    cache = LookupCache(db.engine.url.render_as_string(hide_password=False), listen=True)
    assert _until(cache.usable), "the listener never started listening"
    cache.entries[("division", "460200")] = "remembered"
    with db.engine.begin() as conn:  # what a commit in another process sends
        conn.execute(text(f"NOTIFY {CHANNEL}"))
    assert _until(lambda: not cache.entries), "a NOTIFY did not empty the cache"

    # Dropping another database stops that database's caches only (this app's keeps going).
    elsewhere = LookupCache(
        db.engine.url.set(database="anxin_elsewhere").render_as_string(hide_password=False),
        listen=True,
    )
    stop_listeners("anxin_elsewhere")
    assert elsewhere.stopping.is_set()
    assert not cache.stopping.is_set()
    assert not elsewhere.usable()  # never starts a listener for a database that is gone

    cache.stop()
    assert _until(lambda: not cache.thread.is_alive()), "the listener outlived stop()"
    assert not cache.usable()  # bypassed from now on: nothing invalidates it any more
