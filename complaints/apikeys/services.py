"""Creating, finding and revoking API keys. Flush only: the request or command commits.

A key looks like `anx_<prefix>_<secret>`; the prefix is stored in the clear (shown in lists),
the whole key only as a SHA-256 hash (it has 190 random bits, so a slow hash adds nothing).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from complaints.accounts.models import Account, AccountRole
from complaints.agencies.models import Agency
from complaints.apikeys.models import ApiKey, Scope
from complaints.extensions import db
from complaints.merchants.models import Enterprise

KEY_START = "anx_"
# last_used_at is a hint for people, not an audit: write it at most once a minute per key.
LAST_USE_RESOLUTION = timedelta(minutes=1)
MERCHANT_KEY_ROLE = AccountRole.MERCHANT_STAFF
MERCHANT_SCOPES = frozenset(
    {Scope.CASES_READ, Scope.CASES_WRITE, Scope.CREDIT_READ, Scope.WEBHOOKS}
)
PARTNER_SCOPES = frozenset({Scope.OPEN311, Scope.CREDIT_READ, Scope.WEBHOOKS})


class ApiKeyError(ValueError):
    """The key cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class ApiPrincipal:
    """What a request made with a key may reach: the same attributes the pages' scoped
    lookups read from a signed-in account (role, agency_id, enterprise_id, agency)."""

    key_id: int
    role: AccountRole | None
    agency_id: int | None
    enterprise_id: int | None
    partner: str | None
    scopes: frozenset[str]
    vouches_for_phone: bool = False
    account_id: int | None = None
    prefix: str = ""
    rate_limit_per_minute: int = 600

    @property
    def account(self) -> Account | None:
        return db.session.get(Account, self.account_id) if self.account_id else None

    @property
    def id(self) -> str:
        return f"apikey:{self.key_id}"

    @property
    def agency(self):
        return db.session.get(Agency, self.agency_id) if self.agency_id else None

    @property
    def tenant(self) -> str:
        if self.agency_id:
            return f"agency:{self.agency_id}"
        if self.enterprise_id:
            return f"enterprise:{self.enterprise_id}"
        return f"partner:{self.key_id}"


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_scopes(values) -> str:
    scopes = []
    for value in values:
        try:
            scopes.append(Scope(value).value)
        except ValueError as exc:
            known = ", ".join(s.value for s in Scope)
            raise ApiKeyError(f"unknown scope {value!r}; choose from {known}") from exc
    if not scopes:
        raise ApiKeyError("give at least one scope")
    return " ".join(sorted(set(scopes)))


def create_key(
    *,
    name: str,
    scopes,
    created_by: str,
    agency_slug: str | None = None,
    uscc: str | None = None,
    partner: str | None = None,
    role: AccountRole | None = None,
    expires_at: datetime | None = None,
    vouches_for_phone: bool = False,
    owner: Account | None = None,
) -> tuple[ApiKey, str]:
    """The key and its secret, which is shown once and never again."""
    name = (name or "").strip()
    if not name:
        raise ApiKeyError("give the key a name")
    if sum(bool(x) for x in (agency_slug, uscc, partner)) != 1:
        raise ApiKeyError("a key belongs to one agency, one merchant or one partner")
    scope_text = parse_scopes(scopes)
    key = ApiKey(name=name[:128], scopes=scope_text, created_by=created_by[:128])
    key.expires_at = expires_at
    if agency_slug:
        agency = db.session.scalar(select(Agency).where(Agency.slug == agency_slug))
        if agency is None:
            raise ApiKeyError(f"no agency with slug {agency_slug!r}")
        role = role or (
            AccountRole.FUND_MANAGER
            if Scope.COMPENSATION_WRITE.value in scope_text.split()
            else AccountRole.HANDLER
        )
        if not role.is_regulator:
            raise ApiKeyError(f"an agency key acts as a regulator role, not {role}")
        key.agency_id, key.role = agency.id, role
    elif uscc:
        enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc.upper()))
        if enterprise is None:
            raise ApiKeyError(f"no enterprise with USCC {uscc!r}")
        _only(scope_text, MERCHANT_SCOPES, "a merchant key")
        owner = owner or db.session.scalar(
            select(Account)
            .where(
                Account.enterprise_id == enterprise.id,
                Account.role == AccountRole.MERCHANT_OWNER,
                Account.active.is_(True),
            )
            .order_by(Account.id)
            .limit(1)
        )
        if owner is None or owner.enterprise_id != enterprise.id:
            raise ApiKeyError("a merchant key acts for an owner: create the owner's account first")
        key.enterprise_id, key.role, key.account_id = enterprise.id, MERCHANT_KEY_ROLE, owner.id
    else:
        _only(scope_text, PARTNER_SCOPES, "a partner key")
        key.partner = partner.strip()[:128]
        key.vouches_for_phone = vouches_for_phone
    prefix = secrets.token_hex(4)
    raw = f"{KEY_START}{prefix}_{secrets.token_urlsafe(24)}"
    key.prefix = f"{KEY_START}{prefix}"
    key.key_hash = hash_key(raw)
    db.session.add(key)
    db.session.flush()
    return key, raw


def _only(scope_text: str, allowed: frozenset, who: str) -> None:
    extra = set(scope_text.split()) - {s.value for s in allowed}
    if extra:
        raise ApiKeyError(f"{who} cannot have the scope(s) {', '.join(sorted(extra))}")


def principal_for(raw: str, now: datetime) -> ApiPrincipal | None:
    """The principal for a presented key, or None if unknown, revoked or expired."""
    if not raw.startswith(KEY_START):
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(raw)))
    if key is None or not key.usable(now):
        return None
    if key.last_used_at is None or key.last_used_at < now - LAST_USE_RESOLUTION:
        db.session.execute(
            update(ApiKey)
            .where(ApiKey.id == key.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return principal_of(key)


def principal_of(key: ApiKey) -> ApiPrincipal:
    return ApiPrincipal(
        key_id=key.id,
        role=key.role,
        agency_id=key.agency_id,
        enterprise_id=key.enterprise_id,
        partner=key.partner,
        scopes=key.scope_set,
        vouches_for_phone=key.vouches_for_phone,
        account_id=key.account_id,
        prefix=key.prefix,
        rate_limit_per_minute=key.rate_limit_per_minute,
    )


def revoke(key: ApiKey, now: datetime) -> None:
    if key.revoked_at is None:
        key.revoked_at = now
        db.session.flush()


def keys_of(*, agency_id: int | None = None, enterprise_id: int | None = None) -> list[ApiKey]:
    stmt = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    if agency_id is not None:
        stmt = stmt.where(ApiKey.agency_id == agency_id)
    elif enterprise_id is not None:
        stmt = stmt.where(ApiKey.enterprise_id == enterprise_id)
    else:
        stmt = stmt.where(ApiKey.partner.is_not(None))
    return list(db.session.scalars(stmt))
