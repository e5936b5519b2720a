"""Mounting the API: flask-smorest for the OpenAPI document, our own request plumbing
(keys, rate limits, idempotency, ETags) and Swagger UI served from the installed package."""

import http

import swagger_ui_bundle
from flask import Blueprint, Flask, request, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields

from complaints.api import auth, idempotency
from complaints.api.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE

PREFIX = "/api/v1"
ASSETS = "/api/v1/docs/assets/"


class FieldErrorSchema(Schema):
    field = fields.String(metadata={"description": "the input field, dotted for nested ones"})
    pointer = fields.String(metadata={"description": "JSON pointer into the request body"})
    detail = fields.String()


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema))


class AnxinApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        # The app's one error handler answers API paths with problem+json (complaints.errors).
        return None

    def _register_responses(self):
        # Every error documented as what it is: application/problem+json.
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


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
