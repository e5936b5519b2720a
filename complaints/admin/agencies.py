"""Agencies and routing rules, edited by admins and audited; the routing preview and the
divisions a complaint could not be routed from."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from complaints.admin.audit import Actor, changed_fields, record_change
from complaints.admin.registry import RegistryError
from complaints.agencies.models import Agency, RoutingRule
from complaints.agencies.routing import route_agency
from complaints.categories import Category
from complaints.extensions import db
from complaints.geo.models import Division

AGENCY_FIELDS = ("name_zh", "name_en", "division_code", "notify_email")


def _agency_snapshot(agency: Agency) -> dict:
    return {name: getattr(agency, name) for name in AGENCY_FIELDS}


def create_agency(slug: str, values: dict, actor: Actor, reason: str) -> Agency:
    if db.session.scalar(select(Agency.id).where(Agency.slug == slug)):
        raise RegistryError("slug", _l("Another agency already has this short name."))
    agency = Agency(slug=slug, **values)
    db.session.add(agency)
    db.session.flush()
    after = {"slug": slug, **_agency_snapshot(agency)}
    record_change(actor, "agency", slug, "create", before=None, after=after, reason=reason)
    return agency


def update_agency(agency: Agency, values: dict, actor: Actor, reason: str) -> bool:
    before, after = changed_fields(_agency_snapshot(agency), values)
    if not after:
        return False
    for name, value in after.items():
        setattr(agency, name, value)
    db.session.flush()
    record_change(actor, "agency", agency.slug, "update", before=before, after=after, reason=reason)
    return True


def _rule_snapshot(rule: RoutingRule) -> dict:
    return {
        "division_code": rule.division_code,
        "category": rule.category.value if rule.category else None,
        "agency": rule.agency.slug,
        "note": rule.note,
    }


def add_rule(
    division_code: str | None,
    category: Category | None,
    agency: Agency,
    note: str,
    actor: Actor,
    reason: str,
) -> RoutingRule:
    rule = RoutingRule(division_code=division_code, category=category, agency=agency, note=note)
    db.session.add(rule)
    db.session.flush()
    record_change(
        actor,
        "routing_rule",
        str(rule.id),
        "create",
        before=None,
        after=_rule_snapshot(rule),
        reason=reason,
    )
    return rule


def remove_rule(rule: RoutingRule, actor: Actor, reason: str) -> None:
    before, rule_id = _rule_snapshot(rule), rule.id
    db.session.delete(rule)
    db.session.flush()
    record_change(
        actor, "routing_rule", str(rule_id), "delete", before=before, after=None, reason=reason
    )


@dataclass(frozen=True)
class RoutePreview:
    division: Division
    category: Category
    agency: Agency | None


def preview(division_code: str, category: Category) -> RoutePreview:
    return RoutePreview(
        db.session.get(Division, division_code), category, route_agency(division_code, category)
    )


@dataclass(frozen=True)
class Unrouted:
    division: Division
    categories: list[Category]


def unrouted_divisions() -> list[Unrouted]:
    """Divisions from which a complaint of some category would reach no agency at all (the
    province itself holds no outlet: imports and forms place outlets in a city or county)."""
    found = []
    statement = select(Division).where(Division.parent_code.is_not(None)).order_by(Division.code)
    for division in db.session.scalars(statement):
        missing = [c for c in Category if route_agency(division.code, c) is None]
        if missing:
            found.append(Unrouted(division, missing))
    return found
