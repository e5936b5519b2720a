"""The agency's queue: order by nearest deadline, marks, filters and keyset pagination."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from complaints.cases.models import Case
from complaints.cases.workflow import SYSTEM, Actor, fire
from complaints.console import queries
from complaints.database import utcnow
from complaints.extensions import db
from complaints.timers.services import open_deadline_for
from tests.app.test_console_support import (
    AH_HAI,
    HAIKOU_HANDLER,
    QILOU,
    TAXI,
    file_case,
    sign_in,
)
from workflows.states import OPEN_STATES, CaseState, Role

ROW = re.compile(r'<tr class="queue-row[^"]*" data-number="([^"]+)"')
JEWELLERY = "Yalong Bay Jewellery flagship store"  # Sanya, Jiyang district, answers first
AIRPORT = "Phoenix Airport jewellery counter"  # Sanya, Tianya district
HANDLER = Actor(Role.HANDLER, "1")


def numbers(html: str) -> list[str]:
    return ROW.findall(html)


def next_link(html: str) -> str | None:
    found = re.search(r'<a class="button" rel="next" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def sanya_queue(seeded):
    """30 Sanya cases in every segment of the queue, and 2 Haikou cases."""
    now = utcnow()
    outlets = [TAXI, AH_HAI, JEWELLERY, AIRPORT]
    cases = []
    for n in range(24):
        cases.append(
            file_case(
                outlets[n % 4],
                now - timedelta(hours=5 * n),
                description=f"Complaint number {n}: overcharged at the counter.",
            )
        )
    # Open, no running deadline yet: filed but not routed.
    cases += [
        file_case(TAXI, now, routed=False, description="Waiting for routing") for _ in range(2)
    ]
    # Ended: declined (appeal window runs) and declined then closed (nothing runs).
    for n in range(4):
        case = file_case(TAXI, now - timedelta(days=3, hours=n), description=f"Ended {n}")
        fire(case, "decline", HANDLER, now=now - timedelta(days=2), ground="materials_missing")
        if n % 2:
            fire(case, "close", HANDLER, now=now - timedelta(days=1))
        db.session.commit()
        cases.append(case)
    # Overdue (acceptance decision passed) and escalated; and a Haikou pair.
    late = file_case(TAXI, now - timedelta(days=30), description="Very late decision")
    fire(late, "escalate", SYSTEM, now=now)
    db.session.commit()
    cases.append(late)
    for _ in range(2):
        file_case(QILOU, now, description="Haikou coconut chicken overcharge")
    return cases


def expected_order(agency_slug="amr-460200") -> list[str]:
    db.session.expire_all()
    cases = db.session.scalars(select(Case).where(Case.agency.has(slug=agency_slug)))

    def key(case):
        deadline = open_deadline_for(case.id)
        due = deadline.due_at.timestamp() if deadline else 0
        return (case.state not in OPEN_STATES, deadline is None, due, case.id)

    return [c.number for c in sorted(cases, key=key)]


def all_pages(client, url="/console/?lang=en") -> list[list[str]]:
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        html = response.get_data(as_text=True)
        pages.append(numbers(html))
        url = next_link(html)
    return pages


def test_queue_is_ordered_by_nearest_deadline_open_cases_first(client, sanya_queue):
    sign_in(client)
    pages = all_pages(client)
    assert [len(p) for p in pages] == [25, 6]
    listed = [n for page in pages for n in page]
    assert listed == expected_order()
    assert len(set(listed)) == 31
    assert listed[0] == sanya_queue[-1].number  # the overdue one
    ended = {c.number for c in sanya_queue if c.state not in OPEN_STATES}
    assert set(listed[-4:]) == ended


def test_small_pages_cross_every_segment_without_gaps(client, sanya_queue, monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 4)
    monkeypatch.setattr(queries.queue_page, "__defaults__", (4,))
    sign_in(client)
    pages = all_pages(client)
    assert [len(p) for p in pages] == [4] * 7 + [3]
    assert [n for page in pages for n in page] == expected_order()


def test_queue_marks_overdue_near_provisional_and_escalated(client, sanya_queue):
    accepted = sanya_queue[0]  # a taxi case in regulator review
    fire(accepted, "accept", HANDLER, now=utcnow())  # mediation runs into 2027: provisional
    db.session.commit()
    sign_in(client)
    rows = {}
    url = "/console/?lang=en"
    while url:
        html = client.get(url).get_data(as_text=True)
        rows.update(re.findall(r'data-number="([^"]+)">(.*?)</tr>', html, re.S))
        url = next_link(html)
    late = rows[_number_with(sanya_queue, "Very late decision")]
    assert "overdue" in late
    assert "escalated" in late
    fresh_merchant = rows[sanya_queue[1].number]  # Ah Hai, 24 hours to answer from now
    assert "due within 24h" in fresh_merchant
    assert "provisional" in rows[accepted.number]
    # Order 121 (issue 12 item 9): an unverified complaint runs the identity clock.
    assert "Identity to be verified by" in rows[_number_with(sanya_queue, "Waiting for routing")]


def _number_with(cases, text):
    return next(c.number for c in cases if text in c.description)


FILTERS = [
    ("state=mediation", lambda c: c.state is CaseState.MEDIATION),
    ("state=declined", lambda c: c.state is CaseState.DECLINED),
    ("category=transport", lambda c: c.category.value == "transport"),
    ("division=460203", lambda c: c.division_code == "460203"),
    ("merchant=jewellery", lambda c: "Jewellery" in c.enterprise.name_en),
    ("merchant=珠宝", lambda c: "珠宝" in c.enterprise.name_zh),
    ("q=Complaint+number+1", lambda c: "Complaint number 1" in c.description),
    ("q=%25", lambda c: "%" in c.description),  # LIKE wildcards are searched literally
    (
        "state=regulator_review&category=transport&q=counter",
        lambda c: (
            c.state is CaseState.REGULATOR_REVIEW
            and c.category.value == "transport"
            and "counter" in c.description
        ),
    ),
]


def test_queue_filters_keep_the_order_and_the_agency(client, sanya_queue):
    # One data set for every filter: building 33 cases is the slow part of these tests.
    fire(sanya_queue[0], "accept", HANDLER, now=utcnow())
    db.session.commit()
    sign_in(client)
    db.session.expire_all()
    sanya = db.session.scalars(select(Case).where(Case.agency.has(slug="amr-460200"))).all()
    order = expected_order()
    for query, expect in FILTERS:
        listed = [n for page in all_pages(client, f"/console/?lang=en&{query}") for n in page]
        wanted = {c.number for c in sanya if expect(c)}
        assert wanted or query == "q=%25", query
        assert listed == [n for n in order if n in wanted], query
    target = sanya_queue[7].number
    assert numbers(client.get(f"/console/?q={target[-9:]}").get_data(as_text=True)) == [target]
    # A whole number, as a tourist reads it out on the phone (any case): that case alone.
    page = client.get(f"/console/?q={target.lower()}").get_data(as_text=True)
    assert numbers(page) == [target]


@pytest.mark.parametrize(
    "after",
    ["garbage", "WzAsbnVsbCwxXQ", "WzAsbnVsbCwxXQ.forgedsignature"],
)
def test_a_bad_cursor_is_a_clear_400(client, seeded, after):
    sign_in(client)
    response = client.get(f"/console/?lang=en&after={after}")
    assert response.status_code == 400
    assert "first page of the queue" in response.get_data(as_text=True)


def test_cursors_are_checked_for_shape_even_when_signed(app_ctx, app):
    with app.test_request_context():
        good = queries.encode_cursor(queries.Cursor(0, utcnow(), 5))
        assert queries.decode_cursor(good).case_id == 5
        for forged in (
            [9, None, 1],
            [0, None, 1],
            [1, utcnow().isoformat(), 1],
            [0, "x", 1],
            [0, "2026-01-01T00:00:00", 1],
            "nope",
        ):
            token = queries._serializer().dumps(forged)
            with pytest.raises(queries.BadCursor):
                queries.decode_cursor(token)


def test_an_unknown_filter_value_is_a_400_not_a_500(client, seeded):
    sign_in(client)
    assert client.get("/console/?state=bogus").status_code == 400
    assert client.get("/console/?division=460100").status_code == 400  # not Sanya's


def test_another_agency_sees_none_of_these_cases(client, sanya_queue):
    sign_in(client, HAIKOU_HANDLER)
    listed = [n for page in all_pages(client) for n in page]
    assert len(listed) == 2
    assert all(n.startswith("HN-460100-") for n in listed)
    assert not {c.number for c in sanya_queue} & set(listed)
