"""Counting scans of outlet codes: the denominator of "complaints per 1,000 scans" and the
signal behind the codes-removed alert."""

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite

from complaints.analytics.models import ScanCount
from complaints.analytics.rollups import local_day
from complaints.extensions import db


def count_scan(outlet_id: int, now: datetime) -> None:
    """One atomic upsert on the outlet's row for the day. Flushes; the caller commits."""
    table = ScanCount.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(day=local_day(now), outlet_id=outlet_id, n=1)
        .on_conflict_do_update(
            index_elements=[table.c.day, table.c.outlet_id], set_={"n": table.c.n + 1}
        )
    )
    db.session.execute(statement)
