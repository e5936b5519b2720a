"""Demo merchant owners with a published password, for development and tests only."""

import logging
from functools import cache

from flask import current_app
from sqlalchemy import select

from complaints.accounts import passwords
from complaints.accounts.models import Account, AccountRole
from complaints.accounts.seed import DEMO_PASSWORD
from complaints.extensions import db
from complaints.merchants.models import Enterprise

log = logging.getLogger(__name__)

# (email, name, the enterprise's English name starts with)
DEMO_MERCHANT_ACCOUNTS = (
    ("owner.ahhai@anxin.demo", "Chen Hai (Ah Hai Seafood Kitchen)", "Ah Hai Seafood Kitchen"),
    ("owner.jewellery@anxin.demo", "Lin Yu (Yalong Bay Jewellery)", "Yalong Bay Jewellery"),
)


@cache
def _demo_hash(testing: bool) -> str:
    # Argon2 is slow on purpose; seeding runs before many tests. One hash per hash profile.
    return passwords.hash_password(DEMO_PASSWORD)


def seed_demo_merchant_accounts() -> list[Account]:
    """Add the missing demo owners. Refuses in production: the password is public."""
    if current_app.config.get("ANXIN_ENV") == "production":
        log.warning("refusing to seed demo merchant accounts in production: the password is public")
        return []
    existing = set(db.session.scalars(select(Account.email)))
    added = []
    for email, name, enterprise_name in DEMO_MERCHANT_ACCOUNTS:
        if email in existing:
            continue
        enterprise = db.session.scalar(
            select(Enterprise).where(Enterprise.name_en.startswith(enterprise_name)).limit(1)
        )
        if enterprise is None:
            continue
        account = Account(
            email=email,
            name=name,
            role=AccountRole.MERCHANT_OWNER,
            password_hash=_demo_hash(current_app.testing),
            enterprise_id=enterprise.id,
            language="zh",
        )
        db.session.add(account)
        added.append(account)
    db.session.flush()
    return added
