"""Staff accounts: argon2 hashes, sign-in and sign-out, CSRF, lockout, rate limit, CLI, seeding."""

from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlalchemy import func, select

from complaints.accounts import passwords
from complaints.accounts.models import Account, AccountRole
from complaints.accounts.seed import DEMO_ACCOUNTS, DEMO_PASSWORD
from complaints.accounts.services import authenticate
from complaints.extensions import db
from tests.app_fixtures import hidden_fields

HANDLER = "handler.sanya@anxin.demo"
T0 = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)


def login_form(client, email=HANDLER, password=DEMO_PASSWORD, **extra) -> dict:
    page = client.get("/login?lang=en")
    assert page.status_code == 200
    data = hidden_fields(page.get_data(as_text=True))
    data.update(email=email, password=password, **extra)
    return data


def post_login(client, email=HANDLER, password=DEMO_PASSWORD, **extra):
    return client.post("/login?lang=en", data=login_form(client, email, password, **extra))


def account(email=HANDLER) -> Account:
    db.session.expire_all()
    return db.session.scalar(select(Account).where(Account.email == email))


def test_demo_accounts_are_seeded_with_argon2id_and_scoped(seeded):
    regulators = select(Account).where(Account.agency_id.is_not(None))
    accounts = {a.email: a for a in db.session.scalars(regulators)}
    assert set(accounts) == {email for email, *_ in DEMO_ACCOUNTS}
    for acc in accounts.values():
        assert acc.password_hash.startswith("$argon2id$")
        assert acc.enterprise_id is None
        assert acc.role.is_regulator or acc.role.is_inspector  # inspectors: agency staff too
    assert accounts["handler.haikou@anxin.demo"].agency.slug == "amr-460100"
    assert accounts["fund.sanya@anxin.demo"].role is AccountRole.FUND_MANAGER
    assert accounts["admin@anxin.demo"].agency.slug == "amr-460200"


def test_demo_accounts_are_refused_in_production(app, app_ctx, monkeypatch):
    from complaints.seed import seed_all

    monkeypatch.setitem(app.config, "ANXIN_ENV", "production")
    seed_all()
    demo = [email for email, *_ in DEMO_ACCOUNTS]
    assert db.session.scalar(select(func.count()).where(Account.email.in_(demo))) == 0


def test_password_hashes_verify_and_flag_weaker_parameters(app_ctx):
    hashed = passwords.hash_password("correct horse battery")
    assert passwords.verify_password(hashed, "correct horse battery")
    assert not passwords.verify_password(hashed, "wrong")
    assert not passwords.verify_password("not-a-hash", "anything")
    older = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("x")
    assert passwords.needs_rehash(older)


def test_sign_in_lands_on_the_console_and_sign_out_ends_the_session(client, seeded):
    assert client.get("/console/").status_code == 302  # not signed in: to the login page
    response = post_login(client)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/console/")
    response = client.get("/console/?lang=en")
    assert response.status_code == 200
    queue = response.get_data(as_text=True)
    assert "Li Na" in queue
    assert "Sign out" in queue
    token = hidden_fields(queue)["csrf_token"]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    after = client.get("/console/")
    assert after.status_code == 302
    assert "/login?next=" in after.headers["Location"]


def test_sign_in_renews_the_session(client, seeded):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    post_login(client)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == str(account().id)


def sign_out(client):
    token = hidden_fields(client.get("/console/").get_data(as_text=True))["csrf_token"]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303


def test_next_is_followed_only_within_the_site(client, seeded):
    inside = post_login(client, next="/console/?state=mediation")
    assert inside.headers["Location"] == "/console/?state=mediation"
    sign_out(client)
    for outside in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = post_login(client, next=outside)
        assert response.headers["Location"] == "/console/", outside
        sign_out(client)


def test_wrong_password_and_unknown_email_get_the_same_answer(client, seeded):
    wrong = post_login(client, password="not the password")
    unknown = post_login(client, email="nobody@anxin.demo", password="not the password")
    assert wrong.status_code == unknown.status_code == 401
    message = "Email or password is wrong."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_login_and_logout_need_the_csrf_token(client, seeded):
    data = login_form(client)
    data.pop("csrf_token")
    refused = client.post("/login?lang=en", data=data)
    assert refused.status_code == 400
    assert "expired" in refused.get_data(as_text=True)
    post_login(client)
    assert client.post("/logout").status_code == 400
    assert client.get("/console/").status_code == 200  # still signed in


def test_a_disabled_account_cannot_sign_in(client, seeded):
    acc = account()
    acc.active = False
    db.session.commit()
    assert post_login(client).status_code == 401


def test_a_weaker_hash_is_upgraded_on_sign_in(seeded):
    acc = account()
    acc.password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(
        DEMO_PASSWORD
    )
    db.session.commit()
    assert authenticate(HANDLER, DEMO_PASSWORD, T0).ok
    assert not passwords.needs_rehash(account().password_hash)


def test_cli_creates_an_account_with_a_prompted_password(runner, seeded):
    result = runner.invoke(
        args=[
            "accounts",
            "create",
            "--email",
            "New.Handler@Example.org",
            "--name",
            "Xu Bo",
            "--role",
            "handler",
            "--agency-slug",
            "amr-460100",
        ],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long enough password" not in result.output  # hidden prompt
    created = account("new.handler@example.org")
    assert created.agency.slug == "amr-460100"
    assert passwords.verify_password(created.password_hash, "a long enough password")


WRONG_SCOPES = [
    (["--role", "handler", "--agency-slug", "amr-999999"], "no agency"),
    (["--role", "handler", "--uscc", "914403001922038216"], "--agency-slug only"),
    (["--role", "merchant_owner", "--agency-slug", "amr-460200"], "--uscc only"),
    (["--role", "handler", "--agency-slug", "amr-460200", "--email", HANDLER], "exists"),
]


def test_cli_refuses_a_wrong_scope(runner, seeded):
    for args, complaint in WRONG_SCOPES:
        base = {"--email": "x@example.org", "--name": "X", "--password": "a long enough password"}
        for flag in args[::2]:
            base.pop(flag, None)
        flat = [item for pair in base.items() for item in pair] + args
        result = runner.invoke(args=["accounts", "create", *flat])
        assert result.exit_code != 0, args
        assert complaint in result.output, args
    assert account("x@example.org") is None


def test_login_posts_are_rate_limited(database_url, seeded, tmp_path):
    from complaints import create_app
    from complaints.extensions import limiter

    limited = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_DIR": str(tmp_path),
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_RATE_LIMIT": "3 per minute",
        }
    )
    try:
        client = limited.test_client()
        statuses = [post_login(client, password="guess").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
    finally:
        limiter.enabled = False  # the extension is shared with the session-wide test app
        with limited.app_context():
            db.engine.dispose()
