"""The regulator console in a real browser: sign in, open the queue, accept a case."""

import re
import shutil
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from complaints.accounts.seed import DEMO_PASSWORD
from complaints.database import utcnow
from tests.app.test_console_support import TAXI, attach_photo, file_case
from tests.browser.conftest import ARTIFACTS, DEFAULT_TIMEOUT_MS

pytestmark = pytest.mark.browser
SHOTS = ARTIFACTS / "console"


@pytest.fixture
def desktop(browser, live_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", base_url=live_server
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def shot():
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    counter = iter(range(1, 100))

    def take(page, step):
        page.screenshot(path=str(SHOTS / f"{next(counter):02d}-{step}.png"), full_page=True)

    return take


def test_handler_signs_in_opens_a_case_and_accepts_it(app, desktop, served, shot):
    now = utcnow()
    urgent = file_case(TAXI, now - timedelta(days=14), description="Meter showed 88, paid 880.")
    attach_photo(app, urgent)
    file_case(TAXI, now, description="A later complaint about the same taxi company.")

    page = desktop.new_page()
    page.goto("/console/?lang=en")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#email", "handler.sanya@anxin.demo")
    page.fill("#password", DEMO_PASSWORD)
    shot(page, "sign-in")
    page.click("button[type=submit]")

    expect(page.locator("h1")).to_contain_text("Case queue")
    rows = page.locator("tr.queue-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-number", urgent.number)  # nearest deadline first
    expect(rows.first.locator(".badge.overdue")).to_be_visible()
    shot(page, "queue")

    rows.first.locator("a").first.click()
    expect(page.locator("#case-state")).to_have_text("Regulator review")
    timeline = page.locator("#timeline li")
    expect(timeline).to_have_count(2)
    expect(page.locator("#evidence img")).to_have_count(1)
    assert page.locator("#evidence img").evaluate("img => img.naturalWidth") > 0
    shot(page, "case")

    page.locator("#action-accept button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Done: Accept.")
    expect(page.locator("#case-state")).to_have_text("Mediation")
    expect(timeline).to_have_count(3)
    expect(timeline.last).to_contain_text("Accept")
    expect(timeline.last).to_contain_text("Li Na")
    expect(page.locator("#action-record_agreement")).to_be_visible()
    shot(page, "accepted")
    served.wait_idle()
