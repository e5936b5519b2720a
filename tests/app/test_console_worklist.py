"""The queue as a team works it: tab counts, my cases, sorts, bulk actions, saved views, exports."""

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from complaints.accounts.models import Account
from complaints.cases.models import Case, CaseEvent
from complaints.console.models import SavedFilter
from complaints.database import utcnow
from complaints.extensions import db
from complaints.portal.models import CaseMessage
from tests.app.test_console_support import AH_HAI, SANYA_HANDLER, TAXI, file_case, sign_in
from tests.app_fixtures import hidden_fields

ROW = re.compile(r'<tr class="queue-row[^"]*" data-number="([^"]+)"')


def handler(email=SANYA_HANDLER) -> Account:
    return db.session.scalar(select(Account).where(Account.email == email))


@pytest.fixture
def cases(seeded):
    """Three taxi cases in regulator review (claims 792, 500, 10 yuan) and one Ah Hai case
    waiting for the merchant, all Sanya."""
    now = utcnow()
    made = []
    for n, claimed in enumerate((79200, 50000, 1000)):
        case = file_case(TAXI, now - timedelta(days=n + 1), description=f"Taxi case {n}")
        case.amount_claimed_fen = claimed
        made.append(case)
    made.append(file_case(AH_HAI, now, description="Seafood weighed wrong"))
    made[-1].amount_claimed_fen = 500
    db.session.commit()
    return made


def bulk(client, numbers, **fields):
    page = client.get("/console/?lang=en").get_data(as_text=True)
    token = hidden_fields(page)["csrf_token"]
    data = {"csrf_token": token, "numbers": numbers, **fields}
    return client.post("/console/bulk?lang=en", data=data)


def test_tabs_count_cases_and_my_cases_lists_only_mine(client, cases):
    sign_in(client)
    me = handler()
    cases[0].handler_id = me.id
    db.session.commit()
    html = client.get("/console/?lang=en").get_data(as_text=True)
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', html))
    assert counts == {"open": "4", "mine": "1", "unassigned": "3", "escalated": "0"}
    mine = client.get("/console/?lang=en&tab=mine").get_data(as_text=True)
    assert ROW.findall(mine) == [cases[0].number]


def test_sort_by_amount_claimed_and_bad_sort_is_a_clear_400(client, cases):
    sign_in(client)
    html = client.get("/console/?lang=en&sort=amount").get_data(as_text=True)
    assert ROW.findall(html) == [c.number for c in cases]
    bad = client.get("/console/?lang=en&sort=price")
    assert bad.status_code == 400
    assert "Sort by" in bad.get_data(as_text=True)


def test_bulk_assign_goes_through_the_workflow_and_reports_refusals(client, cases):
    sign_in(client)
    me = handler()
    numbers = [cases[0].number, cases[1].number, cases[3].number]
    response = bulk(client, numbers, action="assign", handler=str(me.id))
    assert response.status_code == 303
    db.session.expire_all()
    assigned = db.session.scalars(select(Case).where(Case.handler_id == me.id)).all()
    assert {c.number for c in assigned} == {cases[0].number, cases[1].number}
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.trigger == "assign", CaseEvent.actor_id == str(me.id))
    ).all()
    assert len(events) == 2  # audited, one hash-chained event per case
    flashes = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "done for 2 cases" in flashes
    assert f"{cases[3].number} not changed" in flashes  # the merchant's turn: no assignment
    # The load shows next to the handler's name wherever one is chosen.
    assert f"{me.name} (2 open)" in flashes


def test_bulk_note_is_an_internal_message_and_needs_text(client, cases):
    sign_in(client)
    empty = bulk(client, [cases[0].number], action="note", note="  ")
    assert "A reason is required" in client.get(empty.headers["Location"]).get_data(as_text=True)
    bulk(client, [cases[0].number, cases[1].number], action="note", note="Same driver twice")
    db.session.expire_all()
    notes = db.session.scalars(select(CaseMessage)).all()
    assert len(notes) == 2
    assert all(n.visible_to_regulator and not n.visible_to_merchant for n in notes)
    assert not any(n.visible_to_tourist for n in notes)


def test_a_saved_view_keeps_only_queue_filters(client, cases):
    sign_in(client)
    page = client.get("/console/?lang=en").get_data(as_text=True)
    token = hidden_fields(page)["csrf_token"]
    client.post(
        "/console/saved-filters?lang=en",
        data={"csrf_token": token, "name": "Big taxis", "query": "sort=amount&evil=1&tab=open"},
    )
    saved = db.session.scalar(select(SavedFilter))
    assert saved.name == "Big taxis"
    assert saved.query == "sort=amount&tab=open"
    html = client.get("/console/?lang=en").get_data(as_text=True)
    assert 'data-view="Big taxis"' in html


def test_exports_stream_the_filtered_list_as_csv_and_xlsx(client, cases):
    sign_in(client)
    response = client.get("/console/export.csv?lang=en&category=transport&sort=amount")
    assert response.status_code == 200
    assert response.is_streamed
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "case"
    assert [r[0] for r in rows[1:]] == [c.number for c in cases[:3]]  # taxis only
    assert [r[10] for r in rows[1:]] == ["792.00", "500.00", "10.00"]

    xlsx = client.get("/console/export.xlsx?lang=en")
    assert xlsx.status_code == 200
    assert xlsx.is_streamed
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data()), read_only=True).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "case"
    assert {v[0] for v in values[1:]} == {c.number for c in cases}


def test_bulk_transfer_needs_a_reason_and_moves_the_cases(client, cases):
    from complaints.agencies.models import Agency

    sign_in(client)
    haikou = db.session.scalar(select(Agency).where(Agency.slug == "amr-460100"))
    refused = bulk(client, [cases[0].number], action="transfer", agency=str(haikou.id))
    assert "A reason is required" in client.get(refused.headers["Location"]).get_data(as_text=True)
    bulk(
        client,
        [cases[0].number, cases[1].number],
        action="transfer",
        agency=str(haikou.id),
        note="The company is registered in Haikou",
    )
    db.session.expire_all()
    moved = db.session.scalars(select(Case).where(Case.agency_id == haikou.id)).all()
    assert {c.number for c in moved} == {cases[0].number, cases[1].number}


def test_admins_have_a_province_view(client, cases):
    from complaints.analytics.cli import rebuild_all

    rebuild_all()
    sign_in(client, "admin@anxin.demo")
    response = client.get("/console/analytics/?lang=en&scope=province")
    assert response.status_code == 200
    assert "Analytics · Province" in response.get_data(as_text=True)


def test_sort_by_grade_puts_the_lowest_graded_merchant_first(client, cases):
    from complaints.credit.models import MerchantScore

    db.session.add(MerchantScore(enterprise_id=cases[3].enterprise_id, score=40, grade="D"))
    db.session.add(MerchantScore(enterprise_id=cases[0].enterprise_id, score=95, grade="A"))
    db.session.commit()
    sign_in(client)
    html = client.get("/console/?lang=en&sort=grade").get_data(as_text=True)
    assert ROW.findall(html)[0] == cases[3].number
    assert ROW.findall(html)[-1] == cases[2].number  # taxi, A-graded: last of the A's by id


@pytest.mark.parametrize("sort", ["deadline", "amount"])
def test_export_batches_cover_the_list_once_in_order(cases, sort):
    from complaints.console import queries, worklist

    agency_id = cases[0].agency_id
    numbers = []
    for batch in worklist.batches(agency_id, queries.QueueFilters(), sort, size=2):
        assert len(batch) <= 2
        numbers += [row.case.number for row in batch]
        worklist.release(batch)  # as the export does between batches
    assert sorted(numbers) == sorted(c.number for c in cases)
    if sort == "amount":
        assert numbers == [c.number for c in cases]
