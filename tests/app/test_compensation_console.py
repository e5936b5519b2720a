"""The fund console and the tourist's side: pages, forms with CSRF, scoping, CSV, the CLI."""

import csv
import io
import re
import secrets

from flask import g
from sqlalchemy import select, update

from complaints.accounts.seed import DEMO_PASSWORD
from complaints.compensation.models import Claim, ClaimEvent, LedgerAccount, LedgerEntry
from complaints.extensions import db
from tests.app.test_compensation_support import (
    QILOU,
    TEST_PAYEE,
    assert_books_balance,
    eligible_case,
    reload,
    tracking_key,
)
from tests.app_fixtures import hidden_fields
from workflows.states import CompensationState as C

SANYA_FUND = "fund.sanya@anxin.demo"
SANYA_HANDLER = "handler.sanya@anxin.demo"
SANYA_ADMIN = "admin@anxin.demo"


def _fresh_g() -> None:
    """The test's app context is shared by every test-client request, so flask `g` would
    carry Flask-WTF's CSRF token (tied to a session sign-in cleared) and Flask-Login's user
    (of another client) from one request to the next. A real request has its own `g`."""
    g.pop("csrf_token", None)
    g.pop("_login_user", None)


def get(client, url: str):
    _fresh_g()
    return client.get(url)


def post(client, url: str, data: dict):
    _fresh_g()
    return client.post(url, data=data)


def sign_in(client, email: str) -> None:
    page = get(client, "/login?lang=en")
    data = hidden_fields(page.get_data(as_text=True))
    data.update(email=email, password=DEMO_PASSWORD)
    assert post(client, "/login?lang=en", data).status_code == 303


def ask(client, key: str, amount: str):
    page = get(client, f"/t/{tracking_key(key)}?lang=en")
    assert page.status_code == 200
    token = hidden_fields(page.get_data(as_text=True))["csrf_token"]
    return post(
        client,
        f"/t/{tracking_key(key)}/compensation?lang=en",
        {
            "csrf_token": token,
            "amount": amount,
            "payee_method": "bank",
            "payee_account": "6222 0212 3456 7890 123",
            "payee_name": "Alice Tourist",
        },
    )


def post_action(client, claim_id: int, action: str, **fields):
    page = get(client, f"/console/fund/claims/{claim_id}?lang=en")
    token = hidden_fields(page.get_data(as_text=True)).get("csrf_token")
    return post(
        client, f"/console/fund/claims/{claim_id}/{action}?lang=en", {"csrf_token": token, **fields}
    )


def test_a_tourist_asks_and_a_small_claim_is_paid_in_the_same_request(client, seeded):
    key = secrets.token_urlsafe(24)
    case = eligible_case(key=key)
    response = ask(client, key, "300.00")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#compensation")
    claim = db.session.scalar(select(Claim).where(Claim.case_id == case.id))
    assert claim.state is C.PAID  # a small claim: paid without freezing the merchant
    assert claim.paid_at is not None
    page = get(client, f"/t/{tracking_key(key)}?lang=en").get_data(as_text=True)
    assert "Advance compensation paid" in page
    assert "¥300.00" in page
    assert "merchant_receivable" not in page
    assert "recovery" not in page.lower()
    assert_books_balance()


def test_a_refused_request_shows_the_rules_reasons_on_the_tracking_page(client, seeded):
    key = secrets.token_urlsafe(24)
    eligible_case(key=key, verified=False, evidence=False)
    response = ask(client, key, "300.00")
    assert response.status_code == 422  # the page again, with what was typed
    page = response.get_data(as_text=True)
    assert "Confirm your phone number" in page
    assert "Attach at least one photo" in page
    assert 'value="300.00"' in page
    assert 'value="6222 0212 3456 7890 123"' in page
    assert db.session.scalar(select(Claim.id)) is None


def test_the_console_needs_a_fund_role_and_stays_in_its_city(app, client, seeded):
    assert get(client, "/console/fund/").status_code == 302  # to the login page
    sign_in(client, SANYA_HANDLER)
    assert get(client, "/console/fund/").status_code == 403
    assert get(client, "/console/fund/export.csv").status_code == 403
    haikou = _ask_large(client, eligible_case(QILOU, claimed_fen=79_200))
    fund_manager = app.test_client()
    sign_in(fund_manager, SANYA_FUND)
    assert get(fund_manager, "/console/fund/").status_code == 200
    assert get(fund_manager, f"/console/fund/claims/{haikou.id}").status_code == 404
    assert post_action(fund_manager, haikou.id, "approve", reason="x").status_code == 404


def _ask_large(client, case) -> Claim:
    from complaints.cases.workflow import Actor
    from complaints.compensation.services import request_claim
    from complaints.database import utcnow
    from workflows.states import Role

    claim = request_claim(
        case, case.amount_claimed_fen, Actor(Role.TOURIST), now=utcnow(), payee=TEST_PAYEE
    )
    db.session.commit()
    return claim


def test_a_fund_manager_approves_with_a_reason_and_the_figures_follow(client, seeded):
    claim = _ask_large(client, eligible_case(claimed_fen=79_200))
    sign_in(client, SANYA_FUND)
    dashboard = get(client, "/console/fund/?lang=en").get_data(as_text=True)
    assert f'data-claim="{claim.id}"' in dashboard  # waiting for a decision: the default list
    assert post_action(client, claim.id, "approve", reason="").status_code == 422
    refused = post_action(client, claim.id, "approve", reason="Receipt shows the overcharge")
    assert refused.status_code == 303
    claim = reload(claim)
    assert claim.state is C.RECOVERY_OPEN
    assert claim.decided_by is not None
    page = get(client, f"/console/fund/claims/{claim.id}?lang=en").get_data(as_text=True)
    assert "Receipt shows the overcharge" in page
    assert 'id="minutes-to-pay"' in page
    figures = get(client, "/console/fund/?lang=en&figure=frozen").get_data(as_text=True)
    assert re.search(r'id="figure-paid">¥792\.00', figures)
    assert re.search(r'id="figure-frozen">¥792\.00', figures)
    assert f'data-claim="{claim.id}"' in figures
    assert get(client, "/console/fund/?figure=nonsense").status_code == 404
    assert_books_balance()


def test_an_admin_sees_but_the_table_lets_only_a_fund_manager_act(client, seeded):
    claim = _ask_large(client, eligible_case(claimed_fen=79_200))
    sign_in(client, SANYA_ADMIN)
    page = get(client, f"/console/fund/claims/{claim.id}?lang=en").get_data(as_text=True)
    assert 'id="action-approve"' not in page
    post_action(client, claim.id, "approve", reason="I am the admin")
    assert reload(claim).state is C.REQUESTED


def test_csv_export_lists_the_claims_behind_a_figure(client, seeded):
    claim = _ask_large(client, eligible_case(claimed_fen=79_200))
    sign_in(client, SANYA_FUND)
    post_action(client, claim.id, "reject", reason="=HYPERLINK(evil)")
    response = get(client, "/console/fund/export.csv?figure=rejected")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["claim"], r["state"], r["amount_cny"]) for r in rows] == [
        (str(claim.id), "rejected", "792.00")
    ]
    assert rows[0]["decision_reason"] == "'=HYPERLINK(evil)"  # no formula in a spreadsheet
    everything = get(client, "/console/fund/export.csv").get_data(as_text=True)
    assert everything.count("\n") == 2  # header and the one claim


def test_ledger_verify_passes_and_catches_tampering(runner, seeded):
    eligible_case()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    entry = db.session.scalar(select(LedgerEntry).order_by(LedgerEntry.id).limit(1))
    db.session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.id == entry.id)
        .values(amount_fen=entry.amount_fen + 1)
    )
    db.session.commit()
    tampered = runner.invoke(args=["ledger", "verify"])
    assert tampered.exit_code == 1
    assert f"transaction {entry.transaction_id}" in tampered.output
    assert "entries sum to" in tampered.output  # the account's balance no longer matches either
    db.session.execute(
        update(LedgerEntry).where(LedgerEntry.id == entry.id).values(amount_fen=entry.amount_fen)
    )
    db.session.execute(
        update(LedgerAccount)
        .where(LedgerAccount.id == entry.account_id)
        .values(balance_fen=LedgerAccount.balance_fen + 100)
    )
    db.session.commit()
    cached = runner.invoke(args=["ledger", "verify"])
    assert cached.exit_code == 1
    assert "balance" in cached.output
    db.session.execute(
        update(LedgerAccount)
        .where(LedgerAccount.id == entry.account_id)
        .values(balance_fen=LedgerAccount.balance_fen - 100)
    )
    claim = _ask_large(None, eligible_case(claimed_fen=79_200))
    db.session.execute(update(ClaimEvent).where(ClaimEvent.claim_id == claim.id).values(reason="x"))
    db.session.commit()
    rewritten = runner.invoke(args=["ledger", "verify"])
    assert rewritten.exit_code == 1
    assert f"claim {claim.id}: event 1: contents changed after writing" in rewritten.output
