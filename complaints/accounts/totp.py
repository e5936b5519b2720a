"""Two-factor sign-in with TOTP (RFC 6238, pyotp) and one-time recovery codes.

Kept beside, not inside, the password sign-in: a password logs the account in, and
`totp_views` gates every page until the second factor is given (or, for a role the policy
requires it of, until it is set up). A code is accepted once: the last used time step is kept.
"""

import hashlib
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import JSON, ForeignKey, String, update
from sqlalchemy.orm import Mapped, mapped_column

from complaints.accounts.models import Account, AccountRole
from complaints.database import UTCDateTime
from complaints.extensions import db

ISSUER = "Anxin 安心"
RECOVERY_CODES = 10
STEP_SECONDS = 30
DRIFT_STEPS = 1  # a phone clock 30 s off still works


class AccountTotp(db.Model):
    __tablename__ = "account_totp"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int] = mapped_column(default=0)
    # SHA-256 of each unused recovery code (random, so a fast hash is enough).
    recovery_hashes: Mapped[list] = mapped_column(JSON, default=list)


def required_for(account: Account, required_roles: frozenset[str]) -> bool:
    return account.role.value in required_roles


def parse_roles(raw: str) -> frozenset[str]:
    roles = frozenset(part.strip() for part in (raw or "").split(",") if part.strip())
    unknown = roles - {role.value for role in AccountRole}
    if unknown:
        raise ValueError(f"unknown roles {', '.join(sorted(unknown))}")
    return roles


def enrolment(account: Account) -> AccountTotp | None:
    return db.session.get(AccountTotp, account.id)


def is_enrolled(account: Account) -> bool:
    row = enrolment(account)
    return row is not None and row.confirmed_at is not None


def start_enrolment(account: Account) -> AccountTotp:
    """The secret being set up, not in force until a code from it is confirmed. Flushes.

    Kept across page loads until confirmed: a reload, a second tab or a prefetch must not
    replace the secret the person has already scanned."""
    row = enrolment(account)
    if row is None:
        row = AccountTotp(account_id=account.id, secret=pyotp.random_base32(), last_step=0)
        db.session.add(row)
        db.session.flush()
    return row


def provisioning_uri(account: Account, row: AccountTotp) -> str:
    return pyotp.TOTP(row.secret).provisioning_uri(name=account.email, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _use_step(row: AccountTotp, step: int) -> bool:
    # Conditional, so one code typed into two tabs at once signs in only one of them.
    used = db.session.execute(
        update(AccountTotp)
        .where(AccountTotp.account_id == row.account_id, AccountTotp.last_step < step)
        .values(last_step=step)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    return used == 1


def confirm_enrolment(row: AccountTotp, code: str, now: datetime) -> list[str] | None:
    """Put the secret in force with a first code; returns the recovery codes (shown once)."""
    codes = _new_recovery_codes(row, code, now)
    if codes is not None:
        row.confirmed_at = now
    return codes


def verify(account: Account, code: str, now: datetime) -> bool:
    """A current code or an unused recovery code (which is then spent). Flushes."""
    row = enrolment(account)
    if row is None or row.confirmed_at is None:
        return False
    step = _matching_step(row.secret, code, now)
    if step is not None:
        return _use_step(row, step)
    digest = _hash(_normalise_recovery(code))
    if digest in (row.recovery_hashes or []):
        row.recovery_hashes = [h for h in row.recovery_hashes if h != digest]
        db.session.flush()
        return True
    return False


def remove(account: Account) -> None:
    """Two-factor sign-in off (an admin's reset after a lost phone, or the owner's choice
    where the role does not require it). Flushes."""
    row = enrolment(account)
    if row is not None:
        db.session.delete(row)
        db.session.flush()


def renew_recovery_codes(account: Account, code: str, now: datetime) -> list[str] | None:
    """New recovery codes for the old ones (used up, or seen by someone), given a current
    code from the app: a recovery code cannot renew the codes. Flushes."""
    row = enrolment(account)
    if row is None or row.confirmed_at is None:
        return None
    return _new_recovery_codes(row, code, now)


def _new_recovery_codes(row: AccountTotp, code: str, now: datetime) -> list[str] | None:
    """Given a current app code (spent), replace the recovery codes; the new ones are returned
    to be shown once, only their hashes kept. Flushes."""
    step = _matching_step(row.secret, code, now)
    if step is None or not _use_step(row, step):
        return None
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    row.recovery_hashes = [_hash(c) for c in codes]
    db.session.flush()
    return codes


def recovery_codes_left(account: Account) -> int:
    row = enrolment(account)
    return len(row.recovery_hashes or []) if row else 0


def _recovery_code() -> str:
    raw = secrets.token_hex(5).upper()
    return f"{raw[:5]}-{raw[5:]}"


def _normalise_recovery(code: str) -> str:
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return f"{raw[:5]}-{raw[5:]}"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
