"""Routing: the most specific rule wins; without one, the outlet's city or county regulator."""

from sqlalchemy import select

from complaints.agencies.models import Agency, RoutingRule
from complaints.agencies.routing import route_agency
from complaints.categories import Category
from complaints.extensions import db


def _agency(slug: str) -> Agency:
    return db.session.scalar(select(Agency).where(Agency.slug == slug))


def _rule(division, category, slug):
    db.session.add(
        RoutingRule(
            division_code=division, category=category, agency_id=_agency(slug).id, note="test"
        )
    )
    db.session.flush()


def test_default_is_the_jurisdiction_of_the_outlet(seeded):
    assert route_agency("460203", Category.SHOPPING).slug == "amr-460200"
    assert route_agency("460106", Category.CATERING).slug == "amr-460100"
    assert route_agency("469028", Category.ATTRACTIONS).slug == "amr-469028"


def test_most_specific_rule_wins(seeded):
    _rule(None, Category.TRAVEL_AGENCY, "amr-460100")  # any division, one category
    _rule("460200", None, "amr-469002")  # a city, any category
    _rule("460203", Category.SHOPPING, "amr-469006")  # a district and a category
    assert route_agency("460203", Category.SHOPPING).slug == "amr-469006"
    assert route_agency("460203", Category.CATERING).slug == "amr-469002"  # city rule
    assert route_agency("460204", Category.TRAVEL_AGENCY).slug == "amr-469002"  # division first
    assert route_agency("469001", Category.TRAVEL_AGENCY).slug == "amr-460100"
    assert route_agency("469001", Category.CATERING).slug == "amr-469001"  # no rule: default


def test_a_province_wide_category_rule_loses_to_a_district_rule(seeded):
    _rule("460000", Category.LODGING, "amr-460100")
    _rule("460202", None, "amr-469028")
    assert route_agency("460202", Category.LODGING).slug == "amr-469028"
    assert route_agency("460205", Category.LODGING).slug == "amr-460100"
