"""Human-readable case numbers: HN-<city>-<local date>-<daily sequence>."""

from datetime import datetime, timedelta

from sqlalchemy import String, cast, func, literal, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.elements import ColumnElement

from complaints.cases.models import CaseNumberSequence
from complaints.clock import LOCAL_ZONE
from complaints.extensions import db

WIDTH = 6


def number_prefix(city_code: str, now: datetime) -> str:
    return f"{city_code}-{now.astimezone(LOCAL_ZONE).strftime('%Y%m%d')}"


def case_number_sql(prefix: ColumnElement[str]) -> ColumnElement[str]:
    """PostgreSQL: the next number as a SQL expression inside the case's own INSERT.

    nextval() on the day's sequence (migration pipeline_01), so no statement, transaction or
    row lock of its own. A sequence never takes a number back: a failed filing leaves a gap,
    which case numbers may have.
    """
    drawn = func.anxin_next_case_number(prefix)
    return literal("HN-") + prefix + literal("-") + func.lpad(cast(drawn, String), WIDTH, "0")


def draw_sqlite_case_number(prefix: str) -> str:
    """SQLite (a single writer anyway): an atomic upsert of the day's counter row in the
    filing's transaction."""
    table = CaseNumberSequence.__table__
    statement = (
        sqlite.insert(table)
        .values(prefix=prefix, last_value=1)
        .on_conflict_do_update(
            index_elements=[table.c.prefix], set_={"last_value": table.c.last_value + 1}
        )
        .returning(table.c.last_value)
    )
    return f"HN-{prefix}-{db.session.execute(statement).scalar_one():0{WIDTH}d}"


def drop_finished_day_sequences(now: datetime, keep_days: int = 2) -> int:
    """PostgreSQL keeps one small sequence per city and day; days long past are dropped (the
    tick calls this). Returns how many were dropped."""
    if db.session.get_bind().dialect.name != "postgresql":
        return 0
    oldest_kept = (now.astimezone(LOCAL_ZONE) - timedelta(days=keep_days)).strftime("%Y%m%d")
    names = db.session.scalars(
        text(
            "SELECT sequence_name FROM information_schema.sequences "
            "WHERE sequence_schema = current_schema() AND sequence_name LIKE 'case\\_no\\_%'"
        )
    ).all()
    old = [name for name in names if name.rsplit("_", 1)[-1] < oldest_kept]
    for name in old:
        db.session.execute(text(f'DROP SEQUENCE IF EXISTS "{name}"'))
    db.session.commit()
    return len(old)
