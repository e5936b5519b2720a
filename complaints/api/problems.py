"""RFC 9457 problem details for every API error, naming the field when input was wrong."""

from flask import current_app, jsonify
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE = "https://anxin.invalid/problems/"
CONTENT_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str = "", *, errors=None, headers=None, kind=None):
    body = {
        "type": PROBLEM_TYPE + (kind or str(status)),
        "title": str(title),
        "status": status,
    }
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.content_type = CONTENT_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(messages) -> list[dict]:
    """webargs/marshmallow messages ({"json": {"field": ["msg"]}}) as a flat list naming each
    field by a JSON pointer, e.g. {"field": "reason", "pointer": "#/reason", "detail": "..."}."""
    flat: list[dict] = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, str(key)])
        elif isinstance(node, list) and all(isinstance(x, str) for x in node):
            for message in node:
                flat.append(
                    {
                        "field": ".".join(path) or "body",
                        "pointer": "#/" + "/".join(path),
                        "detail": message,
                    }
                )
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, [*path, str(index)])
        else:
            flat.append({"field": ".".join(path) or "body", "detail": str(node)})

    for location, fields in (messages or {}).items():
        walk(
            fields, [] if location in ("json", "query", "form", "files", "headers") else [location]
        )
    return flat


def from_http_exception(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    errors = field_errors(messages) if isinstance(messages, dict) else None
    detail = data.get("message") or exc.description or ""
    if exc.code == 422 and errors:
        names = ", ".join(sorted({e["field"] for e in errors}))
        detail = _("Check these fields: %(fields)s.", fields=names)
    if exc.code and exc.code >= 500:
        current_app.logger.error("API error %s: %s", exc.code, exc)
        # Never "nothing was lost" (issue 11.1): after an unexpected error we cannot know.
        detail = _(
            "We could not finish this, and what you sent may not have been saved. "
            "Please check and try again; if it keeps failing, try again later."
        )
    headers = dict(data.get("headers") or {})
    if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    return problem(exc.code or 500, exc.name, detail, errors=errors, headers=headers)
