"""Which agency receives a case: configurable rules, most specific wins, jurisdiction default."""

from sqlalchemy import or_, select

from complaints.agencies.models import Agency, RoutingRule
from complaints.categories import Category
from complaints.extensions import db
from complaints.geo.models import Division


def division_chain(division_code: str) -> list[str]:
    """The division and its ancestors, most specific first: district, city, province."""
    chain = []
    code: str | None = division_code
    while code:
        chain.append(code)
        code = db.session.scalar(select(Division.parent_code).where(Division.code == code))
    return chain


def _specificity(rule: RoutingRule, chain: list[str]) -> tuple[int, int, int]:
    # A division rule outranks a category rule; a deeper division outranks a shallower one.
    depth = len(chain) - chain.index(rule.division_code) if rule.division_code else 0
    return (depth, 1 if rule.category else 0, -rule.id)


def route_agency(division_code: str, category: Category) -> Agency | None:
    chain = division_chain(division_code)
    rules = db.session.scalars(
        select(RoutingRule).where(
            or_(RoutingRule.division_code.is_(None), RoutingRule.division_code.in_(chain)),
            or_(RoutingRule.category.is_(None), RoutingRule.category == category),
        )
    ).all()
    if rules:
        return max(rules, key=lambda rule: _specificity(rule, chain)).agency
    return jurisdiction_agency(division_code)


def jurisdiction_agency(division_code: str) -> Agency | None:
    division = db.session.get(Division, division_code)
    if division is None:
        return None
    return db.session.scalar(select(Agency).where(Agency.division_code == division.city_code))
