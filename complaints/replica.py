"""Optional read scaling: console lists, analytics, exports and API reads from a streaming replica.

Set `DATABASE_REPLICA_URL` to a PostgreSQL hot standby of `DATABASE_URL`. A view marked with
`@reads_from_replica` then sends its plain SELECTs there; everything else stays on the primary:
writes (flushes, bulk UPDATE/INSERT/DELETE, text statements), `SELECT ... FOR UPDATE`, every
unmarked view, jobs and commands.

Read-your-own-writes: after a request that committed a write, the primary's WAL position
(`pg_current_wal_lsn()`) is kept for the writer: in the session cookie of a signed-in person, in
the shared cache under the key's id for an API key (API clients send no cookie). A marked read
goes to the replica only once the replica has replayed up to it (`pg_last_wal_replay_lsn()`),
else to the primary; if the writer's position cannot be read (the cache is down), to the
primary. Other users may see the replica's lag (usually milliseconds), never the writer.

Every API GET is a marked read (`complaints.api.auth` marks them once authenticated): no API
GET writes.
"""

from __future__ import annotations

import functools
import logging

from flask import Flask, current_app, g, has_request_context, session
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_ENGINE = "anxin_replica"
_LSN = "_wal"  # session cookie key: the primary's WAL position after this user's last write
_KEY_LSN = "replica-wal:key:{}"  # the same for an API key, in the shared cache
_KEY_LSN_SECONDS = 3600  # longer than any replica lag worth waiting for
_UNKNOWN = object()
_WROTE = "anxin_wrote"
# What the replica has replayed, or (not in recovery: the URL names a primary) what it wrote.
_REPLAYED = text(
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
    " ELSE pg_current_wal_lsn() END >= CAST(:lsn AS pg_lsn)"
)


def reads_from_replica(view):
    """Mark a read-only view (a list, a report, an export) as replica-safe."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        mark_replica_safe()
        return view(*args, **kwargs)

    return wrapper


def mark_replica_safe() -> None:
    """This request only reads: its plain SELECTs may go to the replica."""
    g.anxin_replica = "asked"


def _api_key_id() -> int | None:
    principal = g.get("api_principal")
    return principal.key_id if principal is not None else None


def _last_write():
    """The writer's last WAL position: None (no write to wait for) or _UNKNOWN."""
    key_id = _api_key_id()
    if key_id is None:
        return session.get(_LSN)
    from complaints.extensions import cache

    try:
        return cache.get(_KEY_LSN.format(key_id))
    except Exception:  # the cache's store is down: the primary is always right
        log.warning("replica: cannot read API key %s's last write; reading the primary", key_id)
        return _UNKNOWN


def _keep_last_write(lsn: str | None) -> None:
    key_id = _api_key_id()
    if key_id is None:
        if lsn is None:
            session.pop(_LSN, None)
        else:
            session[_LSN] = lsn
        return
    from complaints.extensions import cache

    key = _KEY_LSN.format(key_id)
    try:
        if lsn is None:
            cache.delete(key)
        else:
            cache.set(key, lsn, timeout=_KEY_LSN_SECONDS)
    except Exception:
        log.warning("replica: cannot keep API key %s's last write", key_id)


def replica_engine():
    return current_app.extensions.get(_ENGINE)


class RoutingSession(FlaskSession):
    """Flask-SQLAlchemy's session, sending a marked view's plain SELECTs to the replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and not self._flushing and _is_plain_select(clause) and _use_replica():
            return replica_engine()
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def _is_plain_select(clause) -> bool:
    return bool(getattr(clause, "is_select", False)) and (
        getattr(clause, "_for_update_arg", None) is None
    )


def _use_replica() -> bool:
    if not has_request_context():
        return False
    decision = g.get("anxin_replica")
    if decision == "asked":
        decision = g.anxin_replica = _caught_up()
    return decision is True


def _caught_up() -> bool:
    """True when the replica is there and has replayed this user's last write."""
    engine = replica_engine()
    if engine is None:
        return False
    lsn = _last_write()
    if lsn is _UNKNOWN:
        return False
    if lsn is None:
        return True
    with engine.connect() as connection:
        replayed = connection.execute(_REPLAYED, {"lsn": lsn}).scalar()
    if replayed:
        _keep_last_write(None)
    return bool(replayed)


def _note_write(session_: Session, *_args) -> None:
    session_.info[_WROTE] = True


def _note_bulk_write(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _after_commit(session_: Session) -> None:
    if session_.info.pop(_WROTE, False) and has_request_context():
        g.anxin_wrote = True


def _after_rollback(session_: Session) -> None:
    session_.info.pop(_WROTE, None)


def _remember_position(response):
    """After a committed write, keep where the primary's WAL was (for this user's next read)."""
    if g.pop("anxin_wrote", False) and replica_engine() is not None:
        from complaints.extensions import db

        with db.engine.connect() as connection:
            _keep_last_write(connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar())
    return response


def register_replica(app: Flask) -> None:
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    # The primary's options (pre-ping, parallel query setting): the same reads run on both.
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    app.extensions[_ENGINE] = create_engine(url, **options)
    for name, listener in (
        ("after_flush", _note_write),
        ("do_orm_execute", _note_bulk_write),
        ("after_commit", _after_commit),
        ("after_rollback", _after_rollback),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    app.after_request(_remember_position)
