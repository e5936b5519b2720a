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
    assert validators.phone(raw) == validators.to_e164_or_none(raw)
