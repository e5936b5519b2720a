"""The case page and every regulator action through HTTP, refusals included."""

import re

import pytest
from sqlalchemy import select, update

from complaints.cases.models import Case, CaseEvent
from complaints.cases.workflow import available_actions
from complaints.console import views as console_views
from complaints.console.forms import CONSOLE_TRIGGERS
from complaints.database import utcnow
from complaints.extensions import db
from complaints.notices.models import Notification
from tests.app.test_console_support import (
    AH_HAI,
    HAIKOU_HANDLER,
    SANYA_FUND,
    SANYA_HANDLER,
    SANYA_SUPERVISOR,
    TAXI,
    act,
    attach_photo,
    case_page,
    file_case,
    reload,
    sign_in,
)
from tests.app_fixtures import error_for
from workflows.states import CaseState, Role


@pytest.fixture
def review_case(seeded):
    """A Sanya case waiting for the regulator's decision to accept."""
    return file_case(TAXI, utcnow())


def _action_forms(html: str) -> list[str]:
    return re.findall(r'<form method="post" action="[^"]*/actions/(\w+)"', html)


def _events(case) -> list[str]:
    return [e.trigger for e in reload(case).events]


def test_case_page_shows_everything_a_regulator_needs(app, client, review_case):
    photo = attach_photo(app, review_case)
    sign_in(client)
    response = case_page(client, review_case.number)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Alice Tourist" in html
    assert "+447911123456" in html  # regulators see the full number
    assert "meter showed as 88" in html
    assert f"/console/evidence/{photo.id}" in html
    assert "Complaint filed" in html
    assert "Sent to the regulator" in html
    assert "Decision to accept due" in html
    # Signed-in pages load the static confirm.js (hardening); the rule is CSP: no inline script.
    assert all(b.strip() == "" for b in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S))
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from another host
    offered = available_actions(review_case, Role.HANDLER, utcnow())
    expected = [t.trigger for t in offered if t.trigger in CONSOLE_TRIGGERS]
    assert (
        _action_forms(html)
        == expected
        == [
            "assign",
            "accept",
            "decline",
            "transfer",
            # Issue 12 item 17: each party's consent to mediation is recorded (Art. 16).
            "tourist_consents_to_mediation",
            "merchant_consents_to_mediation",
        ]
    )
    # Table rows with a flow of their own (merging duplicates) get no generic form.
    assert {t.trigger for t in offered} - CONSOLE_TRIGGERS == {"merge_into", "absorb_duplicate"}


def test_evidence_is_served_to_the_agency(app, client, review_case):
    photo = attach_photo(app, review_case)
    sign_in(client)
    response = client.get(f"/console/evidence/{photo.id}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data[:2] == b"\xff\xd8"
    response.close()


def test_a_fund_manager_sees_the_case_but_the_table_gives_no_actions(client, review_case):
    sign_in(client, SANYA_FUND)
    html = case_page(client, review_case.number).get_data(as_text=True)
    assert _action_forms(html) == []
    assert "Nothing for your role to do" in html
    refused = act(client, review_case.number, "accept")
    assert refused.status_code == 409
    assert "only handler, supervisor may fire it" in refused.get_data(as_text=True)
    assert reload(review_case).state is CaseState.REGULATOR_REVIEW


def test_mediation_from_acceptance_to_agreement_and_close(client, review_case):
    sign_in(client)
    number = review_case.number
    assert act(client, number, "accept").status_code == 303
    page = case_page(client, number).get_data(as_text=True)
    assert "Done: Accept." in page
    assert "Mediation ends" in page
    assert "Provisional" in page  # 45 working days from late November 2026 reach into 2027
    assert (
        act(client, number, "pause_for_appraisal", reason="Weighing the catch").status_code == 303
    )
    paused = case_page(client, number).get_data(as_text=True)
    assert "resume_after_appraisal" in _action_forms(paused)
    assert "pause_for_appraisal" not in _action_forms(paused)
    assert act(client, number, "resume_after_appraisal").status_code == 303
    agreed = act(client, number, "record_agreement", amount="300.50", terms="Refund in cash today")
    assert agreed.status_code == 303
    assert reload(review_case).state is CaseState.RESOLVED
    assert act(client, number, "close").status_code == 303
    case = reload(review_case)
    assert case.state is CaseState.CLOSED
    assert _events(case) == [
        "submit",
        "route_to_regulator",
        "accept",
        "pause_for_appraisal",
        "resume_after_appraisal",
        "record_agreement",
        "close",
    ]
    agreement = case.events[5]
    assert agreement.reason == "Agreement: ¥300.50 — Refund in cash today"
    assert agreement.actor_role is Role.HANDLER
    timeline = case_page(client, number).get_data(as_text=True)
    assert "Agreement: ¥300.50 — Refund in cash today" in timeline
    assert "Li Na" in timeline  # the actor, by name
    # The parties were told, through the outbox, after each commit.
    told = db.session.scalars(select(Notification.event_key).where(Notification.case_id == case.id))
    assert {"accept", "record_agreement", "close"} <= set(told)


def test_agreement_amount_must_be_money(client, review_case):
    sign_in(client)
    act(client, review_case.number, "accept")
    bad = act(client, review_case.number, "record_agreement", amount="12.345", terms="x")
    assert bad.status_code == 422
    assert "two decimals" in " ".join(
        error_for(bad.get_data(as_text=True), "record_agreement-amount")
    )
    assert reload(review_case).state is CaseState.MEDIATION


def test_decline_needs_a_legal_ground_and_can_be_reopened_on_appeal(client, review_case):
    sign_in(client, SANYA_SUPERVISOR)
    number = review_case.number
    missing = act(client, number, "decline", reason="Not ours")
    assert missing.status_code == 422
    assert error_for(missing.get_data(as_text=True), "decline-ground")
    bogus = act(client, number, "decline", ground="because")
    assert bogus.status_code == 422
    assert act(client, number, "decline", ground="time_barred_3y").status_code == 303
    case = reload(review_case)
    assert case.state is CaseState.DECLINED
    assert case.events[-1].ground == "time_barred_3y"
    page = case_page(client, number).get_data(as_text=True)
    assert "More than three years since the harm was known" in page
    assert "SAMR Order 121 (formerly Order 20, Art. 15(4))" in page  # received after 2026-04-15
    assert "Appeal window ends" in page
    assert _action_forms(page) == ["close", "reopen"]
    assert act(client, number, "reopen").status_code == 422  # a reason is required
    assert act(client, number, "reopen", reason="New receipt found").status_code == 303
    assert reload(review_case).state is CaseState.REGULATOR_REVIEW


def test_terminate_mediation_with_a_ground(client, review_case):
    sign_in(client)
    act(client, review_case.number, "accept")
    assert act(client, review_case.number, "terminate").status_code == 422
    done = act(
        client, review_case.number, "terminate", ground="party_refused", reason="Merchant hung up"
    )
    assert done.status_code == 303
    case = reload(review_case)
    assert case.state is CaseState.TERMINATED
    assert (case.events[-1].ground, case.events[-1].reason) == ("party_refused", "Merchant hung up")
    assert "Parties to be told by" in case_page(client, case.number).get_data(as_text=True)


def test_assign_only_to_a_handler_of_the_same_agency(client, review_case):
    from complaints.accounts.models import Account

    handler = db.session.scalar(select(Account).where(Account.email == SANYA_HANDLER))
    haikou = db.session.scalar(select(Account).where(Account.email == HAIKOU_HANDLER))
    sign_in(client, SANYA_SUPERVISOR)
    assert act(client, review_case.number, "assign", handler=str(haikou.id)).status_code == 422
    assert act(client, review_case.number, "assign", handler=str(handler.id)).status_code == 303
    case = reload(review_case)
    assert case.handler_id == handler.id
    assert case.events[-1].reason == "Assigned to Li Na (Sanya handler)"
    assert "Li Na (Sanya handler)" in case_page(client, case.number).get_data(as_text=True)


def test_an_action_the_table_does_not_allow_is_refused_with_its_reason(client, review_case):
    sign_in(client)
    for trigger, message in (
        ("close", "it applies only in"),
        ("record_agreement", "it applies only in mediation"),
        ("pause_for_appraisal", "it applies only in mediation"),
    ):
        refused = act(client, review_case.number, trigger, amount="1", terms="x")
        assert refused.status_code == 409, trigger
        assert message in refused.get_data(as_text=True), trigger
    assert act(client, review_case.number, "fly_to_the_moon").status_code == 404
    for not_here in ("merge_into", "escalate"):  # in the table, but not console actions
        assert act(client, review_case.number, not_here, reason="x").status_code == 404
    assert _events(review_case) == ["submit", "route_to_regulator"]


def test_a_merchant_response_case_offers_the_regulator_nothing_to_decide(client, seeded):
    case = file_case(AH_HAI, utcnow())
    sign_in(client)
    html = case_page(client, case.number).get_data(as_text=True)
    assert _action_forms(html) == []
    assert act(client, case.number, "accept").status_code == 409


def test_actions_need_the_csrf_token(client, review_case):
    sign_in(client)
    response = client.post(f"/console/cases/{review_case.number}/actions/accept?lang=en", data={})
    assert response.status_code == 400
    assert reload(review_case).state is CaseState.REGULATOR_REVIEW


def test_someone_else_acting_first_gets_a_reload_message_not_a_500(
    client, review_case, monkeypatch
):
    real_lookup = console_views.queries.case_for_regulator

    def lookup_then_someone_else_acts(number, account):
        case = real_lookup(number, account)
        if number == review_case.number and case.version == 2:
            # Another regulator's write lands between our read and our flush.
            db.session.execute(
                update(Case).where(Case.id == case.id).values(version=Case.version + 1),
                execution_options={"synchronize_session": False},
            )
        return case

    sign_in(client)
    monkeypatch.setattr(console_views.queries, "case_for_regulator", lookup_then_someone_else_acts)
    response = act(client, review_case.number, "accept")
    assert response.status_code == 409
    assert "changed while you were looking" in response.get_data(as_text=True)
    monkeypatch.undo()
    case = reload(review_case)
    assert case.state is CaseState.REGULATOR_REVIEW
    assert db.session.scalar(select(CaseEvent.id).where(CaseEvent.trigger == "accept")) is None
