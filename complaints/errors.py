"""Friendly error pages: a tourist on a phone never sees a stack trace or a bare 500."""

from datetime import UTC, datetime

from flask import jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from complaints.extensions import db, limiter
from complaints.presentation import local_time

# Werkzeug's own titles and texts are English: each status a visitor can meet, in words.
HTTP_TEXTS = {
    400: (_l("Bad request"), _l("We could not read what was sent. Go back, reload and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to open this page.")),
    404: (_l("Page not found"), _l("This address does not exist. Check the link, or start again.")),
    405: (_l("Not possible here"), _l("This page cannot be used this way. Go back and try again.")),
    409: (
        _l("Changed meanwhile"),
        _l("Someone changed this at the same time. Reload and try again."),
    ),
    410: (_l("No longer here"), _l("This page was here once and has been removed.")),
    429: (
        _l("Too many requests"),
        _l("Too many requests from this connection. Wait a few minutes, then try again."),
    ),
}
OTHER_ERROR = (_l("Request failed"), _l("This request could not be completed. Please try again."))


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/open311/")) or request.accept_mimetypes.best == (
        "application/json"
    )


def _render(status: int, title: str, message: str):
    if request.path.startswith("/api/"):
        from complaints.api.problems import problem

        return problem(status, title, message)
    if _wants_json():
        return jsonify(error={"status": status, "title": title, "message": message}), status
    return render_template("error.html", status=status, title=title, message=message), status


def retry_time() -> datetime | None:
    """When the breached limit lets the client in again (UTC), if the limiter knows."""
    current = limiter.current_limit
    try:
        reset_at = current.reset_at if current else None
    except Exception:  # the limit storage went away meanwhile: no time to promise
        reset_at = None
    return datetime.fromtimestamp(reset_at, UTC) if reset_at else None


def too_many_requests(exc: RateLimitExceeded):
    retry_at = retry_time()
    message = (
        _("Please wait and try again after %(time)s.", time=local_time(retry_at))
        if retry_at
        else _("Please wait a few minutes and try again.")
    )
    response = make_response(_render(429, _("Too many requests from your network"), message))
    if retry_at:
        seconds = max(1, int((retry_at - datetime.now(UTC)).total_seconds()))
        response.headers["Retry-After"] = str(seconds)
    return response


def register_error_pages(app) -> None:
    app.register_error_handler(RateLimitExceeded, too_many_requests)

    @app.errorhandler(DataError)
    def value_the_database_refused(exc):
        # The last net under the input guard (complaints/input_guard.py): a value too long,
        # too large or malformed for its column is the sender's mistake, not a server error.
        db.session.rollback()
        return _render(
            400,
            _("A value could not be stored"),
            _(
                "One of the values sent is too long, too large or malformed. Nothing was saved: "
                "go back, check the fields and send again."
            ),
        )

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _render(
            400,
            _("This form has expired"),
            _("Please go back, reload the page and submit again. Nothing was saved."),
        )

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc):
        limit_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return _render(
            413,
            _("Upload too large"),
            _(
                "All files together may be at most %(mb)d MB. Send fewer or smaller photos.",
                mb=limit_mb,
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if isinstance(exc, InternalServerError):
            return unexpected(exc)
        if request.path.startswith("/api/"):
            from complaints.api.problems import from_http_exception

            return from_http_exception(exc)
        if request.path.startswith("/open311/"):
            from complaints.open311.formats import errors

            fmt = "xml" if request.path.endswith(".xml") else "json"
            return errors(fmt, exc.code or 500, [exc.description or exc.name])
        if exc.response is not None:  # abort(response): the view already rendered its page
            return exc.response
        title, message = HTTP_TEXTS.get(exc.code, OTHER_ERROR)
        if exc.description and exc.description != type(exc).description:
            message = exc.description  # the view's own words, already translated
        return _render(exc.code or 500, str(title), str(message))

    # Registered for 500 rather than Exception so tests still see the original traceback.
    @app.errorhandler(InternalServerError)
    def unexpected(exc):
        return _render(
            500,
            _("Something went wrong"),
            # Never "nothing was lost": after an unexpected error we cannot know that.
            _(
                "We could not finish this, and what you sent may not have been saved. "
                "Please check and try again; if it keeps failing, try again later."
            ),
        )
