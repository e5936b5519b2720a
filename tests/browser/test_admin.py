"""Administration in a real browser, in the default Chinese UI: import a CSV with bad rows and
fix them, create an outlet, print its posters (every code decoded from the PDF), and invite a
fund manager who sets a password from the e-mailed link and signs in with TOTP."""

import re

import pyotp
import pypdfium2 as pdfium
import pytest
import zxingcpp
from playwright.sync_api import expect
from sqlalchemy import select

from complaints.accounts.seed import DEMO_PASSWORD
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Enterprise
from complaints.merchants.services import resolve_scan_token
from complaints.merchants.uscc import make_uscc
from tests.app.admin_files import BAD_CHECK, ENTERPRISE_HEADER, HOTEL, SEAFOOD, csv_bytes
from tests.app.test_notices_support import fake_servers as fake_servers
from tests.app.test_notices_support import fakes as fakes
from tests.browser.conftest import DEFAULT_TIMEOUT_MS

pytestmark = pytest.mark.browser
ADMIN = "admin@anxin.demo"
INVITEE = "fund.new@amr.example.cn"


@pytest.fixture
def desktop(browser, live_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield context
    context.close()


def _sign_in(page, email, password=DEMO_PASSWORD):
    page.goto("/login?next=/admin/")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    # Let the landing page finish (its scripts too) before going elsewhere: an aborted static
    # download leaves the live server's file open.
    page.wait_for_load_state("networkidle")


def _upload(page, rows, name):
    page.goto("/admin/import")
    page.select_option("#kind", "enterprises")
    page.set_input_files(
        "#file",
        files=[
            {"name": name, "mimeType": "text/csv", "buffer": csv_bytes(ENTERPRISE_HEADER, rows)}
        ],
    )
    page.fill("#reason", "试点导入")
    page.click("#import-form button[type=submit]")


def test_import_with_bad_rows_fix_create_outlet_and_print(desktop, screenshot, tmp_path):
    page = desktop.new_page()
    _sign_in(page, ADMIN)
    rows = [
        [SEAFOOD, "三亚测试海鲜店", "Test Seafood", "460203", "13800138000", "a@b.cn", "是", "zh"],
        [HOTEL, "海口测试酒店", "", "460100", "", "", "", ""],
        [BAD_CHECK[:-3] + "OOO", "坏代码商户", "", "460203", "12", "", "", ""],
    ]
    _upload(page, rows, "企业.csv")
    expect(page.locator("#import-summary")).to_contain_text("新增 2，更新 0，未变 0，拒绝 1")
    errors = page.locator("#import-errors tbody tr")
    expect(errors.filter(has_text="uscc").first).to_contain_text("4")
    expect(errors.filter(has_text="contact_phone")).to_have_count(1)
    screenshot(page, "import-errors")

    rows[2] = [make_uscc("MA1AAAA3", division="460203"), "修正商户", "", "460203", "", "", "", ""]
    _upload(page, rows, "企业-修正.csv")
    expect(page.locator("#import-summary")).to_contain_text("新增 1，更新 0，未变 2，拒绝 0")
    screenshot(page, "import-fixed")

    page.goto(f"/admin/outlets?uscc={SEAFOOD}")
    page.click("#new-outlet")
    page.fill("#name_zh", "测试海鲜店一号")
    page.fill("#name_en", "Test Seafood No. 1")
    page.select_option("#category", "catering")
    page.select_option("#division_code", "460203")
    page.fill("#lat", "18.2528")
    page.fill("#long", "109.5120")
    page.fill("#reason", "新门店")
    page.click("#outlet-form button[type=submit]")
    expect(page.locator("#outlet-list")).to_contain_text("测试海鲜店一号")
    screenshot(page, "outlet-created")

    page.select_option("#size", "a6")
    with page.expect_download() as download_info:
        page.click("#download-posters")
    pdf_path = tmp_path / "posters.pdf"
    download_info.value.save_as(pdf_path)
    decoded = _decode(pdf_path)
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == SEAFOOD))
    assert sorted(decoded) == sorted(o.code for o in enterprise.outlets)


def _decode(path) -> list[str]:
    codes = []
    pdf = pdfium.PdfDocument(str(path))
    try:
        for page in pdf:
            image = page.render(scale=150 / 72).to_pil()
            for result in zxingcpp.read_barcodes(image):
                codes.append(resolve_scan_token(result.text.rsplit("/s/", 1)[1]).outlet.code)
    finally:
        pdf.close()
    return codes


def _enrol(page) -> str:
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#totp-form button[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.click("#continue")
    return secret


def test_invited_fund_manager_signs_in_with_totp(
    app, desktop, browser, live_server, fakes, monkeypatch, screenshot
):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", "admin,fund_manager")
    page = desktop.new_page()
    _sign_in(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/account/two-factor$"))
    _enrol(page)
    page.goto("/admin/staff")
    page.fill("#email", INVITEE)
    page.fill("#name", "新基金管理员")
    page.select_option("#role", "fund_manager")
    page.select_option("#agency", "amr-460200")
    page.fill("#reason", "新入职")
    page.click("#invite-form button[type=submit]")
    expect(page.locator(f'tr[data-email="{INVITEE}"]')).to_contain_text("已邀请")
    screenshot(page, "invited")

    (email,) = [m for m in fakes.smtp.messages if m.to == INVITEE]
    link = re.search(r"(http://127\.0\.0\.1:\d+/staff/invite/\S+)", email.body).group(1)
    invitee = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, base_url=live_server
    )
    invitee.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        other = invitee.new_page()
        other.goto(link)
        other.fill("#password", "a long enough password 42")
        other.fill("#confirm", "a long enough password 42")
        other.click("#password-form button[type=submit]")
        expect(other).to_have_url(re.compile(r"/login"))
        other.fill("#email", INVITEE)
        other.fill("#password", "a long enough password 42")
        other.click("main button[type=submit]")
        expect(other).to_have_url(re.compile(r"/account/two-factor$"))
        screenshot(other, "totp-setup")
        secret = _enrol(other)
        other.goto("/admin/outlets")
        expect(other.locator("#outlet-list")).to_be_visible()
        # Signing in again asks for the code.
        other.click("header form button[type=submit]")
        other.goto("/login?next=/admin/outlets")
        other.fill("#email", INVITEE)
        other.fill("#password", "a long enough password 42")
        other.click("main button[type=submit]")
        expect(other).to_have_url(re.compile(r"/login/code"))
        step = pyotp.TOTP(secret).timecode(utcnow()) + 1  # the enrolment used this step's code
        other.fill("#code", pyotp.TOTP(secret).generate_otp(step))
        other.click("#totp-form button[type=submit]")
        expect(other).to_have_url(re.compile(r"/admin/outlets"))
        screenshot(other, "signed-in")
    finally:
        invitee.close()


def test_two_factor_after_set_up_new_codes_and_an_admins_reset(
    app, browser, live_server, monkeypatch, screenshot
):
    """In Chinese, with axe: new recovery codes need a current app code; a role that requires
    2FA is not offered "off"; an admin resets a fund manager who lost the phone."""
    from tests.browser.axe import blocking_violations

    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", "admin,fund_manager")
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="zh-CN",
        base_url=live_server,
        bypass_csp=True,  # to inject axe-core
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        manager = context.new_page()
        _sign_in(manager, "fund.sanya@anxin.demo")
        _enrol(manager)
        manager.close()
        context.clear_cookies()

        page = context.new_page()
        _sign_in(page, ADMIN)
        secret = _enrol(page)
        page.goto("/account/two-factor")
        expect(page.locator("#totp-on")).to_contain_text("两步验证登录已开启")
        expect(page.locator("#totp-off")).to_have_count(0)  # required of admins
        assert blocking_violations(page) == []
        step = pyotp.TOTP(secret).timecode(utcnow()) + 1  # the enrolment used this step's code
        page.fill("#renew-code", pyotp.TOTP(secret).generate_otp(step))
        page.click("#totp-renew button[type=submit]")
        expect(page.locator("#recovery-codes li")).to_have_count(10)
        screenshot(page, "new-recovery-codes")

        page.goto("/admin/staff")
        row = page.locator('tr[data-email="fund.sanya@anxin.demo"]')
        expect(row).to_contain_text("已开启两步验证")
        row.locator(".reset-2fa input[name=reason]").fill("手机丢失")
        page.once("dialog", lambda dialog: dialog.accept())
        row.locator(".reset-2fa button[type=submit]").click()
        expect(page.locator("body")).to_contain_text("已重置 fund.sanya@anxin.demo 的两步验证登录")
        expect(row).not_to_contain_text("已开启两步验证")
        assert blocking_violations(page) == []
    finally:
        context.close()
