"""Signing in: password check with a lockout counted in the database, and account creation."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, or_, select, update

from complaints.accounts import passwords
from complaints.accounts.models import Account, AccountRole
from complaints.agencies.models import Agency
from complaints.database import UTCDateTime
from complaints.extensions import db
from complaints.merchants.models import Enterprise

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12

# One message for every refusal: unknown email, wrong password, locked or disabled account
# all look the same, so the form cannot be used to learn which emails have accounts.
LOGIN_REFUSED = _l(
    "Email or password is wrong, or the account is locked. After 5 failed attempts an "
    "account is locked for 15 minutes."
)


class AccountError(ValueError):
    """Creating an account failed; the message says why."""


@dataclass(frozen=True)
class LoginResult:
    account: Account | None

    @property
    def ok(self) -> bool:
        return self.account is not None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def account_by_email(email: str) -> Account | None:
    return db.session.scalar(select(Account).where(Account.email == normalise_email(email)))


def authenticate(email: str, password: str, now: datetime) -> LoginResult:
    """Check a password, counting the attempt first. Commits its own bookkeeping.

    The attempt is counted with a conditional UPDATE before the (slow) hash check, so parallel
    guesses each take one of the 5 slots and the 6th is refused without being checked; the
    slot that reaches 5 sets the lock at once, and a correct password gives it back.
    """
    account = account_by_email(email)
    if account is None:
        passwords.burn_a_verification(password)
        return LoginResult(None)
    _forget_expired_lock(account.id, now)
    if not _claim_attempt(account.id, now):
        db.session.commit()
        return LoginResult(None)
    db.session.commit()
    db.session.refresh(account)
    if not (passwords.verify_password(account.password_hash, password) and account.active):
        return LoginResult(None)
    db.session.execute(
        update(Account)
        .where(Account.id == account.id)
        .values(failed_logins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    db.session.commit()
    db.session.refresh(account)
    return LoginResult(account)


def _forget_expired_lock(account_id: int, now: datetime) -> None:
    # Conditional on the lock still being there: of two racing requests only one resets it.
    db.session.execute(
        update(Account)
        .where(Account.id == account_id, Account.locked_until <= now)
        .values(failed_logins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )


def _claim_attempt(account_id: int, now: datetime) -> bool:
    lock_until = literal(now + LOCKOUT, UTCDateTime())
    claimed = db.session.execute(
        update(Account)
        .where(
            Account.id == account_id,
            Account.failed_logins < MAX_FAILED_LOGINS,
            or_(Account.locked_until.is_(None), Account.locked_until <= now),
        )
        .values(
            failed_logins=Account.failed_logins + 1,
            locked_until=case(
                (Account.failed_logins + 1 >= MAX_FAILED_LOGINS, lock_until),
                else_=Account.locked_until,
            ),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return claimed == 1


def is_locked(account: Account, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def create_account(
    *,
    email: str,
    name: str,
    role: AccountRole,
    password: str,
    agency_slug: str | None = None,
    uscc: str | None = None,
) -> Account:
    """A regulator account needs an agency, a merchant account an enterprise. Flushes."""
    email = normalise_email(email)
    if "@" not in email:
        raise AccountError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if db.session.scalar(select(func.count()).where(Account.email == email)):
        raise AccountError(f"an account for {email} already exists")
    agency_id = enterprise_id = None
    if role.is_regulator:
        if not agency_slug or uscc:
            raise AccountError(f"a {role} account belongs to one agency: give --agency-slug only")
        agency = db.session.scalar(select(Agency).where(Agency.slug == agency_slug))
        if agency is None:
            raise AccountError(f"no agency with slug {agency_slug!r}")
        agency_id = agency.id
    else:
        if not uscc or agency_slug:
            raise AccountError(f"a {role} account belongs to one enterprise: give --uscc only")
        enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc.upper()))
        if enterprise is None:
            raise AccountError(f"no enterprise with USCC {uscc!r}")
        enterprise_id = enterprise.id
    account = Account(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=passwords.hash_password(password),
        agency_id=agency_id,
        enterprise_id=enterprise_id,
    )
    db.session.add(account)
    db.session.flush()
    return account
