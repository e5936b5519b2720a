"""Builders for API tests: keys made by the real service, cases filed and routed for real."""

from datetime import timedelta

from sqlalchemy import select

from complaints.accounts.models import AccountRole
from complaints.apikeys.services import create_key
from complaints.cases.services import phone_verified
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Enterprise
from tests.app.helpers import file_case, outlet_named

SANYA = "amr-460200"
HAIKOU = "amr-460100"
ALL_REGULATOR_SCOPES = ("cases:read", "cases:write", "credit:read", "webhooks")


def key_for(*, agency=None, uscc=None, partner=None, scopes=ALL_REGULATOR_SCOPES, role=None, **kw):
    _key, raw = create_key(
        name="test key",
        scopes=scopes,
        created_by="test",
        agency_slug=agency,
        uscc=uscc,
        partner=partner,
        role=AccountRole(role) if role else None,
        **kw,
    )
    db.session.commit()
    return raw


def auth(raw: str, **headers) -> dict:
    return {"Authorization": f"Bearer {raw}", **headers}


def ahhai():
    return outlet_named("Ah Hai")


def ahhai_uscc() -> str:
    return db.session.scalar(select(Enterprise.uscc).where(Enterprise.id == ahhai().enterprise_id))


def routed_case(outlet=None, *, days_ago: int = 0, phone="+8613812345678"):
    """A filed complaint whose phone was verified, so it went on to the merchant."""
    outlet = outlet or ahhai()
    now = utcnow() - timedelta(days=days_ago)
    case = file_case(outlet, now=now, phone=phone)
    phone_verified(case, now)
    db.session.commit()
    return case
