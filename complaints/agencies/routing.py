"""Which agency receives a case: the regulator where the outlet operates (SAMR Art. 12)."""

from sqlalchemy import select

from complaints.agencies.models import Agency
from complaints.extensions import db
from complaints.geo.models import Division


def agency_for_division(division_code: str) -> Agency | None:
    division = db.session.get(Division, division_code)
    if division is None:
        return None
    return db.session.scalar(select(Agency).where(Agency.division_code == division.city_code))
