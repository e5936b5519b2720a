"""The Flask tutorial's fixtures (app, client, runner) on a migrated database of our own."""

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from tests import services as test_services

os.environ["ANXIN_ENV"] = "test"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    admin_url = test_services.postgres_admin_url()
    if admin_url:
        name, url = test_services.create_postgres_database(admin_url)
        yield url
        test_services.drop_postgres_database(admin_url, name)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'anxin.sqlite3'}"


TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "complaints" / "translations"


def compile_stale_translations() -> None:
    """Build each .mo that is missing or older than its .po, as `make translations` does
    (`pybabel compile --use-fuzzy`): the .mo files are git-ignored, and without them every
    page would silently stay English."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        partial = mo_path.with_name(f".{mo_path.name}.{os.getpid()}.tmp")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=True)
        os.replace(partial, mo_path)  # atomic: a parallel session never reads half a file


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from flask_migrate import upgrade

    from complaints import create_app

    compile_stale_translations()
    application = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": "",  # inline jobs unless a test asks for the real queue
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
            "PUBLIC_BASE_URL": "http://anxin.test",
            "SECRET_KEY": "test-secret-key-not-for-production",
            "QR_SIGNING_KEY": "test-qr-key-not-for-production",
        }
    )
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        from complaints.extensions import db

        db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        _empty_all_tables(app)


RESTART_SEQUENCES = (
    "SELECT setval(oid, 1, false) FROM pg_class "
    "WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
)
DAY_SEQUENCES = (
    "SELECT sequence_name FROM information_schema.sequences "
    "WHERE sequence_name LIKE 'case\\_no\\_%'"
)


def _empty_all_tables(app):
    from complaints import lookups
    from complaints.extensions import db

    lookups.clear()  # Core DELETEs go beneath the ORM, which is what invalidates the cache
    db.session.rollback()
    db.session.remove()
    tables = list(reversed(db.metadata.sorted_tables))  # children before their parents
    with db.engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())
        if conn.dialect.name == "postgresql":
            # DELETE and a restart of the sequences, not TRUNCATE ... RESTART IDENTITY: a
            # TRUNCATE of 54 tables gives each table and index new files, 250 ms per test
            # against 17 ms for this (a test's rows are a few dozen).
            conn.execute(text(RESTART_SEQUENCES))
            # Case numbers' per-day sequences belong to no table: numbering starts again too.
            for (sequence,) in conn.execute(text(DAY_SEQUENCES)):
                conn.execute(text(f'DROP SEQUENCE IF EXISTS "{sequence}"'))


@pytest.fixture
def seeded(app_ctx):
    from complaints.extensions import db
    from complaints.seed import seed_all

    seed_all()
    db.session.commit()


@pytest.fixture
def client(app, app_ctx):
    app.test_client_class = IsolatedClient
    return app.test_client()


class IsolatedClient(FlaskClient):
    """Each request in its own app context, as in production: its own `g` (Flask-Login's
    user, Flask-WTF's CSRF token) and its own database session. The test's session is
    expired afterwards so it reads what the request committed."""

    def open(self, *args, **kwargs):
        from complaints.extensions import db

        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class _FormFields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(html)
    return parser.fields


def error_for(html: str, field: str) -> list[str]:
    """The error messages shown next to one form field."""
    block = re.search(rf'<div class="field[^"]*" id="field-{field}">(.*?)</div>', html, re.S)
    if not block:
        return []
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', block.group(1), re.S)
