"""Unified Social Credit Code (GB 32100-2015): validation with problems a clerk can act on.

Pure functions only; the registration form and the seed wrap them. See RULES.md, "The
enterprise code: Unified Social Credit Code".
"""

import string
import unicodedata
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LENGTH = 18
# 3^(i-1) mod 31: every weight is a unit mod the prime 31, so any single wrong character and
# any swap of two adjacent different characters changes the check character.
WEIGHTS = tuple(pow(3, i, 31) for i in range(LENGTH - 1))
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# GB 11714 predates the USCC alphabet and values letters by their place in A-Z, not in ALPHABET.
_ORG_CHARS = string.digits + string.ascii_uppercase
_LOOKALIKES = {"I": "1", "O": "0", "S": "5", "Z": "2"}

# RULES.md names the four original authorities; the later ones are in use too (a temple or a
# public-institution scenic area can be the merchant a tourist complains about), so refusing
# them would turn real licences away.
AUTHORITIES = {
    "1": "staffing authority",
    "2": "foreign affairs",
    "3": "justice administration",
    "4": "culture",
    "5": "civil affairs",
    "6": "tourism",
    "7": "religious affairs",
    "8": "trade unions",
    "9": "market regulation",
    "A": "military staffing office",
    "N": "agriculture",
    "Y": "other",
}
CATEGORIES = {
    "1": {
        "1": "government body",
        "2": "public institution",
        "3": "mass organisation",
        "9": "other",
    },
    "2": {"1": "resident foreign news agency", "9": "other"},
    "3": {
        "1": "law firm",
        "2": "notary office",
        "3": "grassroots legal service",
        "4": "forensic appraisal institution",
        "5": "arbitration commission",
        "9": "other",
    },
    "4": {"1": "foreign cultural centre", "9": "other"},
    "5": {
        "1": "social organisation",
        "2": "private non-enterprise unit",
        "3": "foundation",
        "9": "other",
    },
    "6": {"1": "foreign tourism office", "2": "HK/Macao/Taiwan tourism office", "9": "other"},
    "7": {"1": "place of religious activity", "2": "religious school", "9": "other"},
    "8": {"1": "grassroots trade union", "9": "other"},
    "9": {"1": "enterprise", "2": "individual business", "3": "farmers' cooperative"},
    "A": {"1": "military public institution", "9": "other"},
    "N": {
        "1": "group collective",
        "2": "village collective",
        "3": "township collective",
        "9": "other",
    },
    "Y": {"1": "other"},
}

# A regulator may accept a code whose only fault is a check character (RULES.md, early pilot
# codes); every other problem means the code was mistyped or is not a USCC at all.
CHECK_PROBLEM_CODES = frozenset({"check_character", "organisation_code_check"})

_DIVISION = slice(2, 8)
_ORG_BODY = slice(8, 16)
_ORG_CHECK_INDEX = 16
_CHECK_INDEX = 17


@dataclass(frozen=True)
class UsccProblem:
    position: int | None  # 1-based; None when the problem is the code as a whole
    code: str  # stable identifier for the app and translations; the message is English
    message: str


def normalise_uscc(raw: str) -> str:
    """Fold what people and copy-paste add: full-width characters, spaces, case.

    NFKC turns full-width digits and letters typed with a Chinese IME into ASCII; format
    characters (zero-width spaces, BOMs) come along when a code is pasted from a web page.
    """
    if raw.isascii() and raw.isalnum():
        return raw.upper()  # already plain: the common case of a 100k-row import
    folded = unicodedata.normalize("NFKC", raw)
    kept = (ch for ch in folded if not ch.isspace() and unicodedata.category(ch) != "Cf")
    return "".join(kept).upper()


def uscc_check_character(first17: str) -> str:
    """The 18th character for the first 17 (already normalised)."""
    if len(first17) != LENGTH - 1 or any(ch not in _VALUE for ch in first17):
        raise ValueError(f"need 17 characters from {ALPHABET}, got {first17!r}")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_code_check(first8: str) -> str:
    """The 9th character of a GB 11714 organisation code for its first 8."""
    if len(first8) != len(ORG_WEIGHTS) or any(ch not in _ORG_CHARS for ch in first8):
        raise ValueError(f"need 8 digits or capital letters, got {first8!r}")
    total = sum(_ORG_CHARS.index(ch) * w for ch, w in zip(first8, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def validate_uscc(raw: str) -> list[UsccProblem]:
    """Every problem found in ``raw``, ordered by position; an empty list means valid.

    All problems are reported at once so a clerk fixes the licence entry in one go.
    """
    code = normalise_uscc(raw)
    if len(code) == 15 and code.isascii() and code.isdigit():
        return [_problem(None, "length", _LEGACY_MESSAGE)]

    problems = [
        _character_problem(pos, ch, code)
        for pos, ch in enumerate(code, start=1)
        if ch not in _VALUE
    ]
    if len(code) != LENGTH:
        # Positions mean nothing once a character is missing or extra, so only the
        # position-free complaint about characters can still help.
        return [_problem(None, "length", _length_message(code)), *problems]

    bad = {p.position for p in problems}
    problems += _structure_problems(code, bad)
    problems += _check_problems(code, bad)
    return sorted(problems, key=lambda p: p.position or 0)


def is_checksum_only_failure(problems: list[UsccProblem]) -> bool:
    """True when a regulator could accept the code with a recorded reason (early pilot codes)."""
    return bool(problems) and all(p.code in CHECK_PROBLEM_CODES for p in problems)


def make_uscc(
    org_base8: str, *, registration: str = "9", category: str = "1", division: str = "460200"
) -> str:
    """A fully valid code, for seeds and tests: ``make_uscc("MA5T8K2J")`` -> ``9146...``.

    Hainan enterprises are ``registration="9", category="1"``, individual businesses
    ``category="2"``; ``division`` is the registering authority's GB/T 2260 code.
    """
    if registration not in AUTHORITIES:
        raise ValueError(f"unknown registration authority {registration!r}")
    if category not in CATEGORIES[registration]:
        raise ValueError(f"category {category!r} does not exist under {registration!r}")
    if len(division) != 6 or not (division.isascii() and division.isdigit()):
        raise ValueError(f"division must be 6 digits, got {division!r}")
    if len(org_base8) != 8 or any(ch not in _VALUE for ch in org_base8):
        raise ValueError(f"org_base8 must be 8 characters from {ALPHABET}, got {org_base8!r}")
    first17 = registration + category + division + org_base8 + organisation_code_check(org_base8)
    return first17 + uscc_check_character(first17)


def division_of(code: str) -> str:
    """Characters 3-8: the GB/T 2260 division of the authority that registered the merchant."""
    normalised = normalise_uscc(code)
    if len(normalised) != LENGTH:
        raise ValueError(f"not an 18-character code: {code!r}")
    return normalised[_DIVISION]


_LEGACY_MESSAGE = (
    "this looks like a pre-2015 15-digit business registration number; "
    "enter the 18-character Unified Social Credit Code printed on the current licence"
)


def _problem(position: int | None, code: str, message: str) -> UsccProblem:
    return UsccProblem(position=position, code=code, message=message)


def _length_message(code: str) -> str:
    if not code:
        return "the code is empty; a Unified Social Credit Code has 18 characters"
    return f"the code has {len(code)} characters; a Unified Social Credit Code has 18"


def _or_list(items) -> str:
    *rest, last = list(items)
    return f"{', '.join(rest)} or {last}" if rest else last


def _character_problem(pos: int, ch: str, code: str) -> UsccProblem:
    if ch in _LOOKALIKES:
        message = (
            f"character {pos} is {ch!r}, a letter the code never uses (no I, O, S, V or Z); "
            f"did you mean {_LOOKALIKES[ch]!r}?"
        )
    elif ch == "V":
        message = f"character {pos} is 'V', a letter the code never uses (no I, O, S, V or Z)"
    else:
        message = f"character {pos} is {ch!r}; only digits and capital letters are allowed"
    first17 = code[: LENGTH - 1]
    if pos == LENGTH and len(code) == LENGTH and all(c in _VALUE for c in first17):
        # The rest is readable, so say what the check character should be.
        message += f"; the check character should be {uscc_check_character(first17)!r}"
    return _problem(pos, "character", message)


def _structure_problems(code: str, bad: set[int | None]) -> list[UsccProblem]:
    problems = []
    authority, category = code[0], code[1]
    if 1 not in bad and authority not in AUTHORITIES:
        problems.append(
            _problem(
                1,
                "registration_authority",
                f"character 1 is {authority!r}, which is not a registration authority code "
                f"({_or_list(AUTHORITIES)}; businesses use 9)",
            )
        )
    elif 1 not in bad and 2 not in bad and category not in CATEGORIES[authority]:
        allowed = _or_list(f"{k} ({v})" for k, v in CATEGORIES[authority].items())
        problems.append(
            _problem(
                2,
                "organisation_category",
                f"character 2 is {category!r}, which is not an organisation category under "
                f"registration authority {authority!r} ({AUTHORITIES[authority]}): "
                f"expected {allowed}",
            )
        )
    for index in range(_DIVISION.start, _DIVISION.stop):
        pos, ch = index + 1, code[index]
        if pos not in bad and not ch.isdigit():
            problems.append(
                _problem(
                    pos,
                    "division_digits",
                    f"character {pos} is {ch!r}, but characters 3 to 8 are the "
                    "administrative division code and must be digits",
                )
            )
    return problems


def _check_problems(code: str, bad: set[int | None]) -> list[UsccProblem]:
    problems = []
    org_positions = set(range(_ORG_BODY.start + 1, _ORG_CHECK_INDEX + 2))
    if not bad & org_positions:
        expected = organisation_code_check(code[_ORG_BODY])
        got = code[_ORG_CHECK_INDEX]
        if got != expected:
            problems.append(
                _problem(
                    _ORG_CHECK_INDEX + 1,
                    "organisation_code_check",
                    f"character 17 should be {expected!r} (check character of the "
                    f"organisation code in characters 9 to 17), got {got!r}",
                )
            )
    if not bad:
        expected = uscc_check_character(code[:_CHECK_INDEX])
        got = code[_CHECK_INDEX]
        if got != expected:
            # A typo anywhere lands here too, so point the clerk back at the licence.
            problems.append(
                _problem(
                    LENGTH,
                    "check_character",
                    f"character 18 should be {expected!r} (check character), got {got!r}; "
                    "a typo in any other character also causes this, so compare the whole code",
                )
            )
    return problems
