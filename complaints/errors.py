"""Friendly error pages: a tourist on a phone never sees a stack trace or a bare 500."""

from datetime import UTC, datetime

from flask import jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from complaints.extensions import db, limiter
from complaints.presentation import local_time


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/open311/")) or request.accept_mimetypes.best == (
        "application/json"
    )


def _render(status: int, title: str, message: str):
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
        return _render(exc.code or 500, exc.name, exc.description or "")

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
