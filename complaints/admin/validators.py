"""Cell checks shared by the import files and the admin forms: divisions, phones, e-mails, USCC."""

import re
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import ValidationError

from complaints.cases.forms import to_e164
from complaints.extensions import db
from complaints.geo import hainan
from complaints.geo.models import Division
from complaints.merchants.uscc import (
    ALPHABET,
    UsccProblem,
    is_checksum_only_failure,
    normalise_uscc,
    organisation_code_check,
    uscc_check_character,
    validate_uscc,
)

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
TRUE_WORDS = {"1", "true", "yes", "y", "是", "对", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "不", "f"}
LANGUAGES = {"zh": "zh", "en": "en", "中文": "zh", "英文": "en", "english": "en"}


class CellInvalid(ValueError):
    pass


def hainan_division_codes() -> set[str]:
    """GB/T 2260 codes of Hainan (the seeded reference table, else the packaged list)."""
    codes = set(db.session.scalars(select(Division.code)))
    return codes or {code for code, *_ in hainan.all_divisions()}


def division_code(raw: str, known: set[str]) -> str:
    code = raw.strip()
    if code not in known:
        raise CellInvalid(
            _l(
                "%(code)s is not a Hainan administrative division code (GB/T 2260), e.g. 460203 for 吉阳区.",
                code=code,
            )
        )
    return code


_CN_MOBILE = re.compile(r"1\d{10}")


@lru_cache(maxsize=4096)
def _mobile_block_valid(sample: str) -> bool:
    return bool(to_e164_or_none(sample))


def to_e164_or_none(raw: str) -> str | None:
    try:
        return to_e164(raw)
    except ValidationError:
        return None


def outlet_division_code(raw: str, known: set[str]) -> str:
    code = division_code(raw, known)
    if code == hainan.PROVINCE[0]:
        raise CellInvalid(
            _l(
                "An outlet is in a city, district or county: %(code)s is the whole province.",
                code=code,
            )
        )
    return code


def phone(raw: str) -> str:
    """E.164. A plain 11-digit Chinese mobile number is judged by its first 7 digits (the
    number block phonenumbers' metadata decides by), so a 100k-row import parses each block
    once instead of every row; anything else goes through phonenumbers in full."""
    value = raw.strip()
    if _CN_MOBILE.fullmatch(value):
        if _mobile_block_valid(value[:7] + "0000"):
            return "+86" + value
        raise CellInvalid(
            _l("This is not a valid phone number; add the country code if it is not Chinese.")
        )
    try:
        return to_e164(raw)
    except ValidationError as exc:
        # Keep the lazy message: it is rendered later in the reader's language (and outside a
        # request, e.g. the import CLI, str() here would need a request to pick a locale).
        raise CellInvalid(exc.args[0] if exc.args else str(exc)) from None


def email(raw: str) -> str:
    value = raw.strip().lower()
    if len(value) > 255 or not EMAIL.fullmatch(value):
        raise CellInvalid(_l("%(value)s is not an e-mail address.", value=raw))
    return value


def yes_no(raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellInvalid(_l("Write yes or no (是 or 否), not %(value)s.", value=raw))


def language(raw: str) -> str:
    code = LANGUAGES.get(raw.strip().lower())
    if code is None:
        raise CellInvalid(_l("The notification language is zh or en, not %(value)s.", value=raw))
    return code


def uscc(raw: str, *, override_reason: str | None) -> str:
    """A valid code; one whose only fault is a check character passes with a recorded reason."""
    code = normalise_uscc(raw)
    problems = validate_uscc(code)
    if not problems:
        return code
    if override_reason and is_checksum_only_failure(problems):
        return code
    detail = "; ".join(str(describe(problem, code)) for problem in problems)
    if is_checksum_only_failure(problems):
        raise CellInvalid(
            _l(
                "Not a valid Unified Social Credit Code (GB 32100): %(detail)s. An early pilot code may be accepted with a reason for the override.",
                detail=detail,
            )
        )
    raise CellInvalid(
        _l("Not a valid Unified Social Credit Code (GB 32100): %(detail)s.", detail=detail)
    )


def describe(problem: UsccProblem, code: str):
    """A problem in the reader's language (the USCC module's messages are English)."""
    position = problem.position
    if problem.code == "length":
        if len(code) == 15 and code.isdigit():
            return _l("a pre-2015 15-digit registration number; use the 18-character code")
        return _l("%(n)d characters instead of 18", n=len(code))
    if problem.code == "character" and position:
        return _l(
            "character %(position)d is %(char)s, which a code never uses",
            position=position,
            char=repr(code[position - 1]),
        )
    if problem.code == "check_character" and not any(c not in ALPHABET for c in code[:17]):
        return _l(
            "character 18 should be %(expected)s, not %(got)s (check character; a typo elsewhere also causes this)",
            expected=repr(uscc_check_character(code[:17])),
            got=repr(code[17]),
        )
    if problem.code == "organisation_code_check":
        return _l(
            "character 17 should be %(expected)s, not %(got)s (organisation code check)",
            expected=repr(organisation_code_check(code[8:16])),
            got=repr(code[16]),
        )
    if problem.code == "division_digits" and position:
        return _l("characters 3 to 8 must be digits (character %(position)d)", position=position)
    if problem.code in ("registration_authority", "organisation_category") and position:
        return _l(
            "character %(position)d is not a valid registration authority or category",
            position=position,
        )
    return problem.message


def coordinate(raw: str, *, low: float, high: float) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise CellInvalid(_l("%(value)s is not a number in decimal degrees.", value=raw)) from None
    if not low <= value <= high:
        raise CellInvalid(
            _l(
                "%(value)s is outside Hainan (between %(low)s and %(high)s).",
                value=raw,
                low=low,
                high=high,
            )
        )
    return round(value, 6)
