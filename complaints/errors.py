"""Friendly error pages: a tourist on a phone never sees a stack trace or a bare 500."""

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/open311/")) or request.accept_mimetypes.best == (
        "application/json"
    )


def _render(status: int, title: str, message: str):
    if _wants_json():
        return jsonify(error={"status": status, "title": title, "message": message}), status
    return render_template("error.html", status=status, title=title, message=message), status


def register_error_pages(app) -> None:
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
        if exc.response is not None:  # abort(response): the view already rendered its page
            return exc.response
        return _render(exc.code or 500, exc.name, exc.description or "")

    # Registered for 500 rather than Exception so tests still see the original traceback.
    @app.errorhandler(InternalServerError)
    def unexpected(exc):
        return _render(
            500,
            _("Something went wrong"),
            _("We could not finish this. Nothing you sent was lost; please try again."),
        )
