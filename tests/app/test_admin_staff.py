"""Staff administration and two-factor sign-in: an admin invites a regulator by e-mail (real
SMTP to the local fake), the one-time link sets a password, the role's policy requires TOTP,
recovery codes work once; disabling and re-enabling are audited."""

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from complaints.accounts.models import Account
from complaints.accounts.totp import AccountTotp
from complaints.admin.models import AdminChange
from complaints.database import utcnow
from complaints.extensions import db
from complaints.outbox.services import relay_pending
from tests.app.test_admin_screens import ADMIN, _csrf
from tests.app.test_console_support import sign_in
from tests.app.test_notices_support import fake_servers as fake_servers
from tests.app.test_notices_support import fakes as fakes
from tests.app_fixtures import hidden_fields

NEW = "new.handler@amr.example.cn"
PASSWORD = "a long enough password 42"


@pytest.fixture
def two_factor_policy(app, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", "admin,fund_manager")


def _invite(client, role="fund_manager"):
    data = _csrf(client, "/admin/staff")
    data.update(email=NEW, name="New Handler", role=role, agency="amr-460200", reason="hired")
    return client.post("/admin/staff/invite", data=data)


def _invite_link(fakes) -> str:
    relay_pending()
    (email,) = [m for m in fakes.smtp.messages if m.to == NEW]
    return re.search(r"http://anxin\.test(/staff/invite/\S+)", email.body).group(1)


def _login(client, email, password):
    data = hidden_fields(client.get("/login").get_data(as_text=True))
    data.update(email=email, password=password)
    return client.post("/login", data=data)


def test_invited_fund_manager_sets_a_password_and_must_set_up_totp(
    client, seeded, fakes, two_factor_policy
):
    # The admin's own 2FA first: the policy requires it of admins too.
    sign_in(client, ADMIN)
    assert client.get("/admin/staff").headers["Location"].endswith("/account/two-factor")
    admin_secret = _enrol(client)
    assert client.get("/admin/staff").status_code == 200
    assert _invite(client).status_code == 303
    link = _invite_link(fakes)
    client.post("/logout", data=_csrf(client, "/admin/"))

    page = client.get(link)
    assert page.status_code == 200
    data = hidden_fields(page.get_data(as_text=True))
    data.update(password=PASSWORD, confirm=PASSWORD)
    assert client.post(link, data=data).status_code == 303
    assert client.get(link).status_code == 404  # one time only

    assert _login(client, NEW, PASSWORD).status_code == 303
    assert client.get("/console/").headers["Location"].endswith("/account/two-factor")
    secret = _enrol(client)
    assert client.get("/console/").status_code == 200
    client.post("/logout", data=_csrf(client, "/console/"))

    # Next sign-in: the code prompt stands before every page; a used code is refused.
    _login(client, NEW, PASSWORD)
    assert "/login/code" in client.get("/console/").headers["Location"]
    code = pyotp.TOTP(secret).now()
    assert _code(client, code).status_code == 303
    assert client.get("/console/").status_code == 200
    client.post("/logout", data=_csrf(client, "/console/"))
    _login(client, NEW, PASSWORD)
    assert _code(client, code).status_code == 422
    assert admin_secret != secret


def test_recovery_code_signs_in_once(client, seeded, two_factor_policy):
    sign_in(client, ADMIN)
    _enrol(client, keep_codes := [])
    client.post("/logout", data=_csrf(client, "/account/two-factor"))
    sign_in(client, ADMIN)
    assert _code(client, keep_codes[0].lower().replace("-", "")).status_code == 303
    client.post("/logout", data=_csrf(client, "/admin/"))
    sign_in(client, ADMIN)
    assert _code(client, keep_codes[0]).status_code == 422
    row = db.session.get(AccountTotp, _account(ADMIN).id)
    assert len(row.recovery_hashes) == 9


def test_optional_for_handlers_and_none_without_the_policy(client, seeded, two_factor_policy):
    sign_in(client, "handler.sanya@anxin.demo")
    assert client.get("/console/").status_code == 200
    assert client.get("/account/two-factor").status_code == 200  # may turn it on


def test_disable_and_re_enable_are_audited_and_take_effect(client, seeded):
    sign_in(client, ADMIN)
    target = _account("handler.haikou@anxin.demo")
    generation = target.session_generation
    data = _csrf(client, "/admin/staff")
    data["reason"] = "left the bureau"
    assert client.post(f"/admin/staff/{target.id}/disable", data=data).status_code == 303
    disabled = _account("handler.haikou@anxin.demo")
    assert disabled.active is False
    assert disabled.session_generation == generation + 1  # sessions ended
    own = client.post(f"/admin/staff/{_account(ADMIN).id}/disable", data=data)
    assert own.status_code == 303
    assert _account(ADMIN).active is True
    data["reason"] = "came back"
    client.post(f"/admin/staff/{target.id}/enable", data=data)
    actions = db.session.scalars(
        select(AdminChange.action).where(AdminChange.subject_key == target.email)
    ).all()
    assert actions == ["disable", "enable"]
    role = _csrf(client, "/admin/staff")
    role.update(role="supervisor", agency="amr-460100", reason="promoted")
    client.post(f"/admin/staff/{target.id}/role", data=role)
    assert _account(target.email).role.value == "supervisor"


def test_invite_refuses_a_known_email(client, seeded, fakes):
    sign_in(client, ADMIN)
    data = _csrf(client, "/admin/staff")
    data.update(
        email="handler.sanya@anxin.demo", name="X", role="handler", agency="amr-460200", reason="r"
    )
    response = client.post("/admin/staff/invite?lang=en", data=data)
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)


def _account(email) -> Account:
    db.session.expire_all()
    return db.session.scalar(select(Account).where(Account.email == email))


def _enrol(client, keep_codes=None) -> str:
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    data = hidden_fields(page)
    data["code"] = pyotp.TOTP(secret).at(utcnow() - timedelta(seconds=30))
    done = client.post("/account/two-factor", data=data)
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = re.findall(r"<li>([0-9A-F]{5}-[0-9A-F]{5})</li>", done.get_data(as_text=True))
    assert len(codes) == 10
    if keep_codes is not None:
        keep_codes.extend(codes)
    return secret


def _code(client, code):
    data = hidden_fields(client.get("/login/code").get_data(as_text=True))
    data["code"] = code
    return client.post("/login/code", data=data)


def test_the_gate_lets_scripts_and_styles_through(client, seeded, two_factor_policy):
    sign_in(client, ADMIN)
    page = client.get("/account/two-factor").get_data(as_text=True)
    for asset in re.findall(r'(?:src|href)="(/assets/[^"]+)"', page):
        assert client.get(asset).status_code == 200, asset
