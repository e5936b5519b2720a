import ast
import dataclasses
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from complaints.merchants import uscc
from complaints.merchants.uscc import (
    ALPHABET,
    CATEGORIES,
    UsccProblem,
    division_of,
    is_checksum_only_failure,
    make_uscc,
    normalise_uscc,
    organisation_code_check,
    uscc_check_character,
    validate_uscc,
)

RULES_EXAMPLES = ("914403001922038216", "9144030071526726XG")

registrations = st.sampled_from([(r, c) for r, cats in CATEGORIES.items() for c in cats])
org_bases = st.text(alphabet=ALPHABET, min_size=8, max_size=8)
divisions = st.text(alphabet="0123456789", min_size=6, max_size=6)


@st.composite
def valid_codes(draw):
    if draw(st.booleans()):
        return draw(st.sampled_from(RULES_EXAMPLES))
    registration, category = draw(registrations)
    return make_uscc(
        draw(org_bases), registration=registration, category=category, division=draw(divisions)
    )


def codes_of(problems):
    return [(p.position, p.code) for p in problems]


def replace_at(code, index, ch):
    return code[:index] + ch + code[index + 1 :]


def test_weights_are_the_ones_in_rules():
    assert uscc.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(ALPHABET) == 31
    assert not set("IOSVZ") & set(ALPHABET)


@pytest.mark.parametrize("code", RULES_EXAMPLES)
def test_rules_examples_are_valid(code):
    assert validate_uscc(code) == []
    assert uscc_check_character(code[:17]) == code[17]
    assert organisation_code_check(code[8:16]) == code[16]


@pytest.mark.parametrize(
    "raw",
    [
        "  9144 0300 7152 6726 XG ",
        "9144030071526726xg",
        "９１４４０３００７１５２６７２６ＸＧ",  # full-width, as a Chinese IME types it
        "\u200b9144030071526726XG\ufeff",  # pasted from a web page
    ],
)
def test_normalisation_accepts_what_people_type(raw):
    assert normalise_uscc(raw) == "9144030071526726XG"
    assert validate_uscc(raw) == []


def test_division_of():
    assert division_of("9144030071526726XG") == "440300"
    assert division_of(" 9146 0200 MA5T8K2J9P ") == "460200"
    with pytest.raises(ValueError, match="18"):
        division_of("91440300")


@given(valid_codes(), st.integers(0, 17), st.sampled_from(ALPHABET + "IOSVZ-#.中"))
def test_every_single_character_change_is_detected(code, index, replacement):
    assume(code[index] != replacement)
    mutated = replace_at(code, index, replacement)
    problems = validate_uscc(mutated)
    assert problems
    assert not any(p.code == "length" for p in problems)
    if replacement not in ALPHABET:
        assert (index + 1, "character") in codes_of(problems)
    else:
        assert 18 in {p.position for p in problems}


@given(valid_codes(), st.integers(0, 16))
def test_every_adjacent_swap_is_detected(code, index):
    assume(code[index] != code[index + 1])
    swapped = code[:index] + code[index + 1] + code[index] + code[index + 2 :]
    assert validate_uscc(swapped)


@given(registrations, org_bases, divisions)
def test_make_uscc_always_validates(registration_category, org_base8, division):
    registration, category = registration_category
    code = make_uscc(org_base8, registration=registration, category=category, division=division)
    assert validate_uscc(code) == []
    assert code[:2] == registration + category
    assert division_of(code) == division
    assert code[8:16] == org_base8


def test_make_uscc_hainan_defaults():
    enterprise = make_uscc("MA5T8K2J")
    individual = make_uscc("12345678", category="2", division="460108")
    assert enterprise.startswith("9146")
    assert individual.startswith("9246")
    assert validate_uscc(enterprise) == validate_uscc(individual) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"org_base8": "MA5T8K2"}, "org_base8"),
        ({"org_base8": "MA5T8KIJ"}, "org_base8"),
        ({"org_base8": "MA5T8K2J", "division": "46020A"}, "division"),
        ({"org_base8": "MA5T8K2J", "registration": "B"}, "authority"),
        ({"org_base8": "MA5T8K2J", "category": "4"}, "category"),
    ],
)
def test_make_uscc_refuses_impossible_parts(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_uscc(**kwargs)


@pytest.mark.parametrize("raw", ["", "91440300715267", "9144030071526726XGA", "9" * 40])
def test_wrong_length_is_one_length_problem(raw):
    problems = validate_uscc(raw)
    assert codes_of(problems) == [(None, "length")]
    assert str(len(raw)) in problems[0].message or raw == ""


def test_wrong_length_still_names_impossible_characters():
    problems = validate_uscc("9I44030071526726X")
    assert codes_of(problems) == [(None, "length"), (2, "character")]


@pytest.mark.parametrize("legacy", ["460100000123456", "4601 0000 0123 456"])
def test_legacy_15_digit_registration_number(legacy):
    [problem] = validate_uscc(legacy)
    assert problem.code == "length"
    assert problem.position is None
    assert "15-digit" in problem.message
    assert "18-character" in problem.message


@pytest.mark.parametrize("letter", list("IOSVZ"))
@pytest.mark.parametrize("index", [0, 9, 15, 17])
def test_letters_outside_the_alphabet(letter, index):
    problems = validate_uscc(replace_at("9144030071526726XG", index, letter))
    assert codes_of(problems) == [(index + 1, "character")]
    assert f"character {index + 1} is '{letter}'" in problems[0].message


def test_lookalike_letters_get_a_hint():
    [problem] = validate_uscc("91440300715267O6XG")
    assert "did you mean '0'" in problem.message


def test_impossible_check_character_says_what_it_should_be():
    [problem] = validate_uscc("9144030071526726XZ")
    assert problem.position == 18
    assert "should be 'G'" in problem.message


@pytest.mark.parametrize("index", range(2, 8))
def test_letters_in_division_digits(index):
    problems = validate_uscc(replace_at("9144030071526726XG", index, "A"))
    assert (index + 1, "division_digits") in codes_of(problems)
    assert {p.code for p in problems} <= {"division_digits", "check_character"}


def test_wrong_check_character():
    problems = validate_uscc("9144030071526726XH")
    assert codes_of(problems) == [(18, "check_character")]
    assert problems[0].message.startswith("character 18 should be 'G' (check character), got 'H'")
    assert is_checksum_only_failure(problems)


def test_wrong_organisation_code_check_alone():
    first16 = make_uscc("MA5T8K2J")[:16]
    wrong = "7" if organisation_code_check("MA5T8K2J") != "7" else "8"
    code = first16 + wrong + uscc_check_character(first16 + wrong)
    problems = validate_uscc(code)
    assert codes_of(problems) == [(17, "organisation_code_check")]
    assert f"got '{wrong}'" in problems[0].message
    assert is_checksum_only_failure(problems)


def test_organisation_code_check_special_values():
    assert organisation_code_check("00000000") == "0"  # 11 - 0 = 11 -> '0'
    assert organisation_code_check("71526726") == "X"  # 11 - 1 = 10 -> 'X'
    # Letters count by their place in A-Z (GB 11714), not by their place in ALPHABET.
    assert organisation_code_check("J0000000") == str(11 - (19 * 3) % 11)
    with pytest.raises(ValueError, match="8"):
        organisation_code_check("1234567")


def test_uscc_check_character_refuses_bad_input():
    with pytest.raises(ValueError, match="17"):
        uscc_check_character("91440300715267")
    with pytest.raises(ValueError, match="17"):
        uscc_check_character("9144030071526726I")


def test_unknown_registration_authority():
    problems = validate_uscc(replace_at("9144030071526726XG", 0, "B"))
    assert codes_of(problems) == [(1, "registration_authority"), (18, "check_character")]
    assert not is_checksum_only_failure(problems)


def test_category_must_exist_under_its_authority():
    problems = validate_uscc(replace_at("9144030071526726XG", 1, "4"))
    assert codes_of(problems)[0] == (2, "organisation_category")
    assert "market regulation" in problems[0].message


def test_religious_site_codes_are_accepted():
    # A temple visited by tourists (authority 7) is a real merchant in complaints.
    assert validate_uscc(make_uscc("MJX17368", registration="7", category="1")) == []


def test_reports_all_problems_at_once():
    problems = validate_uscc("9IA403007152672SXH")
    assert codes_of(problems) == [(2, "character"), (3, "division_digits"), (16, "character")]


def test_is_checksum_only_failure():
    assert not is_checksum_only_failure([])
    assert not is_checksum_only_failure(validate_uscc("91440300715267"))
    assert not is_checksum_only_failure(validate_uscc("9B44030071526726XH"))


def test_problem_is_frozen():
    problem = UsccProblem(position=18, code="check_character", message="m")
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.code = "x"


@given(st.text(max_size=40))
def test_never_raises_and_positions_are_real(raw):
    problems = validate_uscc(raw)
    length = len(normalise_uscc(raw))
    assert all(p.position is None or 1 <= p.position <= length for p in problems)
    assert all(p.message for p in problems)


def test_module_stays_pure():
    tree = ast.parse(Path(uscc.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"string", "unicodedata", "dataclasses"}
