"""Issue 11.6 (no lockout by strangers, equal cost on every path, unlock by e-mail) and 11.7
(sign-out, a new password and disabling end every session, copied cookies included)."""

import re
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from complaints.accounts import passwords
from complaints.accounts.models import Account
from complaints.accounts.seed import DEMO_PASSWORD
from complaints.accounts.services import (
    FREE_FAILURES,
    authenticate,
    change_password,
    disable_account,
)
from complaints.extensions import db
from tests.app.test_accounts import post_login, sign_out
from tests.app_fixtures import hidden_fields

HANDLER = "handler.sanya@anxin.demo"
T0 = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
STRANGER, OWNER = "203.0.113.66", "198.51.100.7"


def account(email=HANDLER) -> Account:
    db.session.expire_all()
    return db.session.scalar(select(Account).where(Account.email == email))


def test_a_stranger_cannot_lock_the_owner_out(seeded):
    for n in range(FREE_FAILURES + 3):
        at = T0 + timedelta(minutes=n)
        assert not authenticate(HANDLER, "guess", at, client=STRANGER).ok
    later = at
    # The stranger's address waits; the owner, elsewhere, signs in at once.
    assert not authenticate(HANDLER, DEMO_PASSWORD, later, client=STRANGER).ok
    assert authenticate(HANDLER, DEMO_PASSWORD, later, client=OWNER).ok


def test_waits_grow_with_each_miss_and_a_success_forgets_them(seeded):
    for _ in range(FREE_FAILURES):
        assert not authenticate(HANDLER, "guess", T0, client=STRANGER).ok
    # The fifth miss set a 30 s wait: the right password from there waits too.
    assert not authenticate(HANDLER, DEMO_PASSWORD, T0 + timedelta(seconds=29), client=STRANGER).ok
    assert not authenticate(HANDLER, "guess", T0 + timedelta(seconds=30), client=STRANGER).ok
    # The sixth miss: 60 s from then.
    assert not authenticate(HANDLER, DEMO_PASSWORD, T0 + timedelta(seconds=89), client=STRANGER).ok
    assert authenticate(HANDLER, DEMO_PASSWORD, T0 + timedelta(seconds=90), client=STRANGER).ok
    for _ in range(FREE_FAILURES - 1):
        authenticate(HANDLER, "guess", T0 + timedelta(seconds=91), client=STRANGER)
    assert authenticate(HANDLER, DEMO_PASSWORD, T0 + timedelta(seconds=91), client=STRANGER).ok


def test_every_refusal_costs_one_argon2_verification(seeded, monkeypatch):
    """No timing oracle: unknown e-mail, a waiting client, a disabled account and a wrong
    password each run exactly one hash verification, as a right password does."""
    calls = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(
        passwords, "verify_password", lambda h, p: calls.append(h) or real_verify(h, p)
    )

    def cost(email, password, client):
        calls.clear()
        authenticate(email, password, T0, client=client)
        return len(calls), all(h.startswith("$argon2") for h in calls)

    assert cost("nobody@anxin.demo", "guess", OWNER) == (1, True)
    assert cost(HANDLER, "guess", OWNER) == (1, True)
    for _ in range(FREE_FAILURES):
        authenticate(HANDLER, "guess", T0, client=STRANGER)
    assert cost(HANDLER, "guess", STRANGER) == (1, True)  # waiting: still one verification
    disabled = account("handler.haikou@anxin.demo")
    disabled.active = False
    db.session.commit()
    assert cost("handler.haikou@anxin.demo", DEMO_PASSWORD, OWNER) == (1, True)


def test_parallel_guesses_from_one_client_get_no_more_than_the_free_checks(
    app, seeded, monkeypatch
):
    checked = []
    real_verify = passwords.verify_password
    real_hash = account().password_hash

    def counting_verify(password_hash, password):
        if password_hash == real_hash:
            checked.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting_verify)
    start = threading.Barrier(8)

    def guess(n):
        with app.app_context():
            start.wait()
            authenticate(HANDLER, f"guess-{n}", T0, client=STRANGER)
            db.session.remove()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(checked) == FREE_FAILURES
    assert authenticate(HANDLER, DEMO_PASSWORD, T0, client=OWNER).ok


def test_an_emailed_link_ends_the_wait(client, seeded, capsys):
    stranger = {"REMOTE_ADDR": STRANGER}
    for _ in range(FREE_FAILURES):
        page = client.post(
            "/login?lang=en",
            data={**_login_form(client), "password": "guess"},
            environ_base=stranger,
        )
    assert page.status_code == 401
    assert 'id="unlock"' in page.text
    capsys.readouterr()
    asked = client.post(
        "/login/unlock?lang=en",
        data={"csrf_token": hidden_fields(page.text)["csrf_token"], "email": HANDLER},
        environ_base=stranger,
    )
    assert asked.status_code == 303
    link = re.search(r"http://anxin\.test(/login/unlock/\S+)", capsys.readouterr().out).group(1)
    # Unknown addresses get the same answer and no mail.
    nobody = client.post(
        "/login/unlock?lang=en",
        data={"csrf_token": hidden_fields(page.text)["csrf_token"], "email": "x@anxin.demo"},
    )
    assert nobody.status_code == 303
    assert "/login/unlock/" not in capsys.readouterr().out
    assert client.get(link).status_code == 303
    right = client.post("/login?lang=en", data=_login_form(client), environ_base=stranger)
    assert right.status_code == 303
    assert client.get("/login/unlock/forged-token").status_code == 404


def _login_form(client):
    data = hidden_fields(client.get("/login?lang=en").text)
    data.update(email=HANDLER, password=DEMO_PASSWORD)
    return data


def _copied_cookie_works(app, cookie) -> bool:
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/console/").status_code == 200


def test_sign_out_ends_copies_of_the_session(app, client, seeded):
    assert post_login(client).status_code == 303
    cookie = client.get_cookie("session").value
    assert _copied_cookie_works(app, cookie)
    sign_out(client)
    assert not _copied_cookie_works(app, cookie)


def test_a_new_password_or_disabling_ends_every_session(app, client, seeded):
    assert post_login(client).status_code == 303
    cookie = client.get_cookie("session").value
    change_password(account(), "a brand new password 2026")
    db.session.commit()
    assert not _copied_cookie_works(app, cookie)
    assert post_login(client, password="a brand new password 2026").status_code == 303
    cookie = client.get_cookie("session").value
    assert _copied_cookie_works(app, cookie)
    disable_account(account())
    db.session.commit()
    assert not _copied_cookie_works(app, cookie)
