"""Human-readable case numbers: HN-<city>-<local date>-<daily sequence>."""

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite

from complaints.cases.models import CaseNumberSequence
from complaints.clock import LOCAL_ZONE
from complaints.extensions import db


def next_case_number(city_code: str, now: datetime) -> str:
    day = now.astimezone(LOCAL_ZONE).strftime("%Y%m%d")
    prefix = f"{city_code}-{day}"
    # One atomic upsert: concurrent submissions in one city never draw the same number.
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    table = CaseNumberSequence.__table__
    statement = (
        dialect.insert(table)
        .values(prefix=prefix, last_value=1)
        .on_conflict_do_update(
            index_elements=[table.c.prefix], set_={"last_value": table.c.last_value + 1}
        )
        .returning(table.c.last_value)
    )
    value = db.session.execute(statement).scalar_one()
    return f"HN-{prefix}-{value:06d}"
