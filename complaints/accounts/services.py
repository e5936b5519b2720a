"""Signing in: password check with a throttle counted in the database, and account creation."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from complaints.accounts import passwords
from complaints.accounts.models import Account, AccountRole, LoginThrottle
from complaints.agencies.models import Agency
from complaints.database import UTCDateTime
from complaints.extensions import db
from complaints.merchants.models import Enterprise

MIN_PASSWORD_LENGTH = 12
# Sign-in throttle per account *and client address* (issue 11.6): the first FREE_FAILURES
# misses cost nothing; then each attempt from that client waits longer, up to MAX_DELAY.
# A stranger elsewhere can slow only their own guesses, never lock the owner out; an e-mailed
# unlock link (complaints.accounts.unlock) clears the waits when the owner shares the address.
FREE_FAILURES = 5
DELAYS_AFTER_FREE = (30, 60, 120, 240, 480)  # seconds; then MAX_DELAY
MAX_DELAY = timedelta(minutes=15)

# One message for every refusal: unknown email, wrong password, a waiting client or a
# disabled account all look the same, so the form cannot be used to learn which emails have
# accounts.
LOGIN_REFUSED = _l(
    "Email or password is wrong. After 5 failed attempts from one place, signing in from there "
    "waits a little longer after each miss; an unlock link sent by email ends the wait."
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


def authenticate(email: str, password: str, now: datetime, client: str = "-") -> LoginResult:
    """Check a password, counting the attempt first. Commits its own bookkeeping.

    Every path costs one Argon2 verification (unknown email, a waiting client, a disabled or
    invited account, a wrong or right password), so the answer time tells nothing. The attempt
    is counted with a conditional UPDATE before the check, so parallel guesses from one client
    each take one slot and those past the free ones wait without being checked; a correct
    password clears the client's count.
    """
    account = account_by_email(email)
    if account is None:
        passwords.burn_a_verification(password)
        return LoginResult(None)
    client = (client or "-")[:64]
    if not _claim_attempt(account.id, client, now):
        db.session.commit()
        passwords.burn_a_verification(password)
        return LoginResult(None)
    db.session.commit()
    db.session.refresh(account)
    if not account.password_hash.startswith("$argon2"):  # invited, no password yet
        passwords.burn_a_verification(password)
        return LoginResult(None)
    if not (passwords.verify_password(account.password_hash, password) and account.active):
        return LoginResult(None)
    db.session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.account_id == account.id, LoginThrottle.client == client
        )
    )
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    db.session.commit()
    db.session.refresh(account)
    return LoginResult(account)


def _claim_attempt(account_id: int, client: str, now: datetime) -> bool:
    _ensure_throttle_row(account_id, client, now)
    failures = LoginThrottle.failures + 1
    # The wait is set when the attempt is claimed (a correct password clears it), so the
    # claims racing in after the last free one find the client already waiting.
    waits = [
        (failures == FREE_FAILURES + i, literal(now + timedelta(seconds=s), UTCDateTime()))
        for i, s in enumerate(DELAYS_AFTER_FREE)
    ]
    blocked = case(
        (failures < FREE_FAILURES, LoginThrottle.blocked_until),
        *waits,
        else_=literal(now + MAX_DELAY, UTCDateTime()),
    )
    claimed = db.session.execute(
        update(LoginThrottle)
        .where(
            LoginThrottle.account_id == account_id,
            LoginThrottle.client == client,
            or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until <= now),
        )
        .values(failures=failures, blocked_until=blocked, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return claimed == 1


def _ensure_throttle_row(account_id: int, client: str, now: datetime) -> None:
    exists = db.session.scalar(
        select(LoginThrottle.id).where(
            LoginThrottle.account_id == account_id, LoginThrottle.client == client
        )
    )
    if exists is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(
                LoginThrottle(account_id=account_id, client=client, failures=0, updated_at=now)
            )
    except IntegrityError:
        pass  # a parallel attempt from the same client created it


def waiting_until(account: Account, client: str) -> datetime | None:
    return db.session.scalar(
        select(LoginThrottle.blocked_until).where(
            LoginThrottle.account_id == account.id, LoginThrottle.client == client
        )
    )


def clear_throttles(account_id: int) -> None:
    """The owner proved the mailbox: every client's wait for this account ends."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.account_id == account_id))


def end_all_sessions(account_id: int) -> None:
    """Sign-out, a new password, disabling or removing: every session of the account ends,
    copied cookies included (each session carries the generation it was opened in)."""
    db.session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(session_generation=Account.session_generation + 1)
        .execution_options(synchronize_session=False)
    )


def change_password(account: Account, new_password: str) -> None:
    if len(new_password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    account.password_hash = passwords.hash_password(new_password)
    db.session.flush()
    end_all_sessions(account.id)


def disable_account(account: Account) -> None:
    account.active = False
    db.session.flush()
    end_all_sessions(account.id)


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
