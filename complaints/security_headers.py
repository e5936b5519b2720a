"""Response headers every page gets, and the stricter ones of private and secret-URL pages.

- A Content-Security-Policy without inline script (templates carry none; scripts, if any,
  are static files) and `frame-ancestors 'none'`, so no site can frame a form to click-jack.
- `Referrer-Policy: no-referrer` where the URL itself is the secret (a tourist's tracking
  link, an invitation or unlock link): a link followed from there must not carry it away.
- `Cache-Control: no-store` on private pages (signed-in staff, secret-URL pages), and HSTS in
  production, where PUBLIC_BASE_URL is https (complaints.config refuses anything else).
"""

from flask import Flask, request
from flask_login import current_user

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # Grade badges colour themselves with a style attribute; no script can run from it.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=63072000; includeSubDomains"
# Endpoints whose URL carries a secret beyond these view arguments.
SECRET_URL_ENDPOINTS = frozenset({"portal.public.accept_invite", "accounts.unlock"})
SECRET_VIEW_ARGS = frozenset({"tracking_key"})


def is_secret_url() -> bool:
    if request.endpoint in SECRET_URL_ENDPOINTS:
        return True
    return bool(SECRET_VIEW_ARGS & set(request.view_args or {}))


def _is_private() -> bool:
    return is_secret_url() or bool(current_user and current_user.is_authenticated)


def register_security_headers(app: Flask) -> None:
    production = app.config["ANXIN_ENV"] == "production"

    @app.after_request
    def add_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        secret = is_secret_url()
        headers["Referrer-Policy"] = "no-referrer" if secret else "strict-origin-when-cross-origin"
        if _is_private():
            headers["Cache-Control"] = "no-store"
        if production:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
