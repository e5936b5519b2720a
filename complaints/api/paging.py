"""Opaque, signed cursors for keyset pages (GitHub style: `next_cursor` and a Link header)."""

from flask import current_app, request
from flask_babel import gettext as _
from flask_smorest import abort
from itsdangerous import BadSignature, URLSafeSerializer


def _serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"api-cursor-{kind}")


def encode(kind: str, value) -> str:
    return _serializer(kind).dumps(value)


def decode(kind: str, token: str | None):
    if not token:
        return None
    try:
        return _serializer(kind).loads(token)
    except BadSignature:
        abort(
            400,
            message=_("This cursor is damaged or belongs to another list."),
            errors={"query": {"after": [_("Not a cursor of this list.")]}},
        )


def last_id(kind: str, token: str | None) -> int | None:
    value = decode(kind, token)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        abort(400, errors={"query": {"after": [_("Not a cursor of this list.")]}})
    return value


def trim(kind: str, rows: list, limit: int, key=lambda row: row.id) -> tuple[list, str | None]:
    """Rows fetched as `limit + 1`: the page, and the cursor after its last row if more exist."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(kind, key(rows[-1]))


def page(data: list, next_cursor: str | None):
    """The body and a Link header to the next page, keeping the caller's other parameters."""
    headers = {}
    if next_cursor:
        args = request.args.to_dict()
        args["after"] = next_cursor
        from urllib.parse import urlencode

        headers["Link"] = f'<{request.base_url}?{urlencode(args)}>; rel="next"'
    return {"data": data, "next_cursor": next_cursor}, 200, headers
