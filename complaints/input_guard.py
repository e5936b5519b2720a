"""One gate for hostile input, before any view runs: no route answers 500 to it.

PostgreSQL refuses NUL bytes in text (SQLite stores them, so tests on SQLite never saw the
500) and integers beyond its column types; every route would need its own check otherwise.
Here: NUL in a URL segment, query parameter or form field, and whole numbers beyond 64 bits in a
query parameter, answer 400 naming the field. Path ids use an `int` converter bounded to the id
columns, so a huge id is a plain 404 like any id that does not exist. Invalid UTF-8 needs
nothing: Werkzeug decodes it with replacement characters, which PostgreSQL stores.
"""

import re

from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

# Ids are 32-bit `integer` columns; a larger one cannot exist.
MAX_ID = 2**31 - 1
MAX_QUERY_INTEGER = 2**63 - 1
INTEGER_TEXT = re.compile(r"[+-]?\d+")


class BoundedIntegerConverter(IntegerConverter):
    """`<int:…>` that only matches ids the database can hold (else 404, never a 500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def is_id(text: str | None) -> bool:
    """Digits naming a row that can exist: for ids that come in form fields."""
    return bool(text) and text.isascii() and text.isdigit() and int(text) <= MAX_ID


class HostileInput(BadRequest):
    """400 naming the field; the error page says what to change."""


def register_input_guard(app: Flask) -> None:
    """Call before any blueprint is registered: converters bind when rules are added."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(refuse_hostile_input)


def refuse_hostile_input() -> None:
    if "\x00" in request.path:
        _refuse(_("the address"))
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            _refuse(_field_name(name))
        if INTEGER_TEXT.fullmatch(value.strip()) and abs(int(value)) > MAX_QUERY_INTEGER:
            raise HostileInput(
                description=_(
                    "The number given for “%(field)s” is far too large. Check the link.",
                    field=_field_name(name),
                )
            )
    if request.method in ("POST", "PUT", "PATCH") and not _body_too_large():
        _check_form()
        for name, upload in request.files.items(multi=True):
            if "\x00" in name or "\x00" in (upload.filename or ""):
                _refuse(_field_name(name))


def keeps_typed_input(view):
    """Mark a form view that shows its form again with what was typed (the complaint form):
    a NUL byte there is removed and the field flagged (`flag_removed_characters`) instead of
    a 400 that would send the tourist back to an empty form."""
    view.keeps_typed_input = True
    return view


def _check_form() -> None:
    tainted = [name for name, value in request.form.items(multi=True) if "\x00" in name + value]
    if not tainted:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "keeps_typed_input", False):
        _refuse(_field_name(tainted[0]))
    cleaned = [
        (name.replace("\x00", ""), value.replace("\x00", ""))
        for name, value in request.form.items(multi=True)
    ]
    request.form = ImmutableMultiDict(cleaned)
    g.characters_removed_from = {name.replace("\x00", "") for name in tainted}


def flag_removed_characters(form) -> bool:
    """Put an error on each field of `form` a NUL byte was removed from; True if any."""
    flagged = False
    for name in g.get("characters_removed_from", ()):
        field = form._fields.get(name)
        if field is not None:
            field.errors = [
                *field.errors,
                _(
                    "This field contained a character that cannot be stored (a NUL byte). It "
                    "was removed: check the text and send again."
                ),
            ]
            flagged = True
    return flagged


def _body_too_large() -> bool:
    # The 413 handler answers these; reading the form here would only raise it earlier.
    try:
        request.form  # noqa: B018 — parses the body once; Werkzeug caches it
    except RequestEntityTooLarge:
        return True
    return False


def _field_name(name: str) -> str:
    # The name as the form knows it (console forms prefix the action), without the NUL.
    return name.replace("\x00", "").rsplit("-", 1)[-1][:40] or "?"


def _refuse(field: str) -> None:
    raise HostileInput(
        description=_(
            "“%(field)s” contains a character that cannot be stored (a NUL byte). Nothing was "
            "saved: go back, remove it from that field and send again.",
            field=field,
        )
    )
