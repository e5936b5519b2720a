"""The import's cell rules where they take a shortcut: the mobile-number block cache must
agree with phonenumbers on every number."""

import random

import pytest

from complaints.admin import validators


def test_mobile_block_shortcut_agrees_with_phonenumbers(app_ctx):
    rng = random.Random(7)
    numbers = [f"1{rng.randrange(10**10):010d}" for _ in range(3000)]
    numbers += [f"1{p:02d}{rng.randrange(10**8):08d}" for p in range(100)]
    numbers += ["16100000000", "17405000000", "17406000000", "12000000000"]
    for number in numbers:
        expected = validators.to_e164_or_none(number)
        try:
            got = validators.phone(number)
        except validators.CellInvalid:
            got = None
        assert got == expected, number


@pytest.mark.parametrize("raw", ["+44 7911 123456", "0898-88888888", "(0898) 8888 8888"])
def test_other_numbers_go_through_phonenumbers(app_ctx, raw):
    # Hardening's SMS policy now refuses numbers that cannot take a text (landlines), so
    # agreement means: the same E.164 number, or both refuse.
    expected = validators.to_e164_or_none(raw)
    if expected is None:
        with pytest.raises(validators.CellInvalid):
            validators.phone(raw)
    else:
        assert validators.phone(raw) == expected


def _described(app, raw: str, locale: str) -> str:
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(locale):
        try:
            validators.uscc(raw, override_reason=None)
        except validators.CellInvalid as refused:
            return str(refused.args[0])
    raise AssertionError(f"{raw!r} was accepted")


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("123456789012345", "15-digit"),
        ("9146020", "7 characters"),
        ("91460203MA1AAAA1IJ", "character 17 is 'I'"),
        ("9146020AMA1AAAA11J", "characters 3 to 8"),
        ("Z1460203MA1AAAA11J", "character 1"),
    ],
)
def test_uscc_problems_are_described_in_the_readers_words(app, app_ctx, raw, words):
    assert words in _described(app, raw, "en")
    assert "统一社会信用代码" in _described(app, raw, "zh")
