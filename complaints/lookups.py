"""Reference data a filing reads (outlets, enterprises, divisions, routing, agencies) and the
working-day calendar every deadline reads, cached per process and invalidated on change, never
by time.

A cached row is a detached copy, merged into the caller's session without SQL
(`Session.merge(load=False)`), so relationships between cached rows resolve from the identity
map and the request sends no SELECT for them. Any change to a cached table, whether by the ORM
unit of work or by an UPDATE/DELETE statement through the session, empties the cache of this
process when its transaction commits; on PostgreSQL the same transaction sends
`NOTIFY anxin_lookups`, delivered at commit to a listener thread in every other process
(web workers, RQ workers), which empties theirs. While that listener is not connected the cache
is bypassed, so a missed notification can never leave a stale row behind. SQLite is the
embedded single-process mode: local invalidation is all there is.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable
from typing import ClassVar

from flask import current_app, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from complaints.extensions import db

log = logging.getLogger(__name__)

CHANNEL = "anxin_lookups"
_MISSING = object()


def _cached_classes() -> tuple[type, ...]:
    from complaints.agencies.models import Agency, RoutingRule
    from complaints.geo.models import Division
    from complaints.hooks_out.models import WebhookEndpoint
    from complaints.merchants.models import Enterprise, Outlet
    from complaints.policies.models import PolicyVersion
    from complaints.timers.models import CalendarOverride, CalendarYear

    return (
        Outlet,
        Enterprise,
        Division,
        Agency,
        RoutingRule,
        CalendarOverride,
        CalendarYear,
        PolicyVersion,
        WebhookEndpoint,
    )


class LookupCache:
    # Every cache in this process: a commit empties them all at once, so several apps in one
    # process (tests, a CLI inside a shell) never disagree.
    everywhere: ClassVar[weakref.WeakSet[LookupCache]] = weakref.WeakSet()

    def __init__(self, database_url: str, *, listen: bool) -> None:
        LookupCache.everywhere.add(self)
        self.database_url = database_url
        self.entries: dict[tuple, object] = {}
        self.lock = threading.Lock()
        self.needs_listener = listen
        self.listening = False
        self.listener_pid: int | None = None
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def stop(self) -> None:
        """End the listener (its database is about to go away): bypass the cache from now on."""
        self.stopping.set()
        self.listening = False
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def usable(self) -> bool:
        if not self.needs_listener:
            return True
        if self.stopping.is_set():
            return False
        if self.listener_pid != os.getpid():  # a fork: the parent's thread did not come along
            self.listener_pid = os.getpid()
            self.listening = False
            self.entries = {}
            self.thread = threading.Thread(target=self._listen, name="anxin-lookups", daemon=True)
            self.thread.start()
        return self.listening

    def _listen(self) -> None:
        import psycopg

        url = self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.clear()  # whatever changed while we were not listening
                    self.listening, backoff = True, 0.5
                    while not self.stopping.is_set():  # a second at a time, to notice stop()
                        for _notice in connection.notifies(timeout=1.0):
                            self.clear()
            except Exception as exc:  # any failure: bypass the cache until listening again
                if self.stopping.is_set():
                    break
                level = logging.WARNING if backoff <= 1 else logging.DEBUG  # say it once
                log.log(level, "lookup cache listener: %s; retrying in %.1fs", exc, backoff)
            self.listening = False
            self.clear()
            self.stopping.wait(backoff)
            backoff = min(backoff * 2, 30)
        self.listening = False


def stop_listeners(database: str | None = None) -> None:
    """Stop the listeners of this process's caches (of one database, when named): before the
    database is dropped (tests, benchmarks), which they would try again every 30 s for good."""
    from sqlalchemy.engine import make_url

    for cache in list(LookupCache.everywhere):
        if database is None or make_url(cache.database_url).database == database:
            cache.stop()


def _cache() -> LookupCache:
    cache = current_app.extensions.get("anxin_lookups")
    if cache is None:
        url = str(db.engine.url.render_as_string(hide_password=False))
        listen = db.engine.dialect.name == "postgresql" and current_app.config.get(
            "LOOKUP_CACHE_LISTEN", True
        )
        cache = current_app.extensions["anxin_lookups"] = LookupCache(url, listen=listen)
    return cache


def clear() -> None:
    """Empty this process's cache (tests that rewrite tables beneath the ORM call it)."""
    if not has_app_context():
        return
    cache = current_app.extensions.get("anxin_lookups")
    if cache is not None:
        cache.clear()


def _detached_copy(instance):
    mapper = inspect(instance).mapper
    copy = mapper.class_manager.new_instance()
    for attribute in mapper.column_attrs:
        set_committed_value(copy, attribute.key, getattr(instance, attribute.key))
    make_transient_to_detached(copy)
    return copy


def cached(key: tuple, load: Callable[[], object | None]):
    """The row `load` finds (in the caller's session), served from the cache next time."""
    cache = _cache()
    if not current_app.config.get("LOOKUP_CACHE", True) or not cache.usable():
        return load()
    copy = cache.entries.get(key, _MISSING)
    if copy is _MISSING:
        found = load()
        cache.entries[key] = _detached_copy(found) if found is not None else None
        return found
    if copy is None:
        return None
    merged = db.session.merge(copy, load=False)
    # The identity map holds rows weakly: keep them for the session's life, so that a
    # relationship to a cached row (outlet.enterprise) resolves from the map, without SQL.
    db.session.info.setdefault("lookups_held", []).append(merged)
    return merged


def value(key: tuple, compute: Callable[[], object]):
    """A plain value computed from cached tables (never an ORM row), shared as it is."""
    cache = _cache()
    if not current_app.config.get("LOOKUP_CACHE", True) or not cache.usable():
        return compute()
    found = cache.entries.get(key, _MISSING)
    if found is _MISSING:
        found = cache.entries[key] = compute()
    return found


# The lookups filing and scanning use.


def outlet_by_code(code: str):
    """The outlet, with its enterprise in the session too (outlet.enterprise costs no SQL)."""
    from complaints.merchants.models import Enterprise, Outlet

    outlet = cached(
        ("outlet", code), lambda: db.session.scalar(select(Outlet).where(Outlet.code == code))
    )
    if outlet is not None:
        get(Enterprise, outlet.enterprise_id)
    return outlet


def get(model, ident):
    return cached((model.__name__, ident), lambda: db.session.get(model, ident))


def routed_agency(division_code: str, category):
    from complaints.agencies.routing import route_agency

    return cached(
        ("route", division_code, str(category)), lambda: route_agency(division_code, category)
    )


# Invalidation.


def _note_change(session: Session) -> None:
    first = not session.info.get("lookups_changed")
    session.info["lookups_changed"] = True
    if first and session.get_bind().dialect.name == "postgresql":
        # Transactional: delivered to the other processes when (and only if) this commits.
        session.connection().exec_driver_sql(f"NOTIFY {CHANNEL}")


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    classes = _cached_classes()
    changed = (
        *session.new,
        *session.deleted,
        *(instance for instance in session.dirty if session.is_modified(instance)),
    )
    if any(isinstance(instance, classes) for instance in changed):
        _note_change(session)


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, _cached_classes()):
        _note_change(state.session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("lookups_changed", False):
        for cache in list(LookupCache.everywhere):
            cache.clear()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("lookups_changed", None)
