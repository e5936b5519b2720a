"""Regulator intelligence in a real browser, in the Chinese UI: analytics charts drawn from their
tables, bulk assignment and export, an alert from seeded data acknowledged, and an inspector's
scan, inspection and credit event on a phone."""

import csv
import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from complaints.accounts.seed import DEMO_PASSWORD
from complaints.alerts.models import Alert, AlertStatus
from complaints.alerts.services import evaluate
from complaints.analytics.cli import rebuild_all
from complaints.credit.engine import CreditEventKind
from complaints.credit.models import CreditEvent
from complaints.database import utcnow
from complaints.demo_cases import seed_demo_cases
from complaints.extensions import db
from complaints.merchants.services import scan_url
from tests.app.test_console_support import AH_HAI, TAXI, file_case, outlet
from tests.browser.conftest import DEFAULT_TIMEOUT_MS

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser, live_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="zh-CN",
        base_url=live_server,
        accept_downloads=True,
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield context
    context.close()


def sign_in(page, email, landing=r"/console/"):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(landing))


def test_analytics_charts_render_from_their_tables(desk, served):
    now = utcnow()
    for n in range(4):
        file_case(TAXI, now - timedelta(days=n))
    file_case(AH_HAI, now)
    rebuild_all()
    db.session.remove()

    page = desk.new_page()
    sign_in(page, "supervisor.sanya@anxin.demo")
    page.locator("#analytics-link").click()
    expect(page.locator("h1")).to_contain_text("统计分析")
    figures = page.locator("figure.chart")
    expect(figures).to_have_count(8)
    for key in ("daily", "weekly", "timeliness", "outcomes", "money", "grades", "rates", "map"):
        figure = page.locator(f"#chart-{key}")
        expect(figure).to_have_attribute("data-rendered", "true")
        expect(figure.locator(".chart-canvas canvas").first).to_be_attached()
    # What the daily chart draws is exactly its table, column by column.
    drawn = page.evaluate(
        """() => {
          const el = document.querySelector('#chart-daily .chart-canvas');
          return echarts.getInstanceByDom(el).getOption().series.map(s => s.data);
        }"""
    )
    table = page.evaluate(
        """() => Array.from(document.querySelectorAll('#chart-daily tbody tr')).map(
             tr => Array.from(tr.querySelectorAll('td')).map(td => Number(td.dataset.value)))"""
    )
    assert [list(col) for col in zip(*table, strict=True)] == drawn
    assert sum(sum(col) for col in drawn) == 5
    mapped = page.evaluate(
        """() => echarts.getInstanceByDom(document.querySelector('#chart-map .chart-canvas'))
             .getOption().series[0].data.filter(d => d[3] === '三亚市').map(d => d[2])"""
    )
    assert mapped == [5]
    with page.expect_download() as download:
        page.locator("#chart-outcomes a.csv").click()
    assert download.value.suggested_filename.startswith("outcomes-")
    served.wait_idle()


def test_bulk_assign_and_export_from_the_queue(desk, served):
    now = utcnow()
    numbers = [file_case(TAXI, now - timedelta(hours=n)).number for n in range(3)]
    db.session.remove()

    page = desk.new_page()
    sign_in(page, "handler.sanya@anxin.demo")
    expect(page.locator('[data-count="unassigned"]')).to_have_text("3")
    for number in numbers[:2]:
        page.locator(f"input.pick[value='{number}']").check()
    page.select_option("#bulk-form select[name=action]", "assign")
    expect(page.locator("#field-agency")).to_be_hidden()  # only what the action needs
    page.select_option("#bulk-form select[name=handler]", index=1)
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("已完成 2 件")
    expect(page.locator('[data-count="mine"]')).to_have_text("2")
    expect(page.locator('[data-count="unassigned"]')).to_have_text("1")

    page.locator('a[data-tab="mine"]').click()
    expect(page.locator("tr.queue-row")).to_have_count(2)
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert sorted(r[0] for r in rows[1:]) == sorted(numbers[:2])
    served.wait_idle()


def test_an_alert_raised_by_the_seeded_demo_is_acknowledged(app, desk, served):
    seed_demo_cases(app.config["SECRET_KEY"], app.config["PUBLIC_BASE_URL"])
    db.session.commit()
    rebuild_all()
    evaluate(utcnow())
    db.session.remove()

    page = desk.new_page()
    sign_in(page, "supervisor.sanya@anxin.demo")
    page.locator("#alerts-link").click()
    row = page.locator('tr.alert-row[data-rule="merchant_burst"]')
    expect(row).to_contain_text("同一商户投诉集中")
    row.locator("a").click()
    expect(page.locator("#alert-cases li")).to_have_count(5)
    page.fill("#note", "已联系出租车公司核查计价器")
    page.locator("#acknowledge").click()
    expect(page.locator("#alert-status")).to_have_attribute("data-status", "acknowledged")
    expect(page.locator("#alert-note")).to_contain_text("已联系出租车公司核查计价器")
    served.wait_idle()
    db.session.expire_all()
    alert = db.session.scalar(select(Alert).where(Alert.rule == "merchant_burst"))
    assert alert.status is AlertStatus.ACKNOWLEDGED


def test_inspector_scans_inspects_and_the_credit_event_follows(new_phone, served):
    place = outlet(AH_HAI)
    code, url, enterprise_id = place.code, scan_url(place), place.enterprise_id
    db.session.remove()

    page = new_phone("zh-CN").new_page()
    sign_in(page, "inspector.sanya@anxin.demo", landing=r"/supervision/")
    page.goto(url)
    expect(page).to_have_url(re.compile(rf"/supervision/outlets/{code}$"))
    expect(page.locator("#uscc")).to_be_visible()
    page.locator("#start-inspection").click()
    page.locator("input[name=checklist][value=licence_displayed]").check()
    page.locator("input[name=checklist][value=prices_marked]").check()
    page.fill("#findings", "海鲜秤偏重约一成。")
    page.locator("input[name=result][value=rectify]").check()
    page.fill("#rectify_by", (utcnow() + timedelta(days=7)).date().isoformat())
    page.locator("#inspection-form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("检查记录已保存")
    expect(page.locator("article.inspection")).to_have_count(1)
    expect(page.locator("article.inspection")).to_have_attribute("data-result", "rectify")
    page.locator("#grade summary").click()
    expect(page.locator('tr[data-kind="inspection_rectify"]')).to_be_visible()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the dossier scrolls sideways on a phone: {widths}"
    served.wait_idle()
    kinds = db.session.scalars(
        select(CreditEvent.kind).where(CreditEvent.enterprise_id == enterprise_id)
    ).all()
    assert CreditEventKind.INSPECTION_RECTIFY in kinds
