"""Creating and editing one enterprise or outlet on a screen, audited. Services flush."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from complaints.admin.audit import Actor, changed_fields, record_change
from complaints.admin.outlet_import import fresh_codes
from complaints.categories import Category
from complaints.extensions import db
from complaints.merchants.models import Enterprise, Outlet

OUTLET_FIELDS = (
    "name_zh",
    "name_en",
    "category",
    "division_code",
    "address",
    "latitude",
    "longitude",
)
ENTERPRISE_FIELDS = (
    "name_zh",
    "name_en",
    "division_code",
    "contact_phone",
    "contact_email",
    "answers_first",
    "notify_language",
    "uscc_override_reason",
)


class RegistryError(ValueError):
    """A change refused for a reason about the data (shown next to the field named)."""

    def __init__(self, field: str, message):
        super().__init__(message)
        self.field = field
        self.message = message


def _snapshot(thing, fields) -> dict:
    values = {}
    for name in fields:
        value = getattr(thing, name)
        values[name] = value.value if isinstance(value, Category) else value
    return values


def create_outlet(enterprise: Enterprise, values: dict, actor: Actor, reason: str) -> Outlet:
    _refuse_duplicate_name(enterprise.id, values["name_zh"], None)
    outlet = Outlet(enterprise_id=enterprise.id, code=fresh_codes(1)[0], **values)
    db.session.add(outlet)
    db.session.flush()
    after = {**_snapshot(outlet, OUTLET_FIELDS), "uscc": enterprise.uscc}
    record_change(actor, "outlet", outlet.code, "create", before=None, after=after, reason=reason)
    return outlet


def update_outlet(outlet: Outlet, values: dict, actor: Actor, reason: str) -> bool:
    """Apply ``values``; False (and nothing recorded) when nothing changed."""
    _refuse_duplicate_name(outlet.enterprise_id, values["name_zh"], outlet.id)
    old = _snapshot(outlet, OUTLET_FIELDS)
    new = {k: (v.value if isinstance(v, Category) else v) for k, v in values.items()}
    before, after = changed_fields(old, new)
    if not after:
        return False
    for name, value in values.items():
        setattr(outlet, name, value)
    db.session.flush()
    record_change(actor, "outlet", outlet.code, "update", before=before, after=after, reason=reason)
    return True


def create_enterprise(values: dict, actor: Actor, reason: str) -> Enterprise:
    if db.session.scalar(select(Enterprise.id).where(Enterprise.uscc == values["uscc"])):
        raise RegistryError("uscc", _l("An enterprise with this code already exists."))
    enterprise = Enterprise(**values)
    if values.get("uscc_override_reason"):
        enterprise.uscc_override_by = actor.label
    db.session.add(enterprise)
    db.session.flush()
    after = {"uscc": enterprise.uscc, **_snapshot(enterprise, ENTERPRISE_FIELDS)}
    record_change(
        actor, "enterprise", enterprise.uscc, "create", before=None, after=after, reason=reason
    )
    return enterprise


def update_enterprise(enterprise: Enterprise, values: dict, actor: Actor, reason: str) -> bool:
    before, after = changed_fields(_snapshot(enterprise, ENTERPRISE_FIELDS), values)
    if not after:
        return False
    for name, value in after.items():
        setattr(enterprise, name, value)
    if "uscc_override_reason" in after:
        enterprise.uscc_override_by = actor.label if after["uscc_override_reason"] else None
    db.session.flush()
    record_change(
        actor, "enterprise", enterprise.uscc, "update", before=before, after=after, reason=reason
    )
    return True


def _refuse_duplicate_name(enterprise_id: int, name_zh: str, outlet_id: int | None) -> None:
    # Imports match outlets by (enterprise, Chinese name): two with one name would be ambiguous.
    clash = db.session.scalar(
        select(Outlet.id).where(Outlet.enterprise_id == enterprise_id, Outlet.name_zh == name_zh)
    )
    if clash is not None and clash != outlet_id:
        raise RegistryError("name_zh", _l("This enterprise already has an outlet with this name."))
