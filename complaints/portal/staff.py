"""An enterprise's staff: the owner invites colleagues, who set their own password, and
removes them again.

The invitation is a signed, timed token (24 hours) naming the account and a fingerprint of
its password hash, e-mailed to the invitee (complaints.accounts.mail), so the account is bound
only once the address is proven. Setting a password changes the hash, so the link works once;
no table of tokens is needed.
"""

import hashlib
import secrets

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import update

from complaints.accounts import passwords
from complaints.accounts.models import Account, AccountRole
from complaints.accounts.services import (
    MIN_PASSWORD_LENGTH,
    account_by_email,
    disable_account,
    normalise_email,
)
from complaints.extensions import db
from complaints.portal.services import PortalRefused

INVITE_MAX_AGE = 24 * 3600
INVITE_SALT = "merchant-invite"
# Not an Argon2 hash, so no password verifies against it until the invitee sets one.
UNSET_PASSWORD_PREFIX = "!invited:"  # noqa: S105 — a marker, not a password


def invite_staff(owner: Account, email: str, name: str) -> Account:
    """A merchant_staff account in the owner's enterprise, without a usable password."""
    if owner.role is not AccountRole.MERCHANT_OWNER or owner.enterprise_id is None:
        raise PortalRefused(_l("Only the owner of the enterprise may invite staff."))
    email = normalise_email(email)
    if "@" not in email:
        raise PortalRefused(_l("Enter an email address."))
    if account_by_email(email) is not None:
        raise PortalRefused(_l("An account with this email already exists."))
    account = Account(
        email=email,
        name=(name or "").strip() or email,
        role=AccountRole.MERCHANT_STAFF,
        enterprise_id=owner.enterprise_id,
        password_hash=UNSET_PASSWORD_PREFIX + secrets.token_hex(16),
        language=owner.language,
    )
    db.session.add(account)
    db.session.flush()
    return account


def awaiting_password(account: Account) -> bool:
    return account.password_hash.startswith(UNSET_PASSWORD_PREFIX)


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=INVITE_SALT)


def _fingerprint(account: Account) -> str:
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16]


def invite_token(account: Account, secret_key: str) -> str:
    return _serializer(secret_key).dumps({"a": account.id, "h": _fingerprint(account)})


def account_for_invite(token: str, secret_key: str) -> Account | None:
    """The invited account, or None if the link is forged, expired or already used."""
    try:
        data = _serializer(secret_key).loads(token, max_age=INVITE_MAX_AGE)
    except BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        return None
    account = db.session.get(Account, data["a"])
    if account is None or not account.active or data.get("h") != _fingerprint(account):
        return None
    if not awaiting_password(account):
        return None
    return account


def set_first_password(account: Account, password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise PortalRefused(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    # Conditional on the unset hash, so of two tabs submitting the same link only one wins.
    used = db.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.password_hash == account.password_hash)
        .values(password_hash=passwords.hash_password(password))
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not used:
        raise PortalRefused(_l("This invitation link was already used."))


def remove_staff(owner: Account, account_id: int) -> Account:
    """Disable a colleague of the owner's enterprise; their sessions end at once. Flushes."""
    person = db.session.get(Account, account_id)
    if (
        person is None
        or person.enterprise_id != owner.enterprise_id
        or person.role is not AccountRole.MERCHANT_STAFF
    ):
        raise PortalRefused(_l("This person is not on your staff."))
    disable_account(person)
    return person
