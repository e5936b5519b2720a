"""The merchant portal in a real browser, on a phone and on a desktop: answer with an offer
that the tourist accepts on their phone, dispute with evidence, and stay silent past the
deadline so the case goes to the regulator."""

from datetime import timedelta

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from complaints.accounts.seed import DEMO_PASSWORD
from complaints.cases.audit import verify_all_chains
from complaints.database import utcnow
from complaints.extensions import db
from complaints.timers.tick import run_tick
from tests.app.test_portal_support import AH_HAI_OWNER, merchant_case
from tests.browser.conftest import DEFAULT_TIMEOUT_MS

pytestmark = pytest.mark.browser


@pytest.fixture(params=["phone", "desktop"])
def merchant_browser(request, playwright, browser, live_server):
    """The merchant's own browser: an iPhone 13 at the counter, or a desk in the back office."""
    if request.param == "phone":
        options = dict(playwright.devices["iPhone 13"])
        options.pop("default_browser_type", None)  # "webkit": we drive chromium
    else:
        options = {"viewport": {"width": 1280, "height": 900}}
    context = browser.new_context(**options, locale="en-GB", base_url=live_server)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield context
    context.close()


def routed_case(now=None):
    """A case waiting for Ah Hai's answer; the session is let go before the server writes."""
    case, key = merchant_case(now or utcnow())
    number = case.number
    db.session.remove()
    return number, key


def sign_in_to_portal(page: Page) -> None:
    page.goto("/merchant/?lang=en")
    page.fill("#email", AH_HAI_OWNER)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open complaints")


def open_case(page: Page, number: str) -> None:
    page.locator(f"tr[data-number='{number}'] a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(number)


def assert_fits(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths}"


def document(tmp_path, name: str, text: str):
    image = Image.new("RGB", (600, 400), (250, 248, 240))
    ImageDraw.Draw(image).text((40, 60), text, fill=(0, 0, 0))
    path = tmp_path / name
    image.save(path, "JPEG", quality=85)
    return path


def test_merchant_offers_and_the_tourist_accepts(merchant_browser, new_phone, screenshot):
    number, key = routed_case()
    page = merchant_browser.new_page()
    sign_in_to_portal(page)
    row = page.locator(f"tr[data-number='{number}']")
    expect(row).to_contain_text("your answer")
    expect(row.locator(".time-left")).to_contain_text("left")
    assert_fits(page)
    screenshot(page, "merchant-dashboard")

    open_case(page, number)
    expect(page.locator("#tourist-phone")).to_contain_text("+86138****5678")
    page.fill("#merchant_offer-amount", "300.00")
    page.fill("#merchant_offer-terms", "A free seafood dinner on your next visit")
    assert_fits(page)
    screenshot(page, "merchant-offer-filled")
    page.locator("#action-merchant_offer button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Done: Merchant made an offer.")
    expect(page.locator("#offer-status")).to_have_text("Waiting for the tourist")
    screenshot(page, "merchant-offer-sent")

    tourist = new_phone("en-GB").new_page()
    tourist.goto(f"/t/{key}?lang=en")
    offer = tourist.locator("#offer")
    expect(offer.locator("#offer-amount")).to_have_text("¥300.00")
    expect(offer).to_contain_text("A free seafood dinner")
    assert_fits(tourist)
    screenshot(tourist, "tourist-sees-offer")
    offer.get_by_role("button", name="Accept the offer").tap()
    expect(tourist.locator(".state").first).to_have_text("Resolved")
    expect(tourist.locator("#tourist-notices")).to_contain_text("You accepted the offer.")
    expect(tourist.locator(".timeline")).to_contain_text("Accepted Offer: ¥300.00")
    expect(tourist.locator("#rating")).to_be_visible()
    screenshot(tourist, "tourist-accepted")

    page.reload()
    expect(page.locator("#case-state")).to_have_text("Resolved")
    expect(page.locator("#timeline")).to_contain_text("Tourist accepted the offer")
    expect(page.locator("#offer-status")).to_have_text("Accepted")
    screenshot(page, "merchant-sees-settled")
    db.session.remove()
    assert list(verify_all_chains()) == []


def test_merchant_disputes_with_evidence(merchant_browser, new_phone, screenshot, tmp_path):
    number, key = routed_case()
    page = merchant_browser.new_page()
    sign_in_to_portal(page)
    open_case(page, number)

    stage = page.locator("#stage-evidence")
    stage.locator("#kind").select_option("receipt")
    stage.locator("#file").set_input_files(document(tmp_path, "till.jpg", "Seafood 88.00/jin"))
    stage.locator("#note").fill("Till roll for the table")
    stage.get_by_role("button", name="Add file").click()
    expect(page.locator("#staged-evidence li")).to_have_count(1)
    stage = page.locator("#stage-evidence")
    stage.locator("#kind").select_option("photo")
    stage.locator("#file").set_input_files(document(tmp_path, "board.jpg", "Price board"))
    stage.get_by_role("button", name="Add file").click()
    expect(page.locator("#staged-evidence li")).to_have_count(2)
    page.fill(
        "#merchant_dispute-reason", "The price per jin was on the board; the tourist chose 10 jin."
    )
    assert_fits(page)
    screenshot(page, "dispute-staged")

    page.get_by_role("button", name="Submit the dispute (2 files)").click()
    expect(page.locator("#case-state")).to_have_text("Regulator review")
    expect(page.locator("#submitted-evidence li")).to_have_count(2)
    # The audit line keeps the files' hashes; the timeline says it in words (cases/reasons.py).
    expect(page.locator("#timeline")).to_contain_text("2 files of evidence.")
    expect(page.locator("#dispute")).to_have_count(0)  # nothing more can be added
    screenshot(page, "dispute-submitted")

    tourist = new_phone("en-GB").new_page()
    tourist.goto(f"/t/{key}?lang=en")
    expect(tourist.locator(".state").first).to_have_text("Being reviewed by the regulator")
    expect(tourist.locator(".timeline")).to_contain_text("the tourist chose 10 jin")
    screenshot(tourist, "tourist-sees-dispute")


def test_silence_past_the_deadline_goes_to_the_regulator(merchant_browser, new_phone, screenshot):
    now = utcnow()
    number, key = routed_case(now - timedelta(hours=2))
    report = run_tick(now + timedelta(hours=23))  # 25 hours after filing: the 24 h limit passed
    assert report.expired == 1, report
    db.session.remove()

    page = merchant_browser.new_page()
    sign_in_to_portal(page)
    row = page.locator(f"tr[data-number='{number}']")
    expect(row).to_contain_text("Regulator review")
    expect(row).not_to_contain_text("your answer")
    expect(page.locator("[data-outcome='merchant_deadline_passed']")).to_have_text("1")
    screenshot(page, "dashboard-after-deadline")
    open_case(page, number)
    expect(page.locator("#case-state")).to_have_text("Regulator review")
    expect(page.locator("#timeline")).to_contain_text("Merchant did not answer in time")
    expect(page.locator("#no-actions")).to_be_visible()
    assert_fits(page)
    screenshot(page, "case-with-the-regulator")
    page.get_by_role("link", name="Outlets and codes").click()
    expect(page.locator("section.outlet img")).to_have_count(1)
    assert page.locator("section.outlet img").evaluate("img => img.naturalWidth") > 0
    assert_fits(page)
    screenshot(page, "outlets-and-codes")

    tourist = new_phone("en-GB").new_page()
    tourist.goto(f"/t/{key}?lang=en")
    expect(tourist.locator(".state").first).to_have_text("Being reviewed by the regulator")
    screenshot(tourist, "tourist-sees-regulator")
