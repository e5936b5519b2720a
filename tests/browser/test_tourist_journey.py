"""A tourist's phone, end to end: scan the code, file a complaint, follow the case."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from complaints.cases.models import Case, CaseEvent
from complaints.clock import local_today
from complaints.extensions import db
from complaints.merchants.services import rotate_outlet_code, scan_token
from tests.app.helpers import outlet_named

pytestmark = pytest.mark.browser

CASE_NUMBER = re.compile(r"HN-460200-(\d{8})-\d{6}")
TRACKING_PATH = re.compile(r"/t/[0-9a-f]{32}\?new=1$")
DESCRIPTION = "Charged 880 yuan for a seafood plate priced at 88 on the board by the door."
CONSENT = "The merchant may see my name and full number to contact me"


@dataclass(frozen=True)
class Merchant:
    token: str
    uscc: str
    name_en: str
    name_zh: str
    outlet_en: str
    outlet_zh: str


def ah_hai() -> Merchant:
    """Plain facts about the seeded Ah Hai outlet, read without keeping a transaction open."""
    outlet = outlet_named("Ah Hai")
    facts = Merchant(
        token=scan_token(outlet),
        uscc=outlet.enterprise.uscc,
        name_en=outlet.enterprise.name_en,
        name_zh=outlet.enterprise.name_zh,
        outlet_en=outlet.name_en,
        outlet_zh=outlet.name_zh,
    )
    db.session.rollback()
    return facts


def count(column) -> int:
    """A fresh count: the live server wrote in its own thread and sessions."""
    db.session.remove()
    return db.session.scalar(select(func.count(column)))


def receipt_photo(tmp_path, name="receipt.jpg"):
    image = Image.new("RGB", (800, 600), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 760, 560), outline=(30, 30, 30), width=4)
    draw.text((80, 90), "AH HAI SEAFOOD  receipt", fill=(0, 0, 0))
    draw.text((80, 160), "Seafood plate ........ 880.00", fill=(0, 0, 0))
    path = tmp_path / name
    image.save(path, "JPEG", quality=85)
    return path


def assert_phone_layout(page: Page) -> None:
    """Viewport meta present, and nothing wider than the phone (no sideways scrolling)."""
    viewport = page.locator('meta[name="viewport"]')
    expect(viewport).to_have_count(1)
    expect(viewport).to_have_attribute("content", re.compile(r"width=device-width"))
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths}"


def type_into(page: Page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.tap()
    field.press_sequentially(text)


def fill_complaint(page: Page, *, photo, phone="+44 7911 123456", amount_paid="880.00"):
    category = page.get_by_label("What kind of business")
    if category.count():  # a QR code says the outlet's category: the form does not ask it
        category.select_option(label="Catering")
    type_into(page, "What happened", DESCRIPTION)
    page.get_by_label("When did it happen").fill((local_today() - timedelta(days=1)).isoformat())
    type_into(page, "Amount paid (CNY)", amount_paid)
    type_into(page, "Amount you ask for (CNY)", "792")
    page.get_by_label("What would put it right").select_option(label="Partial refund")
    if photo:
        page.get_by_label("Photos (receipt, goods, price tags)").set_input_files(photo)
    type_into(page, "Your name", "Alice Tourist")
    type_into(page, "Mobile number", phone)
    page.get_by_label("Language for messages").select_option(label="English")
    page.get_by_label(CONSENT).check()


def submit(page: Page) -> None:
    page.get_by_role("button", name="Submit complaint").tap()


def detail(page: Page, term: str):
    """The <dd> next to a <dt> on the tracking page."""
    return page.locator(f"dt:text-is('{term}') + dd")


def test_scan_file_and_track_on_an_iphone(phone, screenshot, tmp_path, live_server):
    merchant = ah_hai()
    page = phone.new_page()

    assert page.goto(f"/s/{merchant.token}").status == 200
    expect(page.locator("html")).to_have_attribute("lang", "en")
    card = page.locator("section.merchant")
    expect(card.get_by_role("heading", level=1)).to_have_text(merchant.name_en)
    expect(card.locator(".outlet")).to_have_text(merchant.outlet_en)
    details = page.locator("#merchant-details")
    expect(details.locator("dt:text-is('Enterprise code') + dd")).to_have_text(merchant.uscc)
    expect(details.locator("dt:text-is('Area') + dd")).to_have_text("Tianya District")
    standing = page.locator("#standing")
    expect(standing).to_be_visible()
    expect(standing.get_by_role("heading", level=2)).to_have_text("Anxin trust grade")
    expect(standing).to_contain_text("not the regulator's official risk class")
    assert_phone_layout(page)
    screenshot(page, "scan")

    page.get_by_role("link", name="File a complaint").tap()
    expect(page).to_have_url(f"{live_server}/s/{merchant.token}/complain")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Complaint about {merchant.name_en}")
    assert_phone_layout(page)
    screenshot(page, "form")

    fill_complaint(page, photo=receipt_photo(tmp_path))
    assert_phone_layout(page)
    screenshot(page, "form-filled")

    day_before = local_today()
    submit(page)
    expect(page).to_have_url(TRACKING_PATH)
    day_after = local_today()
    expect(page.get_by_role("heading", name="Complaint received")).to_be_visible()
    number = page.locator(".case-number").inner_text().strip()
    match = CASE_NUMBER.fullmatch(number)
    assert match, number
    assert match.group(1) in {day_before.strftime("%Y%m%d"), day_after.strftime("%Y%m%d")}
    expect(page.locator(".state")).to_have_text("Received")
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(page.locator(".next-step")).not_to_be_empty()
    timeline = page.locator("ol.timeline li")
    expect(timeline.first).to_contain_text("Complaint received")
    expect(page.locator("#evidence-list li")).to_have_count(1)
    expect(detail(page, "Amount paid")).to_contain_text("880.00")
    expect(detail(page, "Amount asked for")).to_contain_text("792.00")
    # The link the tourist is told to keep is this page, on the server that sent it.
    tracking_link = page.locator(".tracking-link").inner_text().strip()
    assert tracking_link == page.url.removesuffix("?new=1")
    assert_phone_layout(page)
    screenshot(page, "tracking")

    db.session.remove()
    case = db.session.scalar(select(Case))
    assert case.number == number
    assert case.tourist_phone == "+447911123456"
    assert case.contact_consent is True
    assert case.language == "en"
    assert (case.amount_paid_fen, case.amount_claimed_fen) == (88000, 79200)
    assert case.description == DESCRIPTION

    # Coming back later through the kept link shows the case without the "received" banner.
    page.goto(tracking_link)
    expect(page.locator(".case-number")).to_have_text(number)
    expect(page.get_by_role("heading", name="Complaint received")).to_have_count(0)


def test_invalid_input_keeps_what_was_typed(phone, screenshot, tmp_path, served):
    merchant = ah_hai()
    page = phone.new_page()
    page.goto(f"/s/{merchant.token}/complain")
    fill_complaint(page, photo=receipt_photo(tmp_path), phone="12345", amount_paid="12.345")
    screenshot(page, "form-with-mistakes")

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        submit(page)
    assert posted.value.status == 422
    expect(page.get_by_text("Please correct the fields marked below")).to_be_visible()
    phone_field = page.locator("#field-phone")
    expect(phone_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(phone_field.get_by_role("alert")).to_contain_text("not a valid phone number")
    amount_field = page.locator("#field-amount_paid")
    expect(amount_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(amount_field.get_by_role("alert")).to_contain_text("two decimals")
    # Only those two fields (and the banner) complain.
    expect(page.locator(".field.has-error")).to_have_count(2)
    # Everything typed is still there, and the photo was kept on the server.
    expect(page.get_by_label("Your name")).to_have_value("Alice Tourist")
    expect(page.get_by_label("What happened")).to_have_value(DESCRIPTION)
    expect(page.get_by_label("Mobile number")).to_have_value("12345")
    expect(page.get_by_label("Amount paid (CNY)")).to_have_value("12.345")
    expect(page.get_by_label("Amount you ask for (CNY)")).to_have_value("792")
    expect(page.get_by_label("What would put it right")).to_have_value("partial_refund")
    expect(page.get_by_label("Language for messages")).to_have_value("en")
    expect(page.get_by_label(CONSENT)).to_be_checked()
    staged = page.locator("#staged-evidence")
    expect(staged).to_contain_text("Photos already attached: 1")
    expect(staged).to_contain_text("receipt.jpg")
    assert_phone_layout(page)
    screenshot(page, "errors-shown")
    assert count(Case.id) == 0

    for label, fixed in (("Mobile number", "+44 7911 123456"), ("Amount paid (CNY)", "12.34")):
        field = page.get_by_label(label)
        field.fill("")
        field.press_sequentially(fixed)
    submit(page)
    expect(page).to_have_url(TRACKING_PATH)
    expect(page.locator("#evidence-list li")).to_have_count(1)
    expect(detail(page, "Amount paid")).to_contain_text("12.34")
    screenshot(page, "tracking")
    served.wait_idle()
    assert count(Case.id) == 1


def test_double_tap_on_submit_files_one_case(phone, screenshot, served):
    merchant = ah_hai()
    page = phone.new_page()
    page.goto(f"/s/{merchant.token}/complain")
    fill_complaint(page, photo=None)
    button = page.get_by_role("button", name="Submit complaint")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    # A slow connection: the second tap lands while the first upload is still on its way.
    # Raw touches, because Playwright's own tap() would wait for the first navigation.
    served.post_delay = 0.3
    page.touchscreen.tap(x, y)
    page.wait_for_timeout(80)
    page.touchscreen.tap(x, y)
    expect(page).to_have_url(TRACKING_PATH)
    served.wait_idle()
    screenshot(page, "tracking")

    posts = served.posts_to(f"/s/{merchant.token}/complain")
    assert len(posts) == 2, "the second tap did not reach the server; the test proves nothing"
    assert [p.status for p in posts] == [303, 303]
    assert posts[0].location == posts[1].location
    assert page.url.endswith(posts[1].location)
    assert count(Case.id) == 1
    db.session.remove()
    submits = select(func.count(CaseEvent.id)).where(CaseEvent.trigger == "submit")
    assert db.session.scalar(submits) == 1


def test_chinese_phone_gets_chinese_names_and_can_switch_to_english(new_phone, screenshot):
    merchant = ah_hai()
    page = new_phone("zh-CN").new_page()

    page.goto(f"/s/{merchant.token}")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text(merchant.name_zh)
    expect(page.locator("section.merchant .outlet")).to_have_text(merchant.outlet_zh)
    expect(page.locator("#merchant-details")).to_contain_text("天涯区")
    languages = page.get_by_role("navigation")
    expect(languages.get_by_role("link", name="简体中文")).to_have_attribute("aria-current", "true")
    assert_phone_layout(page)
    screenshot(page, "scan-zh")

    languages.get_by_role("link", name="English").tap()
    expect(page).to_have_url(re.compile(r"\?lang=en$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(merchant.name_en)
    expect(page.locator("section.merchant .outlet")).to_have_text(merchant.outlet_en)
    expect(languages.get_by_role("link", name="English")).to_have_attribute("aria-current", "true")
    expect(languages.get_by_role("link", name="简体中文")).not_to_have_attribute(
        "aria-current", "true"
    )
    screenshot(page, "scan-en")

    # The choice sticks (cookie) on the next page, which has no ?lang= in its address.
    page.get_by_role("link", name="File a complaint").tap()
    expect(page).to_have_url(re.compile(r"/complain$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Complaint about {merchant.name_en}")
    expect(page.locator("form .outlet")).to_have_text(merchant.outlet_en)
    screenshot(page, "form-en")


def test_replaced_code_says_so(phone, screenshot):
    outlet = outlet_named("Ah Hai")
    old_token = scan_token(outlet)
    rotate_outlet_code(outlet, actor="regulator:test", reason="sticker copied to a fake stall")
    db.session.commit()
    merchant = ah_hai()
    assert merchant.token != old_token
    page = phone.new_page()

    assert page.goto(f"/s/{old_token}").status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This code was replaced")
    expect(page.get_by_text("it may have been copied")).to_be_visible()
    assert_phone_layout(page)
    screenshot(page, "replaced")
    assert page.goto(f"/s/{old_token}/complain").status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This code was replaced")

    page.get_by_role("link", name="Find the merchant").tap()
    expect(page.get_by_role("link", name=merchant.name_en)).to_be_visible()
    screenshot(page, "find-the-merchant")

    assert page.goto(f"/s/{merchant.token}").status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(merchant.name_en)


def test_find_a_merchant_without_a_code(phone, screenshot, live_server):
    merchant = ah_hai()
    page = phone.new_page()
    page.goto("/")
    assert_phone_layout(page)
    screenshot(page, "home")

    type_into(page, "Merchant name or enterprise code", "Ah Hai")
    page.get_by_role("button", name="Find merchant").tap()
    expect(page).to_have_url(re.compile(r"/find\?q=Ah\+Hai$"))
    result = page.get_by_role("link", name=merchant.name_en)
    expect(result).to_be_visible()
    expect(page.locator("ul.results")).to_contain_text(merchant.uscc)
    assert_phone_layout(page)
    screenshot(page, "results")

    result.tap()
    expect(page).to_have_url(f"{live_server}/m/{merchant.uscc}")
    expect(page.get_by_role("heading", level=1)).to_have_text(merchant.name_en)
    expect(page.get_by_role("heading", name="Outlets")).to_be_visible()
    assert_phone_layout(page)
    screenshot(page, "merchant")

    page.get_by_role("link", name="File a complaint").tap()
    expect(page).to_have_url(f"{live_server}/m/{merchant.uscc}/complain")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Complaint about {merchant.name_en}")
    expect(page.get_by_label("What happened")).to_be_editable()
    expect(page.get_by_role("button", name="Submit complaint")).to_be_visible()
    assert_phone_layout(page)
    screenshot(page, "form")
