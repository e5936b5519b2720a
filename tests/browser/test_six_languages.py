"""The issue's "done when": on a phone, in each of the six languages, a tourist files a
complaint without a photo, adds one afterwards, loses the link, finds the case again, and
claims compensation with a payee account. One parametrised walk; ids, not words, find things."""

import re
import time

import pytest
from playwright.sync_api import Page, expect

from complaints.clock import local_today
from tests.app.test_notices_support import fake_servers as fake_servers
from tests.app.test_notices_support import fakes as fakes
from tests.app.test_notices_support import sms_to
from tests.browser.test_tourist_journey import ah_hai, receipt_photo

pytestmark = pytest.mark.browser

LANGUAGES = [
    ("zh", "zh-CN", "zh-CN", "+44 7911 100001"),
    ("zh_Hant", "zh-TW", "zh-Hant", "+44 7911 100002"),
    ("en", "en-GB", "en", "+44 7911 100003"),
    ("ko", "ko-KR", "ko", "+44 7911 100004"),
    ("ru", "ru-RU", "ru", "+44 7911 100005"),
    ("ja", "ja-JP", "ja", "+44 7911 100006"),
]
CODE = re.compile(r"(?<![\d-])(\d{6})(?![\d-])")
LINK = re.compile(r"https?://\S+")


def _codes(fakes, phone: str) -> list[str]:
    """The codes texted to a number, oldest first. Links are left out: a tracking key is hex,
    and six digits in a row between its letters looked like a code."""
    e164 = "+" + re.sub(r"\D", "", phone)
    found = (CODE.search(LINK.sub(" ", body)) for body in sms_to(fakes.twilio, e164))
    return [match.group(1) for match in found if match]


def _new_code(fakes, phone: str, seen: int, wait_s: float = 10.0) -> str:
    """The code texted after the `seen` earlier ones, waiting for it: texts leave after the
    request that caused them, and the page can be quicker than the text."""
    deadline = time.monotonic() + wait_s
    while len(codes := _codes(fakes, phone)) <= seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"no new code texted to {phone} after {seen}: {codes}")
        time.sleep(0.05)
    return codes[-1]


def _in_language(page: Page, html_lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", html_lang)


@pytest.mark.parametrize(("code", "browser_locale", "html_lang", "phone_number"), LANGUAGES)
def test_the_whole_journey_in_each_language(
    code, browser_locale, html_lang, phone_number, new_phone, fakes, tmp_path
):
    merchant = ah_hai()
    page = new_phone(browser_locale).new_page()

    # Scan and file, without a photo (the browser's own language picks the page's).
    page.goto(f"/s/{merchant.token}")
    _in_language(page, html_lang)
    page.locator("#complain").tap()
    page.fill("#description", "Charged 300 yuan for a plate priced at 30 on the board.")
    page.fill("#occurred_on", local_today().isoformat())
    page.fill("#amount_paid", "300")
    page.fill("#tourist_name", "Alice Tourist")
    page.fill("#phone", phone_number)
    expect(page.locator("#language")).to_have_value(code)
    page.locator("#complaint-form button[type=submit]").tap()
    expect(page).to_have_url(re.compile(r"/t/[0-9a-f]{32}\?new=1$"))
    _in_language(page, html_lang)
    expect(page.get_by_role("heading", level=1)).to_contain_text("HN-460200-")
    number = page.locator(".case-number").inner_text().strip()

    # Confirm the phone with the texted code: the case goes to the merchant.
    page.fill("#verify-code", _new_code(fakes, phone_number, seen=0))
    page.locator("#verify-phone form").first.locator("button[type=submit]").tap()
    expect(page.locator("#verify-code")).to_have_count(0)

    # Add a photo afterwards, with a note.
    page.set_input_files("#evidence-files", receipt_photo(tmp_path))
    page.select_option("#evidence-kind", "receipt")
    page.fill("#evidence-note", "The bill")
    page.locator("#add-evidence button[type=submit]").tap()
    expect(page.locator("#evidence-list li")).to_have_count(1)

    # Lose the link: a new browser, "find my complaint" by case number, phone and code.
    lost = new_phone(browser_locale).new_page()
    lost.goto("/t/0123456789abcdef0123456789abcdef")
    _in_language(lost, html_lang)
    lost.locator("#tracking-not-found a.button").tap()
    lost.fill("#number", number)
    lost.fill("#phone", phone_number)
    lost.locator("#find-case button[type=submit]").tap()
    expect(lost.locator("#code")).to_be_visible()
    lost.fill("#code", _new_code(fakes, phone_number, seen=1))
    lost.locator("#find-case-code button[type=submit]").tap()
    expect(lost).to_have_url(re.compile(r"/t/[0-9a-f]{32}$"))
    expect(lost.locator(".case-number")).to_have_text(number)
    _in_language(lost, html_lang)

    # Claim compensation with a payee account: a small claim is paid at once.
    expect(lost.locator("#compensation-amount-input")).to_have_value("300.00")
    expect(lost.locator("input[name=payee_method][value=alipay]")).to_be_checked()
    lost.fill("#payee-account", "138 1234 5678")
    lost.locator("#ask-compensation button[type=submit]").tap()
    expect(lost.locator("#compensation-payee")).to_contain_text("138****5678")
    expect(lost.locator("#compensation-amount")).to_contain_text("300.00")
