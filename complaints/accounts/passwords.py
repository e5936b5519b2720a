"""Password hashes: Argon2id with argon2-cffi's defaults (RFC 9106, low-memory profile)."""

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

_HASHER = PasswordHasher()
# Tests hash and verify hundreds of times; the strong profile costs ~0.3 s a call on CI.
# A hash made with it in a test database is flagged by needs_rehash if it ever reached production.
_TEST_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.testing:
        return _TEST_HASHER
    return _HASHER


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# Verified against when the email is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASHES: dict[int, str] = {}


def burn_a_verification(password: str) -> None:
    hasher = _hasher()
    dummy = _DUMMY_HASHES.get(id(hasher))
    if dummy is None:
        dummy = _DUMMY_HASHES[id(hasher)] = hasher.hash("not-a-real-password")
    verify_password(dummy, password)
