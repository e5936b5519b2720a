"""Human-readable case numbers: HN-<city>-<local date>-<daily sequence>."""

from datetime import datetime

from sqlalchemy import String, cast, func, literal
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.elements import ColumnElement

from complaints.cases.models import CaseNumberSequence
from complaints.clock import LOCAL_ZONE
from complaints.extensions import db

WIDTH = 6


def number_prefix(city_code: str, now: datetime) -> str:
    return f"{city_code}-{now.astimezone(LOCAL_ZONE).strftime('%Y%m%d')}"


def next_case_number(city_code: str, now: datetime) -> str | ColumnElement[str]:
    """The next number, as a SQL expression for the case's INSERT on PostgreSQL.

    PostgreSQL: nextval() on the day's sequence (migration pipeline_01) inside the filing's own
    INSERT, so no statement, transaction or row lock of its own. A sequence never takes a
    number back: a failed filing leaves a gap, which case numbers may have. SQLite (a single
    writer anyway): an atomic upsert of the day's counter row in the filing's transaction.
    """
    prefix = number_prefix(city_code, now)
    if db.session.get_bind().dialect.name == "postgresql":
        drawn = func.anxin_next_case_number(prefix)
        return literal(f"HN-{prefix}-") + func.lpad(cast(drawn, String), WIDTH, "0")
    return f"HN-{prefix}-{_draw_sqlite(prefix):0{WIDTH}d}"


def _draw_sqlite(prefix: str) -> int:
    table = CaseNumberSequence.__table__
    statement = (
        sqlite.insert(table)
        .values(prefix=prefix, last_value=1)
        .on_conflict_do_update(
            index_elements=[table.c.prefix], set_={"last_value": table.c.last_value + 1}
        )
        .returning(table.c.last_value)
    )
    return db.session.execute(statement).scalar_one()
