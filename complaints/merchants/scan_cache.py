"""The rendered scan page, shared between tourists until something it shows changes.

Every tourist at every counter loads the scan page, so its HTML is kept in the cache (Redis when
`REDIS_URL` is set). A kept page is never stale on purpose: it carries the *version tokens* it was
rendered under, and a write that changes anything the page shows replaces the token, so the next
scan renders afresh. Tokens are random, not counters, so a token evicted from Redis can never come
back with an old value and revive a stale page: a missing token is always a miss.

- `scanv:e:<enterprise id>`: the merchant's standing, name, outlets, cases (filed or moved), grade.
- `scanv:all`: bulk writes whose rows we cannot see (a recompute, a bulk `UPDATE enterprises`).

Writes are noticed in the SQLAlchemy session, not in each service: `after_flush` collects the
enterprises touched by ORM changes to the tables below, `do_orm_execute` notices bulk UPDATE/DELETE
statements on them, and only `after_commit` drops the tokens (a rolled back write changes nothing
and a concurrent render that read before the commit stores a page under a token that is gone).
Code that writes these tables with raw SQL calls `mark_enterprise_changed` itself.

Time changes the page too (a credit entry expires, a complaint leaves the 12-month window): the
page is kept only until `Standing.changes_at`, and at most SCAN_CACHE_SECONDS.
"""

from __future__ import annotations

import functools
import gzip
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

import brotli
from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from complaints.extensions import cache

ALL_KEY = "scanv:all"
_STALE = "anxin_scan_stale"  # session.info key: enterprise ids (or ALL) changed in this transaction
ALL = "all"
# Tables whose rows the scan page shows (or counts), and how a row names its enterprise.
_WATCHED_TABLES = {"enterprises", "outlets", "merchant_scores", "cases"}
# Process-local: which enterprise an outlet code belongs to, so a hit costs one cache round trip.
_enterprise_of_code: dict[str, int] = {}
_MEMO_LIMIT = 50_000


log = logging.getLogger(__name__)


def _tolerant(fallback):
    """The cache is a help, never a reason to fail: without it a scan renders from the
    database, and a commit that could not drop its tokens has still happened."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except (RedisError, OSError) as exc:
                log.warning("scan page cache unavailable in %s: %s", function.__name__, exc)
                return fallback(*args, **kwargs) if callable(fallback) else fallback

        return wrapper

    return decorate


def enterprise_key(enterprise_id: int) -> str:
    return f"scanv:e:{enterprise_id}"


@dataclass(frozen=True)
class KeptPage:
    enterprise_id: int
    tokens: tuple[str, str]  # (enterprise token, all token) it was rendered under
    fresh_until: datetime | None
    bodies: dict[str, bytes]  # the HTML as is ("identity"), and brotli and gzip compressed


@_tolerant(None)
def lookup(page_key: str, outlet_code: str, now: datetime) -> dict[str, bytes] | None:
    """The kept page if every token it was rendered under is still current, else None."""
    enterprise_id = _enterprise_of_code.get(outlet_code)
    if enterprise_id is None:
        kept = cache.get(page_key)
        if not isinstance(kept, KeptPage):
            return None
        _remember(outlet_code, kept.enterprise_id)
        tokens = tuple(cache.get_many(enterprise_key(kept.enterprise_id), ALL_KEY))
    else:
        kept, *tokens = cache.get_many(page_key, enterprise_key(enterprise_id), ALL_KEY)
        if not isinstance(kept, KeptPage):
            return None
        if kept.enterprise_id != enterprise_id:  # the outlet moved to another enterprise
            tokens = cache.get_many(enterprise_key(kept.enterprise_id), ALL_KEY)
    if tuple(tokens) != kept.tokens or None in kept.tokens:
        return None
    if kept.fresh_until is not None and now >= kept.fresh_until:
        return None
    return kept.bodies


@dataclass(frozen=True)
class Render:
    """The tokens read before a render's first query; a write committed later drops them."""

    enterprise_id: int
    tokens: tuple[str, str]


@_tolerant(None)
def before_render(outlet_code: str) -> Render | None:
    """Read (creating if missing) the tokens the page about to be rendered will be kept under.

    Only when this process already knows the outlet's enterprise: the tokens must be read before
    the page reads the database, or a write committed in between would be kept as current. The
    first render of an outlet in a process only learns the enterprise.
    """
    enterprise_id = _enterprise_of_code.get(outlet_code)
    if enterprise_id is None:
        return None
    keys = (enterprise_key(enterprise_id), ALL_KEY)
    tokens = []
    for key, token in zip(keys, cache.get_many(*keys), strict=True):
        if token is None:
            token = secrets.token_hex(8)
            if not cache.add(key, token, timeout=0):
                token = cache.get(key)
        tokens.append(token)
    return Render(enterprise_id, (tokens[0], tokens[1]))


def keep(
    page_key: str,
    outlet_code: str,
    render: Render | None,
    enterprise_id: int,
    fresh_until: datetime | None,
    html: str,
) -> dict[str, bytes]:
    """Keep the page (compressed once here, not on every hit) if it was rendered under tokens
    of the enterprise it shows; the bodies to answer with."""
    identity = html.encode()
    if render is None or render.enterprise_id != enterprise_id or None in render.tokens:
        _remember(outlet_code, enterprise_id)
        return {"identity": identity}
    bodies = {
        "identity": identity,
        "br": brotli.compress(identity, quality=5),
        "gzip": gzip.compress(identity, compresslevel=6, mtime=0),
    }
    _store(page_key, KeptPage(enterprise_id, render.tokens, fresh_until, bodies))
    return bodies


@_tolerant(None)
def _store(page_key: str, page: KeptPage) -> None:
    cache.set(page_key, page, timeout=current_app.config["SCAN_CACHE_SECONDS"])


def _remember(outlet_code: str, enterprise_id: int) -> None:
    if len(_enterprise_of_code) >= _MEMO_LIMIT:
        _enterprise_of_code.clear()
    _enterprise_of_code[outlet_code] = enterprise_id


def mark_enterprise_changed(session: Session, enterprise_id: int | str) -> None:
    """Drop the merchant's kept scan pages when this session's transaction commits."""
    session.info.setdefault(_STALE, set()).add(enterprise_id)


def _collect_changes(session: Session, _flush_context) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(instance, "__tablename__", None)
        if table not in _WATCHED_TABLES:
            continue
        enterprise_id = instance.id if table == "enterprises" else instance.enterprise_id
        if enterprise_id is not None:
            mark_enterprise_changed(session, enterprise_id)


def _notice_bulk_writes(state):
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in _WATCHED_TABLES:
        return None
    if state.is_insert:
        # A Core INSERT (a filing written in one statement): its rows name their enterprise.
        rows = state.parameters if isinstance(state.parameters, list) else [state.parameters]
        named = [row.get("enterprise_id") for row in rows if isinstance(row, dict)]
        for enterprise_id in named if named and None not in named else [ALL]:
            mark_enterprise_changed(state.session, enterprise_id)
        return None
    # A conditional UPDATE that matched nothing (an agreeing trusted flag) changes no page.
    result = state.invoke_statement()
    if getattr(result, "rowcount", 1) != 0:
        mark_enterprise_changed(state.session, ALL)
    return result


@_tolerant(None)
def _drop_tokens(session: Session) -> None:
    changed = session.info.pop(_STALE, None)
    if not changed or not has_app_context() or not current_app.config["SCAN_CACHE_SECONDS"]:
        return
    keys = [ALL_KEY if e == ALL else enterprise_key(e) for e in changed]
    cache.delete_many(*keys)


def _forget(session: Session, *_args) -> None:
    session.info.pop(_STALE, None)


def install() -> None:
    """Listen to every session once (idempotent: tests build many apps in one process)."""
    for name, listener in (
        ("after_flush", _collect_changes),
        ("do_orm_execute", _notice_bulk_writes),
        ("after_commit", _drop_tokens),
        ("after_rollback", _forget),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
