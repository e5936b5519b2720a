"""Analytics: rollups built from the case history, the page's tables, CSV, scans and rates."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from complaints.analytics.cli import rebuild_all
from complaints.analytics.models import CaseRollup, ScanCount
from complaints.analytics.rollups import local_day, refresh_recent
from complaints.cases.workflow import Actor
from complaints.database import utcnow
from complaints.extensions import db
from tests.app.helpers import token_for
from tests.app.test_console_support import (
    AH_HAI,
    SANYA_SUPERVISOR,
    TAXI,
    file_case,
    outlet,
    sign_in,
)
from workflows.states import Role

HANDLER = Actor(Role.HANDLER, "1")


def table(html: str, key: str) -> list[list[str]]:
    """The rows of one chart's data table: row header, then the cells' data-value."""
    block = re.search(rf'<table class="data" data-key="{key}">(.*?)</table>', html, re.S).group(1)
    body = block.split("<tbody>")[1]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        head = re.search(r'<th scope="row">(.*?)</th>', row, re.S).group(1).strip()
        rows.append([head, *re.findall(r'data-value="([^"]*)"', row)])
    return rows


@pytest.fixture
def history(seeded):
    """Five Sanya taxi complaints over three days, one accepted the same day, plus Ah Hai."""
    from complaints.cases.workflow import fire

    now = utcnow()
    cases = [file_case(TAXI, now - timedelta(days=n // 2)) for n in range(5)]
    cases.append(file_case(AH_HAI, now))
    fire(cases[0], "accept", HANDLER, now=now)
    db.session.commit()
    rebuild_all()
    return cases


def test_rollups_count_received_cases_and_rebuild_idempotently(history):
    total = db.session.scalar(select(func.sum(CaseRollup.n)).where(CaseRollup.metric == "received"))
    assert total == 6
    refresh_recent(utcnow())
    rebuild_all()
    assert (
        db.session.scalar(select(func.sum(CaseRollup.n)).where(CaseRollup.metric == "received"))
        == 6
    )


def test_supervisor_sees_tables_that_match_the_cases(client, history):
    sign_in(client, SANYA_SUPERVISOR)
    response = client.get("/console/analytics/?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    daily = table(html, "daily")
    assert len(daily) == 30  # the default range: the last 30 days, one row each
    assert sum(int(v) for row in daily for v in row[1:]) == 6
    timeliness = {row[0]: row for row in table(html, "timeliness")}
    assert timeliness["Acceptance decision"][1:3] == ["100.0", "1"]  # accepted at once
    grades = table(html, "grades")
    assert [row[0] for row in grades] == ["A", "B", "C", "D"]
    sanya = {row[0]: row[1] for row in table(html, "map")}["Sanya"]
    assert sanya == "6"
    assert 'src="/assets/vendor/echarts.min.' in html  # fingerprinted: complaints/assets.py


def test_chart_csv_is_the_table(client, history):
    sign_in(client, SANYA_SUPERVISOR)
    html = client.get("/console/analytics/?lang=en").get_data(as_text=True)
    body = client.get("/console/analytics/outcomes.csv?lang=en").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["Outcome", "Cases"]
    assert rows[1:] == table(html, "outcomes")


def test_handlers_are_refused(client, history):
    sign_in(client)
    assert client.get("/console/analytics/?lang=en").status_code == 403
    assert client.get("/console/analytics/daily.csv?lang=en").status_code == 403


def test_bad_dates_are_a_clear_400(client, history):
    sign_in(client, SANYA_SUPERVISOR)
    bad = client.get("/console/analytics/?lang=en&start=2026-05-01&end=2026-04-01")
    assert bad.status_code == 400
    assert "The end date comes before the start date." in bad.get_data(as_text=True)
    wrong = client.get("/console/analytics/?lang=en&start=yesterday")
    assert wrong.status_code == 400
    province = client.get("/console/analytics/?lang=en&scope=province")
    assert province.status_code == 400  # a supervisor has no province view


def test_tourist_scans_are_counted_and_drive_the_complaint_rate(client, history):
    place = outlet(TAXI)
    for _ in range(2):
        assert client.get(f"/s/{token_for(place)}?lang=en").status_code == 200
    counted = db.session.scalar(select(ScanCount.n).where(ScanCount.outlet_id == place.id))
    assert counted == 2
    db.session.get(ScanCount, (local_day(utcnow()), place.id)).n = 100
    db.session.commit()
    sign_in(client, SANYA_SUPERVISOR)
    html = client.get("/console/analytics/?lang=en").get_data(as_text=True)
    rates = table(html, "rates")
    assert rates[0][1:] == ["50.0", "5", "100"]  # 5 complaints per 100 scans = 50 per 1,000


def test_the_scan_page_discloses_the_last_year_in_one_line(client, seeded):
    from complaints.cases.workflow import fire

    now = utcnow()
    case = file_case(AH_HAI, now - timedelta(hours=5))  # Ah Hai answers first
    fire(case, "merchant_refund", Actor(Role.MERCHANT, "owner"), now=now - timedelta(hours=3))
    db.session.commit()
    html = client.get(f"/s/{token_for(outlet(AH_HAI))}?lang=en").get_data(as_text=True)
    line = re.search(r'data-field="disclosure">(.*?)</p>', html, re.S).group(1)
    assert "Last 12 months: 1 complaints" in line
    assert "100% resolved" in line
    assert "median first response 2 hours" in line
