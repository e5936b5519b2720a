import ast
import hashlib
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import Signer

from complaints.merchants import tokens
from complaints.merchants.tokens import (
    OUTLET_CODE_ALPHABET,
    BadOutletToken,
    OutletTokenSigner,
    new_outlet_code,
)

SECRET = "test-outlet-secret-0123456789abcdef"
SIGNER = OutletTokenSigner(SECRET)
TOKEN = SIGNER.sign("O7K2XQ8A", 3)
URL_SAFE = set(string.ascii_letters + string.digits + "-_.")


def test_round_trip_returns_code_and_version():
    assert SIGNER.unsign(TOKEN) == ("O7K2XQ8A", 3)
    assert SIGNER.unsign(SIGNER.sign("A", 1)) == ("A", 1)
    assert SIGNER.unsign(SIGNER.sign("ABCDEFGHJK12", 999_999_999)) == ("ABCDEFGHJK12", 999_999_999)


def test_version_is_returned_for_the_caller_to_compare():
    # Revoking is the caller's comparison with outlets.qr_key_version; the token only carries it.
    old, new = SIGNER.sign("O7K2XQ8A", 1), SIGNER.sign("O7K2XQ8A", 2)
    assert old != new
    assert SIGNER.unsign(old)[1] == 1
    assert SIGNER.unsign(new)[1] == 2


def test_token_is_short_deterministic_and_url_safe():
    assert TOKEN.startswith("O7K2XQ8A.3.")
    assert len(TOKEN) == 54 < 60
    assert SIGNER.sign("O7K2XQ8A", 3) == TOKEN  # a reprint gives the same QR
    assert set(TOKEN) <= URL_SAFE


def test_new_outlet_code():
    codes = {new_outlet_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(c) == 8 and set(c) <= set(OUTLET_CODE_ALPHABET) for c in codes)
    assert not set("ILOU") & set(OUTLET_CODE_ALPHABET)
    assert all(SIGNER.unsign(SIGNER.sign(c, 1)) == (c, 1) for c in list(codes)[:20])


def test_changing_any_character_is_refused():
    replacements = string.ascii_letters + string.digits + "-_.=+/~ é"
    for index, original in enumerate(TOKEN):
        for ch in replacements:
            if ch == original:
                continue
            tampered = TOKEN[:index] + ch + TOKEN[index + 1 :]
            with pytest.raises(BadOutletToken):
                SIGNER.unsign(tampered)


def test_spare_bits_of_the_last_character_are_refused():
    # 43 base64 characters hold 258 bits for a 256-bit signature, so the low 2 bits of the last
    # character are spare; the plain itsdangerous Signer ignores them and would accept a twin.
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    twin = TOKEN[:-1] + alphabet[alphabet.index(TOKEN[-1]) ^ 1]
    plain = Signer(SECRET, salt="anxin.outlet-qr", digest_method=hashlib.sha256)
    assert plain.unsign(twin) == b"O7K2XQ8A.3"
    with pytest.raises(BadOutletToken):
        SIGNER.unsign(twin)


def test_truncated_or_extended_tokens_are_refused():
    for end in range(len(TOKEN)):
        with pytest.raises(BadOutletToken):
            SIGNER.unsign(TOKEN[:end])
    for extra in ("A", ".", "=", " ", "\n", "%20"):
        with pytest.raises(BadOutletToken):
            SIGNER.unsign(TOKEN + extra)


def test_other_secret_or_salt_is_refused():
    with pytest.raises(BadOutletToken):
        OutletTokenSigner("another-secret").unsign(TOKEN)
    with pytest.raises(BadOutletToken):
        OutletTokenSigner(SECRET, salt="anxin.password-reset").unsign(TOKEN)


def test_secret_rotation_keeps_old_prints_working():
    rotated = OutletTokenSigner(["old-secret", SECRET])
    assert rotated.unsign(TOKEN) == ("O7K2XQ8A", 3)
    assert rotated.sign("O7K2XQ8A", 3) == TOKEN  # the newest key signs
    assert OutletTokenSigner(["old-secret"]).sign("O7K2XQ8A", 3) != TOKEN


@pytest.mark.parametrize("secret", ["", b"", [], ["ok", ""]])
def test_empty_secret_is_refused(secret):
    with pytest.raises(ValueError, match="empty"):
        OutletTokenSigner(secret)


@pytest.mark.parametrize(
    ("code", "version", "error"),
    [
        ("o7k2xq8a", 1, ValueError),
        ("", 1, ValueError),
        ("O7K2.XQ8A", 1, ValueError),
        ("ABCDEFGHJKLMN", 1, ValueError),
        ("O7K2XQ8A", 0, ValueError),
        ("O7K2XQ8A", -1, ValueError),
        ("O7K2XQ8A", 10**9, ValueError),
        ("O7K2XQ8A", True, TypeError),
        ("O7K2XQ8A", "3", TypeError),
    ],
)
def test_sign_refuses_what_the_outlets_table_cannot_hold(code, version, error):
    with pytest.raises(error):
        SIGNER.sign(code, version)


@pytest.mark.parametrize("junk", [None, 3, b"O7K2XQ8A.3.x", ["a"], "O7K2XQ8A.3", "." * 60])
def test_non_tokens_are_bad_tokens(junk):
    with pytest.raises(BadOutletToken):
        SIGNER.unsign(junk)


def test_validly_signed_foreign_payload_is_refused():
    # Same secret and salt but not our payload shape: refuse, never crash in int().
    raw = Signer(SECRET, salt="anxin.outlet-qr", digest_method=hashlib.sha256)
    for payload in ("O7K2XQ8A", "O7K2XQ8A.03", "O7K2XQ8A.٣", "o7.1", "O7K2XQ8A.3.4"):
        with pytest.raises(BadOutletToken):
            SIGNER.unsign(raw.sign(payload).decode())


@given(st.text(max_size=120))
def test_fuzzed_text_only_ever_raises_bad_outlet_token(text):
    with pytest.raises(BadOutletToken):
        SIGNER.unsign(text)


@given(st.integers(0, len(TOKEN)), st.integers(0, len(TOKEN)), st.text(max_size=4))
def test_fuzzed_edits_of_a_real_token(start, stop, insert):
    start, stop = sorted((start, stop))
    edited = TOKEN[:start] + insert + TOKEN[stop:]
    if edited == TOKEN:
        assert SIGNER.unsign(edited) == ("O7K2XQ8A", 3)
    else:
        with pytest.raises(BadOutletToken):
            SIGNER.unsign(edited)


def test_module_stays_pure():
    tree = ast.parse(Path(tokens.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"binascii", "hashlib", "re", "secrets", "collections", "itsdangerous"}
