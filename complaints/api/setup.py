"""Mounting the API: flask-smorest for the OpenAPI document, our own request plumbing
(keys, rate limits, idempotency, ETags) and Swagger UI served from the installed package."""

import swagger_ui_bundle
from flask import Blueprint, Flask, request, send_from_directory
from flask_smorest import Api

from complaints.api import auth, idempotency

PREFIX = "/api/v1"
ASSETS = "/api/v1/docs/assets/"


class AnxinApi(Api):
    def _register_error_handlers(self):
        # The app's one error handler answers API paths with problem+json (complaints.errors).
        return None


def init_api(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Anxin API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=ASSETS,
    )
    api = AnxinApi(
        app,
        spec_kwargs={
            "info": {
                "description": "Cases, merchants, compensation, credit lists and webhooks of "
                "Anxin. Send `Authorization: Bearer <key>`. See docs/api.md."
            },
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    from complaints.api import resources
    from complaints.extensions import csrf

    for blueprint in resources.blueprints():
        # Machines authenticate per request with a key, never with a session cookie.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint, url_prefix=PREFIX + blueprint.url_prefix)
    app.register_blueprint(_assets_blueprint())
    app.before_request(auth.authenticate_api_request)
    app.before_request(idempotency.claim_idempotency_key)
    app.after_request(_decorate_response)
    return api


def _assets_blueprint() -> Blueprint:
    bp = Blueprint("api_docs_assets", __name__)

    @bp.get(ASSETS + "<path:filename>")
    def asset(filename: str):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)

    return bp


def _decorate_response(response):
    if not request.path.startswith(PREFIX):
        return response
    response = idempotency.store_idempotent_response(response)
    for name, value in auth.rate_limit_headers().items():
        response.headers[name] = value
    if request.method == "GET" and response.status_code == 200 and response.is_json:
        response.headers["Vary"] = "Authorization"
        response.headers.setdefault("Cache-Control", "private, no-cache")
        response.add_etag()
        response.make_conditional(request)
    return response
