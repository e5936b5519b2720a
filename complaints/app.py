"""Application factory, assembled from small register_* steps."""

import logging
from pathlib import Path

from flask import Flask, current_app, g, request
from flask_babel import get_locale
from werkzeug.exceptions import RequestEntityTooLarge

from complaints import extensions
from complaints.config import engine_options, load_config
from complaints.database import include_in_autogenerate
from complaints.input_guard import register_input_guard
from complaints.languages import LANGUAGE_NAMES, from_accept_language, html_lang

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        "complaints",
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    register_config(app, overrides)
    register_proxies(app)
    register_input_guard(app)
    register_extensions(app)
    register_assets(app)
    register_models()
    register_subscribers()
    register_blueprints(app)
    register_login(app)
    register_cli(app)
    register_teardowns(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_security(app)
    return app


def register_config(app: Flask, overrides: dict | None) -> None:
    app.config.update(load_config(app.instance_path))
    if overrides:
        app.config.update(overrides)
    if "SQLALCHEMY_ENGINE_OPTIONS" not in (overrides or {}):
        # For the database in use: an override of the URI (tests, benches) changes the dialect.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATABASE_PARALLEL_WORKERS"]
        )
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    _check_policies(app)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def register_security(app: Flask) -> None:
    from complaints.redaction import install_log_redaction
    from complaints.security_headers import register_security_headers

    register_security_headers(app)
    install_log_redaction()


def register_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, the client is the address they forwarded:
    rate limits and sign-in throttles key on the tourist, not on the load balancer."""
    count = app.config.get("TRUSTED_PROXIES", 0)
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=0)


def _check_policies(app: Flask) -> None:
    """A bad time limit or score table stops the start, not the first case that needs it."""
    from complaints.alerts.policy import AlertPolicy
    from complaints.config import ConfigError
    from complaints.credit.policy import CreditPolicy
    from complaints.policies.services import CREDIT, register_policy_class

    register_policy_class(CREDIT, CreditPolicy)
    from complaints.privacy.services import RetentionPolicy
    from workflows.policy import PolicySet

    for name, policy_class in (
        ("WORKFLOW_POLICY", PolicySet),
        ("CREDIT_POLICY", CreditPolicy),
        ("RETENTION_POLICY", RetentionPolicy),
        ("ALERT_POLICY", AlertPolicy),
    ):
        try:
            policy_class.from_mapping(app.config.get(name) or {})
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{name}: {exc}") from exc


def register_extensions(app: Flask) -> None:
    extensions.db.init_app(app)
    from complaints.replica import register_replica

    register_replica(app)
    extensions.migrate.init_app(
        app,
        extensions.db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        include_object=include_in_autogenerate,
    )
    extensions.babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(ROOT / "complaints" / "translations"),
    )
    extensions.csrf.init_app(app)
    extensions.cache.init_app(app)
    extensions.limiter.init_app(app)
    # Kept scan pages are dropped when a commit changes what they show (see scan_cache).
    from complaints.merchants import scan_cache

    scan_cache.install()


def register_assets(app: Flask) -> None:
    """Fingerprinted static files (static_url) and compressed responses."""
    from complaints.assets import register_assets as register

    register(app)


def _chosen_language() -> str | None:
    """?lang= on links; switch_lang on forms, so switching language never loses typed input."""
    chosen = request.args.get("lang")
    if chosen or request.method != "POST":
        return chosen
    try:
        return request.form.get("switch_lang")
    except RequestEntityTooLarge:  # the 413 page is being rendered: the body stays unread
        return None


def _select_locale() -> str:
    languages = current_languages()
    chosen = _chosen_language() or request.cookies.get("lang")
    if chosen in languages:
        g.locale_chosen = True
        return chosen
    accepted = from_accept_language(request.accept_languages, languages)
    g.locale_chosen = accepted is not None
    return accepted or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_languages() -> tuple[str, ...]:
    return current_app.config["LANGUAGES"]


def register_models() -> None:
    # Importing the model modules puts every table on the metadata (migrations, create_all).
    from complaints import models  # noqa: F401


def register_subscribers() -> None:
    # Features react to case and claim events by subscription (complaints/subscriptions.py).
    from complaints.subscriptions import register_subscribers as subscribe_features

    subscribe_features()


def register_blueprints(app: Flask) -> None:
    from complaints.alerts.views import bp as alerts_bp
    from complaints.analytics.views import bp as analytics_bp
    from complaints.cases.views import bp as cases_bp
    from complaints.compensation.views import bp as compensation_bp
    from complaints.health import bp as health_bp
    from complaints.merchants.views import bp as merchants_bp
    from complaints.portal.views import bp as portal_bp
    from complaints.privacy.views import bp as privacy_bp
    from complaints.supervision.views import bp as supervision_bp
    from complaints.verification.views import bp as verification_bp
    from complaints.webhooks.views import bp as webhooks_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(merchants_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(verification_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(compensation_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(analytics_bp)
    app.register_blueprint(alerts_bp)
    app.register_blueprint(supervision_bp)
    register_integration(app)


def register_integration(app: Flask) -> None:
    """The machine-facing surface: /api/v1 (with its OpenAPI document) and Open311."""
    from complaints.api.setup import init_api

    init_api(app)
    from complaints.open311.views import bp as open311_bp

    app.register_blueprint(open311_bp)
    from complaints.integration_pages.views import console_bp, merchant_bp

    app.register_blueprint(console_bp)
    app.register_blueprint(merchant_bp)


def register_login(app: Flask) -> None:
    """Staff sign-in (Flask-Login) and the pages behind it: the regulator console."""
    from flask_babel import lazy_gettext

    from complaints.accounts.views import bp as accounts_bp
    from complaints.accounts.views import load_account
    from complaints.console.views import bp as console_bp

    manager = extensions.login_manager
    manager.init_app(app)
    manager.login_view = "accounts.login"
    manager.login_message = lazy_gettext("Please sign in to continue.")
    # "strong": a session cookie replayed from another browser or address is dropped.
    manager.session_protection = "strong"
    manager.user_loader(load_account)
    app.register_blueprint(accounts_bp)
    from complaints.accounts.totp_views import bp as totp_bp

    app.register_blueprint(totp_bp)
    from complaints.console import credit_views  # noqa: F401

    app.register_blueprint(console_bp)
    from complaints.admin.views import bp as admin_bp

    app.register_blueprint(admin_bp)
    from complaints.admin.staff_views import public_bp as staff_invites_bp

    app.register_blueprint(staff_invites_bp)


def register_teardowns(app: Flask) -> None:
    # Delivery channels (a Twilio client and its connection) live for one app context: a
    # worker's batch reuses them, and they are closed when it ends.
    from complaints.notices.jobs import close_channels

    app.teardown_appcontext(close_channels)


def register_cli(app: Flask) -> None:
    from complaints.cli import register_commands

    register_commands(app)


def register_errorhandlers(app: Flask) -> None:
    from complaints.errors import register_error_pages

    register_error_pages(app)


def register_template_helpers(app: Flask) -> None:
    from complaints.presentation import TEMPLATE_FILTERS, TEMPLATE_GLOBALS

    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["language_names"] = {
        code: LANGUAGE_NAMES[code] for code in app.config["LANGUAGES"]
    }
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.filters.update(TEMPLATE_FILTERS)

    @app.after_request
    def remember_language(response):
        chosen = _chosen_language()
        if chosen in app.config["LANGUAGES"]:
            response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax")
        return response
