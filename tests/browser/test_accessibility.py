"""axe-core on every tourist, merchant and console page: no serious or critical violation."""

import pytest
from playwright.sync_api import Page, expect

from complaints.accounts.seed import DEMO_PASSWORD
from complaints.database import utcnow
from complaints.extensions import db
from tests.app.test_compensation_support import TEST_PAYEE, eligible_case
from tests.app.test_portal_support import AH_HAI_OWNER, merchant_case
from tests.browser.axe import blocking_violations
from tests.browser.conftest import DEFAULT_TIMEOUT_MS

pytestmark = pytest.mark.browser


def _check(page: Page, path: str, found: list[str]) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status < 500, (path, response.status)
    found.extend(blocking_violations(page))


def _sign_in(page: Page, email: str, then: str = "/merchant/") -> None:
    page.goto(f"/login?lang=zh&next={then}")  # the staff default: Chinese
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header .who")).to_be_visible()


def test_tourist_pages(new_phone):
    from tests.browser.test_tourist_journey import ah_hai

    merchant = ah_hai()
    case, key = merchant_case(utcnow())
    number = case.number
    db.session.remove()
    found: list[str] = []
    for locale in ("zh-CN",):  # the default UI; the rules do not depend on the words
        page = new_phone(locale, bypass_csp=True).new_page()
        for path in (
            "/",
            "/find?q=Ah+Hai",
            f"/s/{merchant.token}",
            f"/s/{merchant.token}/complain",
            f"/t/{key}?new=1",
            f"/t/{key}",
            "/my-complaint",
            "/t/not-a-link",
            "/no-such-page",
        ):
            _check(page, path, found)
        # The form shown again with errors, and the find-my-complaint code step.
        page.goto(f"/s/{merchant.token}/complain")
        page.locator("#complaint-form button[type=submit]").click()
        found.extend(blocking_violations(page))
        page.goto("/my-complaint")
        page.fill("#number", number)
        page.fill("#phone", "+86 138 1234 5678")
        page.locator("#find-case button[type=submit]").click()
        expect(page.locator("#code")).to_be_visible()
        found.extend(blocking_violations(page))
    assert not found, "\n".join(found)


def test_poster_has_landmarks_and_passes(new_phone):
    from tests.app.helpers import outlet_named

    code = outlet_named("Ah Hai").code
    db.session.remove()
    page = new_phone("zh-CN", bypass_csp=True).new_page()
    found: list[str] = []
    _check(page, f"/outlets/{code}/poster?size=a5", found)
    expect(page.get_by_role("main")).to_have_count(1)
    assert not found, "\n".join(found)


@pytest.fixture
def desktop(browser, live_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="zh-CN",
        base_url=live_server,
        bypass_csp=True,  # the page's CSP (no inline script) would block injecting axe
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield context
    context.close()


def test_merchant_and_console_pages(desktop):
    from complaints.cases.workflow import Actor
    from complaints.compensation.services import request_claim
    from workflows.states import Role

    case, _key = merchant_case(utcnow())
    claim_case = eligible_case(claimed_fen=79_200)
    claim = request_claim(claim_case, 79_200, Actor(Role.TOURIST), now=utcnow(), payee=TEST_PAYEE)
    db.session.commit()
    number, claim_id, uscc = case.number, claim.id, case.enterprise.uscc
    db.session.remove()
    found: list[str] = []

    merchant = desktop.new_page()
    _sign_in(merchant, AH_HAI_OWNER)
    for path in (
        "/merchant/",
        f"/merchant/cases/{number}",
        "/merchant/outlets",
        "/merchant/staff",
        "/merchant/credit",
    ):
        _check(merchant, path, found)
    merchant.close()
    desktop.clear_cookies()

    for email, paths in (
        (
            "handler.sanya@anxin.demo",
            [
                f"/console/cases/{number}",
                "/console/",
                "/console/merchants",
                f"/console/merchants/{uscc}",
                "/console/notifications",
            ],
        ),
        ("fund.sanya@anxin.demo", ["/console/fund/", f"/console/fund/claims/{claim_id}"]),
    ):
        page = desktop.new_page()
        _sign_in(page, email, then=paths[0])
        for path in paths:
            _check(page, path, found)
        page.close()
        desktop.clear_cookies()
    assert not found, "\n".join(found)
