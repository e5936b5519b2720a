"""Credit through the app: case outcomes change the grade the next tourist sees on scanning."""

import re
from datetime import timedelta

from complaints.cases.workflow import SYSTEM, Actor, fire, route
from complaints.credit.models import CreditEvent, MerchantScore
from complaints.credit.presenters import portal_context
from complaints.credit.services import (
    on_case_transition,
    on_compensation_paid,
    on_recovery_overdue,
)
from complaints.database import utcnow
from complaints.extensions import db
from tests.app.helpers import file_case, outlet_named, token_for
from workflows.grounds import TerminationGround
from workflows.states import Role

MERCHANT = Actor(Role.MERCHANT, "m1")
HANDLER = Actor(Role.HANDLER, "h1")
TOURIST = Actor(Role.TOURIST)


def fire_credited(case, trigger, actor, now, **options):
    """fire() and then the credit hook, as workflow.fire will once it calls on_case_transition
    itself (the hook is idempotent, so the second call then changes nothing)."""
    event = fire(case, trigger, actor, now=now, **options)
    on_case_transition(case, trigger, now)
    db.session.commit()
    return event


def filed_and_routed(outlet, at):
    case = file_case(outlet, now=at)
    route(case, at)
    db.session.commit()
    return case


def scan(client, outlet) -> str:
    response = client.get(f"/s/{token_for(outlet)}?lang=en")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def shown_grade(page: str) -> str:
    return re.search(r'class="grade[^"]*" data-grade="([A-D]?)"', page).group(1)


def field(page: str, name: str) -> str:
    return re.search(rf'data-field="{name}">(.*?)</dd>', page, re.S).group(1).strip()


def test_an_unscored_merchant_is_not_graded_yet_and_the_grade_is_labelled_as_ours(client, seeded):
    page = scan(client, outlet_named("Ah Hai"))
    assert shown_grade(page) == ""
    assert "Not graded yet" in page
    assert "this platform's own grade from complaint outcomes" in page
    assert "not the regulator's official risk class" in page
    assert field(page, "complaints") == "0"
    # Ungraded merchants start on the trusted list (the fund's scheme) until a rule takes them off.
    assert 'data-mark="pledged"' in page


def test_resolving_cases_moves_the_grade_on_the_next_scan(client, seeded):
    outlet = outlet_named("Ah Hai")
    start = utcnow() - timedelta(days=10)

    settled = filed_and_routed(outlet, start)
    fire_credited(settled, "merchant_refund", MERCHANT, start + timedelta(hours=2))
    page = scan(client, outlet)
    assert shown_grade(page) == "A"  # 100 + 2
    assert 'data-mark="trusted"' in page
    assert 'data-mark="pledged"' in page

    silent = filed_and_routed(outlet, start + timedelta(days=1))
    fire_credited(
        silent, "merchant_deadline_passed", SYSTEM, start + timedelta(days=2), reason="late"
    )
    fire_credited(silent, "accept", HANDLER, start + timedelta(days=3))
    fire_credited(
        silent,
        "terminate",
        HANDLER,
        start + timedelta(days=4),
        ground=TerminationGround.PARTY_REFUSED,
    )
    page = scan(client, outlet)
    assert shown_grade(page) == "B"  # 102 - 5 - 15 = 82
    assert db.session.get(MerchantScore, outlet.enterprise_id).score == 82

    mediated = filed_and_routed(outlet, start + timedelta(days=5))
    fire_credited(
        mediated, "merchant_dispute", MERCHANT, start + timedelta(days=5, hours=1), reason="no"
    )
    fire_credited(mediated, "accept", HANDLER, start + timedelta(days=6))
    fire_credited(mediated, "record_agreement", HANDLER, start + timedelta(days=8))
    page = scan(client, outlet)
    assert shown_grade(page) == "C"  # 82 - 8 = 74: off the trusted list
    assert 'data-mark="trusted"' not in page

    assert field(page, "complaints") == "3"
    # Settled: the refund and the mediation agreement; concluded adds the terminated one.
    assert field(page, "settled").startswith("67% (2 of 3")
    assert field(page, "median") != "—"


def test_the_hook_is_idempotent_and_declines_cost_nothing(seeded):
    outlet = outlet_named("Taxi Qiong B·T1234")  # not enrolled: straight to the regulator
    at = utcnow() - timedelta(days=3)
    case = filed_and_routed(outlet, at)
    fire_credited(case, "decline", HANDLER, at + timedelta(hours=1), ground="materials_missing")
    assert db.session.query(CreditEvent).count() == 0

    other = filed_and_routed(outlet, at)
    fire_credited(other, "accept", HANDLER, at + timedelta(hours=1))
    fire_credited(other, "record_agreement", HANDLER, at + timedelta(hours=2))
    on_case_transition(other, "record_agreement", at + timedelta(hours=3))  # a retry
    db.session.commit()
    assert db.session.query(CreditEvent).count() == 1


def test_settling_after_the_deadline_counts_as_a_missed_deadline(seeded):
    outlet = outlet_named("Ah Hai")
    at = utcnow() - timedelta(days=3)
    case = filed_and_routed(outlet, at)
    fire_credited(case, "merchant_offer", MERCHANT, at + timedelta(hours=20))  # in time
    fire_credited(case, "tourist_accept_offer", TOURIST, at + timedelta(hours=30))
    late = filed_and_routed(outlet, at)
    fire_credited(late, "merchant_refund", MERCHANT, at + timedelta(hours=25))
    # An offer restarts the clock for the tourist, not for the merchant: a late offer is late.
    late_offer = filed_and_routed(outlet, at)
    fire_credited(late_offer, "merchant_offer", MERCHANT, at + timedelta(hours=26))
    fire_credited(late_offer, "tourist_accept_offer", TOURIST, at + timedelta(hours=27))
    kinds = {e.case_id: str(e.kind) for e in db.session.query(CreditEvent)}
    assert kinds == {
        case.id: "settled_in_time",
        late.id: "deadline_missed",
        late_offer.id: "deadline_missed",
    }


def test_portal_partials_render_the_chart_and_every_entry(app, seeded):
    outlet = outlet_named("Ah Hai")
    at = utcnow() - timedelta(days=100)
    case = filed_and_routed(outlet, at)
    fire_credited(case, "merchant_deadline_passed", SYSTEM, at + timedelta(days=1), reason="x")
    later = filed_and_routed(outlet, at + timedelta(days=95))
    fire_credited(later, "merchant_refund", MERCHANT, at + timedelta(days=95, hours=1))
    now = utcnow()
    on_compensation_paid(outlet.enterprise_id, case.id, now - timedelta(hours=2))
    on_recovery_overdue(outlet.enterprise_id, case.id, now - timedelta(hours=1))
    db.session.commit()

    with app.test_request_context("/?lang=en"):
        from flask import render_template_string

        context = portal_context(outlet.enterprise_id, utcnow())
        html = render_template_string(
            '{% include "credit/_score_chart.html" %}{% include "credit/_events.html" %}',
            **context,
        )
    assert "<svg" in html
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "Merchant deadline missed" in html
    assert "no longer counted" in html  # the missed deadline expired after 90 days
    assert "Settled within the merchant deadline" in html
    assert case.number in html
    assert "Score 67: base 100, -33 from the entries" in html  # +2 - 10 - 25; the -5 has expired
    assert "left the list — Grade below B" in html
