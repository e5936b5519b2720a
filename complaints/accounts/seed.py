"""Demo staff accounts with a published password, for development and tests only."""

import logging
from functools import cache

from flask import current_app
from sqlalchemy import select

from complaints.accounts import passwords
from complaints.accounts.models import Account, AccountRole
from complaints.agencies.models import Agency
from complaints.extensions import db

log = logging.getLogger(__name__)

DEMO_PASSWORD = "anxin-demo-2026"  # noqa: S105 — published in the README on purpose
SANYA, HAIKOU = "amr-460200", "amr-460100"

# (email, name, role, agency slug)
DEMO_ACCOUNTS = (
    ("handler.sanya@anxin.demo", "Li Na (Sanya handler)", AccountRole.HANDLER, SANYA),
    ("supervisor.sanya@anxin.demo", "Wang Jun (Sanya supervisor)", AccountRole.SUPERVISOR, SANYA),
    ("fund.sanya@anxin.demo", "Chen Mei (Sanya fund)", AccountRole.FUND_MANAGER, SANYA),
    ("handler.haikou@anxin.demo", "Zhao Lei (Haikou handler)", AccountRole.HANDLER, HAIKOU),
    ("admin@anxin.demo", "Anxin admin", AccountRole.ADMIN, SANYA),
    ("inspector.sanya@anxin.demo", "Chen Hao (Sanya inspector)", AccountRole.INSPECTOR, SANYA),
)


@cache
def _demo_hash(testing: bool) -> str:
    # One hash per process (and hash profile): seeding runs before many tests; argon2 is slow.
    return passwords.hash_password(DEMO_PASSWORD)


def seed_demo_accounts() -> list[Account]:
    """Add the missing demo accounts. Refuses in production: the password is public."""
    if current_app.config.get("ANXIN_ENV") == "production":
        log.warning("refusing to seed demo accounts in production: their password is public")
        return []
    agencies = {a.slug: a for a in db.session.scalars(select(Agency))}
    existing = set(db.session.scalars(select(Account.email)))
    added = []
    for email, name, role, slug in DEMO_ACCOUNTS:
        if email in existing or slug not in agencies:
            continue
        account = Account(
            email=email,
            name=name,
            role=role,
            password_hash=_demo_hash(current_app.testing),
            agency_id=agencies[slug].id,
            language="zh",
        )
        db.session.add(account)
        added.append(account)
    db.session.flush()
    return added
