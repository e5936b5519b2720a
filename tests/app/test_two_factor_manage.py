"""After set-up: new recovery codes, turning two-factor sign-in off where the role allows it,
and an admin's reset for someone who lost the phone and the codes (audited)."""

import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from complaints.accounts.totp import AccountTotp
from complaints.admin.models import AdminChange
from complaints.database import utcnow
from complaints.extensions import db
from tests.app.test_admin_screens import ADMIN, _csrf
from tests.app.test_admin_staff import _account, _code, _enrol
from tests.app.test_admin_staff import two_factor_policy as two_factor_policy
from tests.app.test_console_support import sign_in
from tests.app_fixtures import hidden_fields

HANDLER = "handler.sanya@anxin.demo"
CODES = re.compile(r"<li>([0-9A-F]{5}-[0-9A-F]{5})</li>")


def _post_from_page(client, form_id: str, action: str, code: str):
    page = client.get("/account/two-factor").get_data(as_text=True)
    section = page[page.index(f'id="{form_id}"') :]
    data = hidden_fields(section[: section.index("</form>")])
    prefix = "renew" if form_id == "totp-renew" else "off"
    data[f"{prefix}-code"] = code
    return client.post(action, data=data)


def test_new_recovery_codes_replace_the_old_ones(client, seeded):
    sign_in(client, HANDLER)
    _enrol(client, old := [])
    # A recovery code cannot renew the codes: whoever holds one could otherwise keep access.
    refused = _post_from_page(client, "totp-renew", "/account/two-factor/recovery-codes", old[0])
    assert refused.status_code == 422
    assert "身份验证器应用当前显示的验证码" in refused.get_data(as_text=True)
    secret = db.session.get(AccountTotp, _account(HANDLER).id).secret
    renewed = _post_from_page(
        client, "totp-renew", "/account/two-factor/recovery-codes", pyotp.TOTP(secret).now()
    )
    assert renewed.status_code == 200
    new = CODES.findall(renewed.get_data(as_text=True))
    assert len(new) == 10
    assert not set(new) & set(old)

    client.post("/logout", data=_csrf(client, "/console/"))
    sign_in(client, HANDLER)
    assert _code(client, old[1]).status_code == 422
    assert _code(client, new[0]).status_code == 303


def test_an_optional_user_turns_it_off_and_signs_in_with_the_password_alone(client, seeded):
    sign_in(client, HANDLER)
    secret = _enrol(client)
    wrong = _post_from_page(client, "totp-off", "/account/two-factor/off", "000000")
    assert wrong.status_code == 422
    later = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    assert _post_from_page(client, "totp-off", "/account/two-factor/off", later).status_code == 303
    assert db.session.get(AccountTotp, _account(HANDLER).id) is None
    client.post("/logout", data=_csrf(client, "/console/"))
    sign_in(client, HANDLER)
    assert client.get("/console/").status_code == 200  # no code asked for


def test_a_role_that_requires_it_cannot_turn_it_off(client, seeded, two_factor_policy):
    sign_in(client, ADMIN)
    secret = _enrol(client)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'id="totp-off"' not in page
    data = hidden_fields(page)
    data["off-code"] = pyotp.TOTP(secret).now()
    assert client.post("/account/two-factor/off", data=data).status_code == 303
    assert db.session.get(AccountTotp, _account(ADMIN).id) is not None


def test_an_admin_resets_a_lost_phone_and_the_role_sets_it_up_again(
    client, seeded, two_factor_policy
):
    manager = "fund.sanya@anxin.demo"
    sign_in(client, manager)
    _enrol(client)
    client.post("/logout", data=_csrf(client, "/account/two-factor"))

    sign_in(client, ADMIN)
    _enrol(client)
    target = _account(manager)
    data = _csrf(client, "/admin/staff")
    assert client.post(f"/admin/staff/{target.id}/two-factor/reset", data=data).status_code == 303
    assert db.session.get(AccountTotp, target.id) is not None  # no reason, no reset
    data["reason"] = "phone lost, ticket 4711"
    assert client.post(f"/admin/staff/{target.id}/two-factor/reset", data=data).status_code == 303
    assert db.session.get(AccountTotp, target.id) is None
    change = db.session.scalars(
        select(AdminChange).where(AdminChange.action == "reset_two_factor")
    ).one()
    assert (change.subject_key, change.reason) == (manager, "phone lost, ticket 4711")
    client.post("/logout", data=_csrf(client, "/admin/"))

    sign_in(client, manager)
    assert client.get("/console/").headers["Location"].endswith("/account/two-factor")
