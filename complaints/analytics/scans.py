"""Counting scans of outlet codes: the denominator of "complaints per 1,000 scans" and the
signal behind the codes-removed alert."""

import logging
from collections import Counter
from datetime import datetime
from threading import Lock
from time import monotonic

from flask import current_app
from sqlalchemy import literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from complaints.analytics.models import ScanCount
from complaints.analytics.rollups import local_day
from complaints.extensions import db
from complaints.merchants.models import Outlet

log = logging.getLogger(__name__)


# Tourist scans arrive at the busiest page, mostly answered from the scan cache without a
# database statement: counting each one with its own upsert and commit would cost the page its
# speed. They are counted in this process's memory and written, a batch of upserts in one
# transaction, at most every SCAN_COUNT_FLUSH_SECONDS (0 in tests: at once). A process that dies
# loses at most those seconds of counts, which a rate per 1,000 scans does not notice.
_pending: Counter[str] = Counter()
_lock = Lock()
_last_flush = [0.0]


def note_scan(outlet_code: str, now: datetime) -> None:
    with _lock:
        _pending[outlet_code] += 1
        due = monotonic() - _last_flush[0] >= current_app.config["SCAN_COUNT_FLUSH_SECONDS"]
        if not due:
            return
        batch = dict(_pending)
        _pending.clear()
        _last_flush[0] = monotonic()
    try:
        _write(batch, now)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not write %d outlets' scan counts", len(batch))


def _write(batch: dict[str, int], now: datetime) -> None:
    table = ScanCount.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    day = local_day(now)
    for code, n in batch.items():
        source = select(literal(day), Outlet.id, literal(n)).where(Outlet.code == code)
        statement = (
            dialect.insert(table)
            .from_select(["day", "outlet_id", "n"], source)
            .on_conflict_do_update(
                index_elements=[table.c.day, table.c.outlet_id],
                set_={"n": table.c.n + literal(n)},
            )
        )
        db.session.execute(statement)
