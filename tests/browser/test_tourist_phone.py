"""The tourist's phone on a slow network: small pages, quick to use, the complain button above
the fold on a 360×640 screen, a draft that survives a reload, a visible resend countdown."""

import re

import pytest
from playwright.sync_api import Page, expect

from complaints.database import utcnow
from complaints.extensions import db
from tests.app.test_portal_support import merchant_case
from tests.browser.conftest import DEFAULT_TIMEOUT_MS
from tests.browser.test_tourist_journey import ah_hai

pytestmark = pytest.mark.browser

# WebPageTest's "3G Slow": 400 ms round trip, 400 kbit/s each way (Chrome's own "Slow 3G"
# preset adds a 5x latency factor meant for page-load estimates, not for a device profile).
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400 * 1000 / 8,
    "uploadThroughput": 400 * 1000 / 8,
}
SMALL_PHONE = {"width": 360, "height": 640}


@pytest.fixture
def small_phone(browser, live_server):
    """A 360×640 Android-size phone, fresh (first visit: nothing cached)."""
    context = browser.new_context(
        viewport=SMALL_PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        base_url=live_server,
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield context
    context.close()


def _first_visit_on_slow_3g(context, path: str) -> tuple[Page, int, float]:
    """Open `path` throttled; (page, bytes transferred, ms until DOMContentLoaded ended)."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    transferred = []
    cdp.on("Network.loadingFinished", lambda event: transferred.append(event["encodedDataLength"]))
    page.goto(path, wait_until="load")
    interactive = page.evaluate(
        "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
    )
    return page, int(sum(transferred)), float(interactive)


def test_scan_page_is_small_fast_and_the_button_is_above_the_fold(small_phone):
    merchant = ah_hai()
    page, size, interactive = _first_visit_on_slow_3g(small_phone, f"/s/{merchant.token}")
    print(f"scan: {size} bytes, interactive after {interactive:.0f} ms on slow 3G")
    assert size < 50_000, f"scan page transferred {size} bytes on first visit"
    assert interactive < 2_000, f"scan page interactive after {interactive:.0f} ms on slow 3G"
    button = page.locator("#complain")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["y"] + box["height"] <= SMALL_PHONE["height"], f"complain button at {box}"
    badge = page.locator(".grade-line")
    expect(badge).to_contain_text("本平台评级")


def test_form_is_small_and_fast(small_phone):
    merchant = ah_hai()
    page, size, interactive = _first_visit_on_slow_3g(small_phone, f"/s/{merchant.token}/complain")
    print(f"form: {size} bytes, interactive after {interactive:.0f} ms on slow 3G")
    assert size < 100_000, f"form transferred {size} bytes on first visit"
    assert interactive < 2_000, f"form interactive after {interactive:.0f} ms on slow 3G"
    expect(page.locator("#description")).to_be_editable()


def test_the_draft_survives_a_reload_and_goes_once_filed(small_phone):
    merchant = ah_hai()
    page = small_phone.new_page()
    page.goto(f"/s/{merchant.token}/complain?lang=en")
    page.fill("#description", "Charged 880 for a plate priced at 88 on the board.")
    page.fill("#tourist_name", "Alice Tourist")
    page.select_option("#remedy", "partial_refund")
    page.reload()
    expect(page.locator("#description")).to_have_value(
        "Charged 880 for a plate priced at 88 on the board."
    )
    expect(page.locator("#tourist_name")).to_have_value("Alice Tourist")
    expect(page.locator("#remedy")).to_have_value("partial_refund")

    page.fill("#occurred_on", utcnow().date().isoformat())
    page.fill("#amount_paid", "880")
    page.fill("#amount_claimed", "792")
    page.fill("#phone", "+44 7911 123456")
    page.locator("#complaint-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/t/[0-9a-f]{32}\?new=1"))
    page.goto(f"/s/{merchant.token}/complain?lang=en")
    expect(page.locator("#description")).to_have_value("")  # filed: the draft is gone


def test_resend_shows_a_countdown(small_phone):
    case, key = merchant_case(utcnow())
    case.phone_verified_at = None
    db.session.commit()
    from complaints.verification.services import send_new_code

    send_new_code(case, now=utcnow())
    db.session.commit()
    db.session.remove()
    page = small_phone.new_page()
    page.goto(f"/t/{key}?lang=en")
    seconds = page.locator("#resend-seconds")
    expect(seconds).to_be_visible()
    expect(page.locator("#resend-button")).to_be_disabled()
    first = int(seconds.inner_text())
    page.wait_for_timeout(1_100)
    assert int(seconds.inner_text()) < first
