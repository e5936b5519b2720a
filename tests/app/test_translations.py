"""The Chinese catalog: complete, well-formed, in step with the sources, and actually used.

Adding an English string? Run `make messages`, translate the new entries in
complaints/translations/zh/LC_MESSAGES/messages.po, and these tests pass again.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from complaints.notices.rendering import SMS_PREFIX, render_message
from tests.app.helpers import complaint_form_data, outlet_named, token_for
from tests.app_fixtures import error_for

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "complaints" / "translations"
POT = TRANSLATIONS / "messages.pot"
ZH_PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
HOW_TO_FIX = (
    "Run `make messages` (it extracts with the same command as this test and adds the new "
    f"ids to {ZH_PO.relative_to(ROOT)}), then translate every new entry: no empty msgstr, "
    "no fuzzy flag, the same %(name)s placeholders."
)

# %(name)s, %(n)d, %(m).1f, %(m)02d, %s ... and {name} / {0}; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]|\{[^{}]*\}"
)
NAMED = re.compile(r"%\(([^)]*)\)[-#0 +]*\d*(?:\.\d+)?([diouxXeEfFgGcrsa])")
SIGNATURE = re.compile(r"【[^】]*】")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _read(path: Path):
    with path.open("rb") as file:
        return read_po(file, locale="zh" if path.suffix == ".po" else None)


@pytest.fixture(scope="module")
def zh():
    return _read(ZH_PO)


def _ids(message) -> tuple[str, ...]:
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def _strings(message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


def _messages(catalog):
    return [message for message in catalog if message.id]


def _placeholders(text: str) -> set[str]:
    return {found for found in PLACEHOLDER.findall(text) if found != "%%"}


def _sample_values(msgid: str) -> dict:
    """A value of the right type for each named placeholder, to format a translation with."""
    kinds = {"d": 7, "i": 7, "o": 7, "u": 7, "x": 7, "X": 7, "c": 65}
    return {
        name: kinds.get(kind, 7.5 if kind in "eEfFgG" else "x")
        for name, kind in NAMED.findall(msgid)
    }


def _fmt(ids) -> str:
    return "\n".join(f"  {msgid!r}" for msgid in ids)


# --- the catalog itself -----------------------------------------------------------------------


def test_catalog_header_is_not_fuzzy(zh):
    assert not zh.fuzzy, f"{ZH_PO.name} header is marked fuzzy; remove the flag"
    assert zh.num_plurals == 1, "Chinese has one plural form (nplurals=1; plural=0)"


def test_every_message_is_translated_and_not_fuzzy(zh):
    untranslated = [m.id for m in _messages(zh) if not all(s.strip() for s in _strings(m))]
    fuzzy = [m.id for m in _messages(zh) if m.fuzzy]
    assert not untranslated, f"Untranslated in {ZH_PO.name}:\n{_fmt(untranslated)}\n{HOW_TO_FIX}"
    assert not fuzzy, f"Fuzzy (unchecked) in {ZH_PO.name}:\n{_fmt(fuzzy)}\n{HOW_TO_FIX}"


def test_placeholders_match(zh):
    wrong = []
    for message in _messages(zh):
        expected = set().union(*(_placeholders(msgid) for msgid in _ids(message)))
        for string in _strings(message):
            if _placeholders(string) != expected:
                found = sorted(_placeholders(string))
                wrong.append(f"{message.id!r}: {sorted(expected)} in msgid, {found} in msgstr")
    assert not wrong, "Placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


def test_babel_checkers_pass(zh):
    """Babel's own checks (python-format compatibility, number of plural forms)."""
    problems = [f"{message.id!r}: {errors}" for message, errors in zh.check()]
    assert not problems, "\n".join(problems)


def test_every_translation_formats(zh):
    """Templates always %-format a translation (Jinja's newstyle gettext), so a stray "%" in a
    msgstr breaks the page even when the msgid has no placeholder."""
    broken = []
    for message in _messages(zh):
        values = _sample_values(_ids(message)[0])
        for string in _strings(message):
            try:
                string % values
            except (KeyError, ValueError, TypeError) as exc:
                broken.append(f"{message.id!r}: {exc!r}")
    assert not broken, "\n".join(broken)


def test_sms_signatures_are_kept(zh):
    """A 【安心】-style sender signature in a msgid must survive translation."""
    lost = [
        m.id
        for m in _messages(zh)
        for s in _strings(m)
        if set(SIGNATURE.findall(_ids(m)[0])) - set(SIGNATURE.findall(s))
    ]
    assert not lost, f"Sender signature missing in the translation of:\n{_fmt(lost)}"


# --- in step with the sources -----------------------------------------------------------------


def _make_messages_extract_args() -> list[str]:
    """The `pybabel extract` arguments of `make messages`: the test extracts exactly as it does."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^messages:.*\n((?:\t.*\n?)+)", makefile, re.M)
    assert recipe, "the Makefile has no `messages` target"
    for line in recipe.group(1).splitlines():
        words = shlex.split(line.strip())
        if len(words) > 1 and words[0].endswith("pybabel") and words[1] == "extract":
            return words[2:]
    raise AssertionError("`make messages` does not run `pybabel extract`")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    args = _make_messages_extract_args()
    output = tmp_path_factory.mktemp("messages") / "messages.pot"
    for flag in ("-o", "--output-file"):
        if flag in args:
            args[args.index(flag) + 1] = str(output)
    assert str(output) in args, "`make messages` extracts without `-o FILE`"
    done = subprocess.run(  # noqa: S603 - our interpreter, arguments from our Makefile
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return _read(output)


def test_the_notice_templates_are_extracted(extracted):
    ids = {message.id for message in extracted}
    assert any("is your code to confirm your phone number" in str(i) for i in ids), (
        "SMS/email templates under templates/notices/ are not extracted; check babel.cfg"
    )


def test_every_string_in_the_sources_is_translated(extracted, zh):
    missing = [
        message.id
        for message in _messages(extracted)
        if message.id not in zh or not all(s.strip() for s in _strings(zh[message.id]))
    ]
    assert not missing, (
        f"{len(missing)} English string(s) in the code have no Chinese translation:\n"
        f"{_fmt(missing)}\n{HOW_TO_FIX}"
    )


def test_the_pot_is_up_to_date(extracted):
    committed = {_ids(message)[0] for message in _messages(_read(POT))}
    fresh = {_ids(message)[0] for message in _messages(extracted)}
    assert committed == fresh, (
        f"{POT.relative_to(ROOT)} is out of date.\n"
        f"Only in the sources:\n{_fmt(sorted(fresh - committed))}\n"
        f"Only in the .pot:\n{_fmt(sorted(committed - fresh))}\n{HOW_TO_FIX}"
    )


# --- what a Chinese reader sees ---------------------------------------------------------------

ZH_HEADERS = {"Accept-Language": "zh-CN,zh;q=0.9"}


def _zh(zh, msgid: str) -> str:
    translation = zh[msgid].string
    assert CJK.search(translation), f"{msgid!r} is not translated into Chinese"
    return translation


def test_scan_page_is_chinese(client, seeded, zh):
    outlet = outlet_named("Ah Hai")
    page = client.get(f"/s/{token_for(outlet)}", headers=ZH_HEADERS).get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    for msgid in (
        "File a complaint",
        "Enterprise code",
        "Anxin trust grade",
        "Your complaint goes to the merchant and to the market regulator for this area.",
    ):
        assert _zh(zh, msgid) in page
        assert msgid not in page
    # The platform's own grade is not the regulator's risk class: the caveat must be there.
    note = (
        "Anxin trust grade — this platform's own grade from complaint outcomes, "
        "not the regulator's official risk class."
    )
    assert _zh(zh, note) in page
    assert "official risk class" not in page


def test_scan_page_shows_no_english_ui_text(client, seeded, zh):
    outlet = outlet_named("Ah Hai")
    page = client.get(f"/s/{token_for(outlet)}", headers=ZH_HEADERS).get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    english = [
        m.id
        for m in _messages(zh)
        if isinstance(m.id, str) and " " in m.id and "%" not in m.id and m.id in text
    ]
    assert not english, f"English UI text on the Chinese scan page:\n{_fmt(english)}"


def test_complaint_form_errors_are_chinese(client, seeded, zh):
    outlet = outlet_named("Ah Hai")
    token = token_for(outlet)
    data = complaint_form_data(client, token, description="", tourist_name="", phone="12345")
    response = client.post(f"/s/{token}/complain", data=data, headers=ZH_HEADERS)
    assert response.status_code == 422  # shown again with the errors, nothing filed
    html = response.get_data(as_text=True)
    expected = {
        "description": "Tell us what happened.",
        "tourist_name": "Enter your name.",
        "phone": "This is not a valid phone number; add the country code if it is not Chinese.",
    }
    for field, msgid in expected.items():
        errors = error_for(html, field)
        assert _zh(zh, msgid) in errors, (field, errors)
        assert msgid not in html
    banner = "Please correct the fields marked below. Nothing you typed was lost."
    assert _zh(zh, banner) in html


def test_wtforms_own_messages_are_translated_and_parsed_once_per_language(
    client, seeded, monkeypatch
):
    """WTForms' own messages (a required field left empty) come from its catalogue, which the
    app parses once per process and language, not in every request (Flask-WTF's default)."""
    from babel import support

    from complaints.forms import wtforms_translations
    from tests.app.test_admin_screens import ADMIN, _csrf
    from tests.app.test_console_support import sign_in

    loads = []
    load = support.Translations.load
    monkeypatch.setattr(
        support.Translations, "load", lambda *a, **k: loads.append(k.get("domain")) or load(*a, **k)
    )
    wtforms_translations.cache_clear()
    sign_in(client, ADMIN)
    data = _csrf(client, "/admin/agencies/new")
    data.update(slug="amr-460203-taxi", name_zh="", name_en="Jiyang taxi office", reason="pilot")
    for _ in range(2):
        response = client.post("/admin/agencies/new", data=data, headers=ZH_HEADERS)
        assert response.status_code == 422
        assert error_for(response.get_data(as_text=True), "name_zh") == ["该字段是必填字段。"]
    english = client.post("/admin/agencies/new?lang=en", data=data)
    assert error_for(english.get_data(as_text=True), "name_zh") == ["This field is required."]
    assert loads.count("wtforms") == 2  # Chinese once for both requests, then English once


def test_sms_notice_is_chinese(app, zh):
    msgid = (
        "%(code)s is your code to confirm your phone number for complaint %(number)s. "
        "It expires in %(minutes)s minutes. Do not share it."
    )
    values = {"code": "482913", "number": "HN-460200-20261125-000123", "minutes": 10}
    with app.test_request_context("/"):
        sms = render_message("notices/tourist/phone_code.sms.txt", "sms", "zh", **values)
    assert sms.body == SMS_PREFIX + _zh(zh, msgid) % values


# --- every supported language -----------------------------------------------------------------

SUPPORTED = ("zh", "zh_Hant", "en", "ko", "ru", "ja")
# English is the source language: the msgids themselves.
CATALOG_LANGUAGES = [code for code in SUPPORTED if code != "en"]


def _catalog(code: str):
    path = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"no catalog for {code}: run `make messages` (see the Makefile)"
    with path.open("rb") as file:
        return read_po(file, locale=code)


def test_the_app_offers_exactly_the_six_languages(app):
    assert tuple(app.config["LANGUAGES"]) == SUPPORTED


@pytest.mark.parametrize("code", CATALOG_LANGUAGES)
def test_every_catalog_is_complete_and_not_fuzzy(code, extracted):
    catalog = _catalog(code)
    assert not catalog.fuzzy, f"the {code} catalog header is fuzzy"
    problems = [
        message.id
        for message in _messages(extracted)
        if message.id not in catalog
        or catalog[message.id].fuzzy
        or not all(s.strip() for s in _strings(catalog[message.id]))
    ]
    assert not problems, (
        f"{len(problems)} untranslated or fuzzy in {code}:\n{_fmt(problems[:40])}\n{HOW_TO_FIX}"
    )


@pytest.mark.parametrize("code", [c for c in SUPPORTED if c != "en"])
def test_every_catalog_keeps_placeholders_and_formats(code):
    wrong = []
    for message in _messages(_catalog(code)):
        expected = set().union(*(_placeholders(msgid) for msgid in _ids(message)))
        values = _sample_values(_ids(message)[0])
        for string in _strings(message):
            if not string:
                continue  # untranslated: covered by the completeness check
            if _placeholders(string) != expected:
                wrong.append(f"{message.id!r}: {sorted(_placeholders(string))}")
            try:
                string % values
            except (KeyError, ValueError, TypeError) as exc:
                wrong.append(f"{message.id!r}: {exc!r}")
            if set(SIGNATURE.findall(_ids(message)[0])) - set(SIGNATURE.findall(string)):
                wrong.append(f"{message.id!r}: the 【安心】 signature is missing")
    assert not wrong, f"{code}:\n" + "\n".join(wrong)


def test_zh_hant_is_the_traditional_form_of_zh(zh):
    hant = _catalog("zh_Hant")
    assert hant["Complaint received"].string == "投訴已收到"
    assert _strings(hant["Find my complaint"]) == ("找回我的投訴",)
    simplified_only = "诉认号码链"  # characters that differ in Traditional
    leaked = [m.id for m in _messages(hant) for s in _strings(m) if set(s) & set(simplified_only)]
    assert not leaked, f"Simplified characters left in zh_Hant:\n{_fmt(leaked)}"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("zh-CN,zh;q=0.9", "zh-CN"),
        ("zh-TW,zh;q=0.9", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("ko-KR,ko;q=0.9,en;q=0.5", "ko"),
        ("ru", "ru"),
        ("ja-JP", "ja"),
        ("fr-FR", "zh-CN"),
    ],
)
def test_accept_language_picks_one_of_the_six(client, seeded, accept, expected):
    page = client.get("/", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{expected}">' in page
    for name in ("简体中文", "繁體中文", "English", "한국어", "Русский", "日本語"):
        assert name in page  # the visible picker, each language in its own name
