"""The six languages of the tourist pages, SMS and e-mail, and how one is chosen.

Simplified Chinese is the default; Traditional Chinese, English, Korean, Russian and Japanese
cover the largest inbound tourist groups in Hainan. A visitor's language comes from ?lang= or
the form's switch, then the cookie, then Accept-Language (zh-TW/HK/MO and zh-Hant mean
Traditional), then the default. For text messages the phone's country is a hint when the
tourist did not choose a language themselves.
"""

import phonenumbers

# Code (a Babel locale and the catalog directory), its own name, its BCP 47 tag for <html lang>.
LANGUAGE_NAMES = {
    "zh": "简体中文",
    "zh_Hant": "繁體中文",
    "en": "English",
    "ko": "한국어",
    "ru": "Русский",
    "ja": "日本語",
}
HTML_LANG = {"zh": "zh-CN", "zh_Hant": "zh-Hant", "en": "en", "ko": "ko", "ru": "ru", "ja": "ja"}
SUPPORTED = tuple(LANGUAGE_NAMES)

TRADITIONAL_TAGS = ("zh-tw", "zh-hk", "zh-mo", "zh-hant")
# Where a phone number is from, as a hint for the language of text messages.
COUNTRY_LANGUAGE = {
    "CN": "zh",
    "TW": "zh_Hant",
    "HK": "zh_Hant",
    "MO": "zh_Hant",
    "KR": "ko",
    "RU": "ru",
    "BY": "ru",
    "KZ": "ru",
    "KG": "ru",
    "JP": "ja",
}


def from_accept_language(accept, languages: tuple[str, ...]) -> str | None:
    """The best of `languages` for a werkzeug LanguageAccept, Traditional Chinese included."""
    for tag, _quality in accept:
        tag = tag.lower().replace("_", "-")
        if tag.startswith(TRADITIONAL_TAGS) and "zh_Hant" in languages:
            return "zh_Hant"
        if tag.startswith("zh") and "zh" in languages:
            return "zh"
        primary = tag.split("-")[0]
        if primary in languages:
            return primary
    return None


def language_for_phone(e164: str, languages: tuple[str, ...]) -> str | None:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return None
    language = COUNTRY_LANGUAGE.get(region)
    return language if language in languages else None


def html_lang(code: str) -> str:
    return HTML_LANG.get(code, code)
