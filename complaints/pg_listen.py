"""A PostgreSQL LISTEN loop that survives outages: the reference-data cache is emptied per
committed change of reference data (complaints/lookups.py). The outbox polls instead
(complaints/outbox/relay.py says why)."""

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0


def listen(
    database_url: str,
    channel: str,
    stopping: threading.Event,
    *,
    on_listening: Callable[[], None],
    on_notify: Callable[[], None],
    on_lost: Callable[[], None] = lambda: None,
    name: str,
) -> None:
    """LISTEN on `channel` over a connection of its own until `stopping` is set, reconnecting
    with backoff after any failure.

    `on_listening` runs after every (re)connection: what was sent while nobody listened is
    gone, so the caller acts as if it had been told. `on_notify` runs per notice, `on_lost`
    after a failure. Notices are awaited a second at a time, so a stop is noticed within one.
    An outage is logged as a warning once, then at debug level until it is over.
    """
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    backoff = FIRST_BACKOFF_SECONDS
    while not stopping.is_set():
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
                connection.execute(f"LISTEN {channel}")
                backoff = FIRST_BACKOFF_SECONDS
                on_listening()
                while not stopping.is_set():
                    for _notice in connection.notifies(timeout=1.0):
                        on_notify()
        except Exception as exc:
            if stopping.is_set():
                break
            level = logging.WARNING if backoff <= 2 * FIRST_BACKOFF_SECONDS else logging.DEBUG
            log.log(level, "%s: %s; retrying in %.1fs", name, exc, backoff)
        on_lost()
        stopping.wait(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
