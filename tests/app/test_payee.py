"""Compensation pays someone: the payee account is validated, required before approval, masked
everywhere but the fund's payout screen; the fund manager sees the case and its evidence."""

import secrets

import pytest
from sqlalchemy import select

from complaints.compensation.models import Claim
from complaints.compensation.payee import PayeeInvalid, mask_account, parse_payee
from complaints.compensation.services import approve, request_claim
from complaints.database import utcnow
from complaints.extensions import db
from tests.app.test_compensation_console import get, post, post_action, sign_in
from tests.app.test_compensation_support import (
    FUND_MANAGER,
    TOURIST,
    eligible_case,
    tracking_key,
)
from tests.app_fixtures import hidden_fields
from workflows.machine import TransitionRefused
from workflows.states import CompensationState as C

SANYA_FUND = "fund.sanya@anxin.demo"
LARGE = 79_200  # above the small-claims threshold: a fund manager decides


@pytest.mark.parametrize(
    ("method", "account", "name", "stored"),
    [
        ("alipay", "138 1234 5678", "张三", "13812345678"),
        ("alipay", "+8613812345678", "张三", "13812345678"),
        ("alipay", "alice@example.com", "Alice Tourist", "alice@example.com"),
        ("wechat", "alice_hk-88", "陳大文", "alice_hk-88"),
        ("bank", "6222-0212 3456 7890 123", "Alice Tourist", "6222021234567890123"),
    ],
)
def test_valid_accounts_are_normalised(method, account, name, stored):
    assert parse_payee(method, account, name).account == stored


@pytest.mark.parametrize(
    ("method", "account", "name", "field"),
    [
        ("", "13812345678", "张三", "payee_method"),
        ("paypal", "a@b.com", "张三", "payee_method"),
        ("alipay", "12345", "张三", "payee_account"),
        ("wechat", "1abc", "张三", "payee_account"),
        ("bank", "6222 abc", "张三", "payee_account"),
        ("bank", "62220212345678901", " ", "payee_name"),
    ],
)
def test_invalid_accounts_name_the_field(method, account, name, field):
    with pytest.raises(PayeeInvalid) as invalid:
        parse_payee(method, account, name)
    assert invalid.value.field == field


def test_masks():
    assert mask_account("13812345678") == "138****5678"
    assert mask_account("alice@example.com") == "a***@example.com"
    assert mask_account("6222021234567890123") == "****0123"


def test_a_claim_without_an_account_waits_and_cannot_be_approved(seeded, client):
    key = secrets.token_urlsafe(24)
    case = eligible_case(key=key, claimed_fen=30_000)  # small: would be paid at once
    claim = request_claim(case, 30_000, TOURIST, now=utcnow())  # e.g. by the API
    db.session.commit()
    assert claim.state is C.REQUESTED
    with pytest.raises(TransitionRefused):
        approve(claim, FUND_MANAGER, reason="looks right", now=utcnow())
    db.session.rollback()

    path = f"/t/{tracking_key(key)}"
    page = get(client, path + "?lang=en").get_data(as_text=True)
    assert "the fund cannot approve the claim without an account" in page
    token = hidden_fields(page)["csrf_token"]
    bad = post(
        client,
        f"{path}/compensation/payee?lang=en",
        {"csrf_token": token, "payee_method": "bank", "payee_account": "12", "payee_name": "Alice"},
    )
    assert bad.status_code == 422
    assert "12 to 30 digits" in bad.get_data(as_text=True)
    good = post(
        client,
        f"{path}/compensation/payee?lang=en",
        {
            "csrf_token": token,
            "payee_method": "alipay",
            "payee_account": "13812345678",
            "payee_name": "Alice Tourist",
        },
    )
    assert good.status_code == 303
    claim = db.session.get(Claim, claim.id)
    assert claim.state in {C.PAID, C.RECOVERY_OPEN}  # small: approved and paid once it knew where
    assert [e.trigger for e in claim.events][:3] == ["request", "payee_given", "auto_approve"]
    assert "13812345678" not in claim.events[1].reason  # the chain holds it masked


def test_masked_for_the_tourist_in_full_only_on_the_payout_screen(app, seeded, client, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_BACKEND", "manual")
    key = secrets.token_urlsafe(24)
    case = eligible_case(key=key, claimed_fen=LARGE)
    path = f"/t/{tracking_key(key)}"
    page = get(client, path + "?lang=en").get_data(as_text=True)
    asked = post(
        client,
        f"{path}/compensation?lang=en",
        {
            "csrf_token": hidden_fields(page)["csrf_token"],
            "amount": f"{LARGE / 100:.2f}",
            "payee_method": "bank",
            "payee_account": "6222021234567890123",
            "payee_name": "Alice Tourist",
        },
    )
    assert asked.status_code == 303
    tracking = get(client, path + "?lang=en").get_data(as_text=True)
    assert "****0123" in tracking
    assert "6222021234567890123" not in tracking

    fund = app.test_client()
    sign_in(fund, SANYA_FUND)
    claim = db.session.scalar(select(Claim))
    before = get(fund, f"/console/fund/claims/{claim.id}?lang=en").get_data(as_text=True)
    assert "****0123" in before
    assert "6222021234567890123" not in before  # not before the payout step
    assert case.description in before  # the case and its evidence, before approving
    assert 'id="claim-evidence"' in before
    assert post_action(fund, claim.id, "approve", reason="receipt matches").status_code == 303
    payout = get(fund, f"/console/fund/claims/{claim.id}?lang=en").get_data(as_text=True)
    assert 'id="payout-payee"' in payout
    assert "6222021234567890123" in payout
    assert "6222021234567890123" not in get(fund, "/console/fund/export.csv").get_data(as_text=True)
