"""Signed outlet tokens for the URLs printed in QR codes.

A token is ``<outlet code>.<key version>.<HMAC-SHA256>``, e.g.
``O7K2XQ8A.3.<43 base64url characters>``. It carries no timestamp because a sticker on a
taxi or a shop counter must keep working for years; an outlet's printed codes are revoked by
bumping its key version, which the caller compares with the version returned by ``unsign``.
Pure: the Flask app supplies the secret and looks the outlet up.
"""

import binascii
import hashlib
import re
import secrets
from collections.abc import Iterable

from itsdangerous import BadData, Signer
from itsdangerous.encoding import base64_decode, base64_encode

# Crockford's base32: no I, L, O or U, so a code read aloud or typed from a faded sticker
# cannot be confused; 32^8 is about 10^12, far beyond the outlets of one province.
OUTLET_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
OUTLET_CODE_LENGTH = 8
assert len(OUTLET_CODE_ALPHABET) == 32

# Accepts any code the outlets table can hold (String(12)), including hand-made ones.
_OUTLET_CODE_RE = re.compile(r"[0-9A-Z]{1,12}")
# Canonical decimal only, so each (code, version) has exactly one valid token.
_VERSION_RE = re.compile(r"[1-9][0-9]{0,8}")
_SIGNATURE_RE = re.compile(r"[A-Za-z0-9_-]{43}")  # unpadded base64url of 32 bytes
_MAX_TOKEN_LENGTH = 128  # far above any real token; refuse before hashing junk
_SEP = "."


class BadOutletToken(ValueError):
    """The token was not made by this signer: forged, damaged, truncated or another secret."""


def new_outlet_code() -> str:
    """A random 8-character outlet code; the outlets table's unique constraint catches repeats.

    32 letters, so the low 5 bits of a random byte pick one uniformly: a fifth of the cost of
    `secrets.choice` per letter, which a 200,000-outlet import notices."""
    return "".join(OUTLET_CODE_ALPHABET[b & 31] for b in secrets.token_bytes(OUTLET_CODE_LENGTH))


class OutletTokenSigner:
    """Signs and verifies outlet tokens.

    ``secret_key`` may also be a list of keys, oldest first: tokens are signed with the last and
    verified against all, so a secret can be rotated without reprinting every poster at once.
    Use a secret of its own rather than the session ``SECRET_KEY``: rotating that one for a
    session leak would otherwise silently invalidate every printed code.
    """

    def __init__(
        self, secret_key: str | bytes | Iterable[str | bytes], salt: str = "anxin.outlet-qr"
    ) -> None:
        keys = [secret_key] if isinstance(secret_key, str | bytes) else list(secret_key)
        if not keys or not all(keys):
            raise ValueError("an outlet token secret must not be empty")
        # SHA-256 rather than itsdangerous's SHA-1 default; the signature stays one QR-friendly
        # base64url run with no padding.
        self._signer = Signer(keys, salt=salt, sep=_SEP, digest_method=hashlib.sha256)

    def sign(self, outlet_code: str, key_version: int) -> str:
        if not isinstance(outlet_code, str) or not _OUTLET_CODE_RE.fullmatch(outlet_code):
            raise ValueError(f"outlet code must be 1-12 digits or capital letters: {outlet_code!r}")
        # bool is an int; a True slipping in from a form would sign version 1 by accident.
        if isinstance(key_version, bool) or not isinstance(key_version, int):
            raise TypeError(f"key_version must be an int, got {type(key_version).__name__}")
        if not _VERSION_RE.fullmatch(str(key_version)):
            raise ValueError(f"key_version must be between 1 and 999999999: {key_version}")
        payload = f"{outlet_code}{_SEP}{key_version}"
        return self._signer.sign(payload).decode("ascii")

    def unsign(self, token: str) -> tuple[str, int]:
        """``(outlet_code, key_version)``, or ``BadOutletToken`` for anything else."""
        if not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH or not token.isascii():
            raise BadOutletToken("not an outlet token")
        payload, sep, signature = token.rpartition(_SEP)
        if not sep or not _is_canonical_signature(signature):
            raise BadOutletToken("not an outlet token")
        try:
            self._signer.unsign(token)
        except BadData as exc:
            raise BadOutletToken("signature does not match") from exc
        code, sep, version = payload.rpartition(_SEP)
        # Only reachable if something else signed with this secret and salt; still refuse
        # rather than hand the caller a payload it cannot trust the shape of.
        if not sep or not _OUTLET_CODE_RE.fullmatch(code) or not _VERSION_RE.fullmatch(version):
            raise BadOutletToken("signed payload is not an outlet reference")
        return code, int(version)


def _is_canonical_signature(signature: str) -> bool:
    """Refuse signatures that only decode to the right bytes.

    The base64 decoder ignores the two spare bits of the last character (and, before that,
    non-alphabet characters), so without this check several different strings would verify
    as the same token and a tampered URL would still be accepted.
    """
    if not _SIGNATURE_RE.fullmatch(signature):
        return False
    try:
        return base64_encode(base64_decode(signature)).decode("ascii") == signature
    except (BadData, binascii.Error, UnicodeError):
        return False
