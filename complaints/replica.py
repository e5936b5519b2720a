"""Optional read scaling: console lists, analytics, exports and API reads from a streaming replica.

Set `DATABASE_REPLICA_URL` to a PostgreSQL hot standby of `DATABASE_URL`. A view marked with
`@reads_from_replica` then sends its plain SELECTs there; everything else stays on the primary:
writes (flushes, bulk UPDATE/INSERT/DELETE, text statements), `SELECT ... FOR UPDATE`, every
unmarked view, jobs and commands.

Read-your-own-writes: after a request that committed a write, the primary's WAL position
(`pg_current_wal_lsn()`) is kept in the user's session cookie; a marked view reads from the
replica only once the replica has replayed up to it (`pg_last_wal_replay_lsn()`), else from the
primary. Other users may see the replica's lag (usually milliseconds), never the writer.
"""

from __future__ import annotations

import functools

from flask import Flask, current_app, g, has_request_context, session
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

_ENGINE = "anxin_replica"
_LSN = "_wal"  # session cookie key: the primary's WAL position after this user's last write
_WROTE = "anxin_wrote"
# What the replica has replayed, or (not in recovery: the URL names a primary) what it wrote.
_REPLAYED = text(
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
    " ELSE pg_current_wal_lsn() END >= CAST(:lsn AS pg_lsn)"
)


def reads_from_replica(view):
    """Mark a read-only view (a list, a report, an export, an API read) as replica-safe."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.anxin_replica = "asked"
        return view(*args, **kwargs)

    return wrapper


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
    lsn = session.get(_LSN)
    if lsn is None:
        return True
    with engine.connect() as connection:
        replayed = connection.execute(_REPLAYED, {"lsn": lsn}).scalar()
    if replayed:
        session.pop(_LSN, None)
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
            session[_LSN] = connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar()
    return response


def register_replica(app: Flask) -> None:
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    options = {"pool_pre_ping": True}
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
