"""Migrations are the schema's only source: one head, upgrade from empty, no drift from models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from complaints import create_app
from complaints.app import ROOT
from complaints.database import include_in_autogenerate
from complaints.extensions import db
from tests import services as test_services


def _fresh_app(url, tmp_path):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(tmp_path / "up")})


def _drift(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_in_autogenerate}
        )
        return compare_metadata(context, db.metadata)


def _round_trip(app):
    with app.app_context():
        upgrade()
    assert _drift(app) == []
    with app.app_context():
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()
    assert _drift(app) == []


def test_single_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config(str(ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_from_empty_sqlite_matches_models(tmp_path):
    _round_trip(_fresh_app(f"sqlite:///{tmp_path / 'fresh.sqlite3'}", tmp_path))


@pytest.mark.postgres
def test_upgrade_from_empty_postgres_matches_models(tmp_path):
    admin_url = test_services.postgres_admin_url()
    if not admin_url:
        test_services.missing("DATABASE_URL is not a PostgreSQL URL")
    name, url = test_services.create_postgres_database(admin_url)
    try:
        app = _fresh_app(url, tmp_path)
        _round_trip(app)
        with app.app_context():
            db.engine.dispose()
    finally:
        test_services.drop_postgres_database(admin_url, name)
