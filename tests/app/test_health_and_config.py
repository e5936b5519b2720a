import pytest

from complaints.config import ConfigError, load_config


def test_healthz_and_readyz_answer_when_the_database_does(client):
    assert client.get("/healthz").json == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not configured"}


def test_readyz_is_503_when_the_database_is_gone(tmp_path):
    from complaints import create_app

    # A directory where the SQLite file should be: connecting fails, as a dead server would.
    broken = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3",
            "UPLOAD_DIR": str(tmp_path / "uploads"),
        }
    )
    assert broken.test_client().get("/healthz").status_code == 200  # alive, not ready
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"


@pytest.mark.parametrize(
    ("missing", "environ"),
    [
        ("SECRET_KEY", {"ANXIN_ENV": "production"}),
        ("QR_SIGNING_KEY", {"ANXIN_ENV": "production", "SECRET_KEY": "s" * 40}),
        (
            "DATABASE_URL",
            {"ANXIN_ENV": "production", "SECRET_KEY": "s" * 40, "QR_SIGNING_KEY": "q" * 40},
        ),
        (
            "PUBLIC_BASE_URL",
            {
                "ANXIN_ENV": "production",
                "SECRET_KEY": "s" * 40,
                "QR_SIGNING_KEY": "q" * 40,
                "DATABASE_URL": "postgresql://db/anxin",
            },
        ),
    ],
)
def test_production_refuses_to_start_without_required_settings(tmp_path, missing, environ):
    with pytest.raises(ConfigError, match=missing):
        load_config(str(tmp_path), environ)


def test_production_config_is_accepted_when_complete(tmp_path):
    config = load_config(
        str(tmp_path),
        {
            "ANXIN_ENV": "production",
            "SECRET_KEY": "s" * 40,
            "QR_SIGNING_KEY": "q" * 40,
            "DATABASE_URL": "postgresql://db/anxin",
            "PUBLIC_BASE_URL": "https://anxin.example/",
        },
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/anxin"
    assert config["PUBLIC_BASE_URL"] == "https://anxin.example"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_development_gets_a_stable_random_secret_not_a_default(tmp_path):
    first = load_config(str(tmp_path), {})["SECRET_KEY"]
    second = load_config(str(tmp_path), {})["SECRET_KEY"]
    other = load_config(str(tmp_path / "other"), {})["SECRET_KEY"]
    assert first == second
    assert first != other
    assert len(first) >= 40


def test_bad_numbers_in_config_name_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="MAX_UPLOAD_BYTES"):
        load_config(str(tmp_path), {"MAX_UPLOAD_BYTES": "lots"})


def test_policies_come_from_json_and_bad_ones_stop_the_start(tmp_path):
    from complaints import create_app

    config = load_config(
        str(tmp_path), {"WORKFLOW_POLICY": '{"acceptance_decision": "5 working days"}'}
    )
    assert config["WORKFLOW_POLICY"] == {"acceptance_decision": "5 working days"}
    with pytest.raises(ConfigError, match="WORKFLOW_POLICY must be a JSON object"):
        load_config(str(tmp_path), {"WORKFLOW_POLICY": "7 days"})
    with pytest.raises(ConfigError, match="merchant_response"):
        create_app(
            {
                "WORKFLOW_POLICY": {"merchant_response": "30 working days"},
                "UPLOAD_DIR": str(tmp_path / "up"),
            }
        )


@pytest.mark.postgres
def test_postgres_plans_the_apps_reads_without_parallel_workers(app):
    """Parallel workers took ~7 ms to start for the console queue's 26-row pages, 3 to 10 times
    the statement run alone (bench/RESULTS.md): off unless DATABASE_PARALLEL_WORKERS says so."""
    from sqlalchemy import text

    from complaints.extensions import db
    from tests import services as test_services

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            test_services.missing("PostgreSQL's planner settings need PostgreSQL (DATABASE_URL)")
        assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
        db.session.rollback()


def test_parallel_workers_can_be_allowed_and_nonsense_is_refused(tmp_path):
    postgres = {"DATABASE_URL": "postgresql://anxin@db.internal/anxin"}
    config = load_config(str(tmp_path), {**postgres, "DATABASE_PARALLEL_WORKERS": "2"})
    options = config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]
    assert options == "-c max_parallel_workers_per_gather=2"
    for nonsense in ("-1", "two"):
        with pytest.raises(ConfigError, match="DATABASE_PARALLEL_WORKERS"):
            load_config(str(tmp_path), {**postgres, "DATABASE_PARALLEL_WORKERS": nonsense})
