"""Issue 11.13: security headers, secrets out of access logs, liveness and readiness."""

import logging

from complaints.redaction import RedactingFilter, redact
from complaints.security_headers import CSP
from tests.app.helpers import file_case, outlet_named, token_for
from tests.app.test_console_support import sign_in
from tests.hardening.support import dead_redis_url, variant_app


def test_every_page_forbids_framing_and_inline_script(client, seeded):
    page = client.get(f"/s/{token_for(outlet_named('Ah Hai'))}")
    csp = page.headers["Content-Security-Policy"]
    assert csp == CSP
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "no-store" not in page.headers.get("Cache-Control", "")
    assert "<script>" not in page.text


def test_secret_urls_send_no_referrer_and_are_not_stored(client, seeded):
    from complaints.cases.services import tracking_key_for
    from complaints.database import utcnow

    case = file_case(outlet_named("Ah Hai"), now=utcnow(), key="k" * 24)
    tracking = tracking_key_for("k" * 24, "test-secret-key-not-for-production")
    page = client.get(f"/t/{tracking}")
    assert page.status_code == 200, case.number
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert client.get("/merchant/invite/anything").headers["Referrer-Policy"] == "no-referrer"


def test_private_pages_are_not_stored_and_production_sends_hsts(app, client, seeded, tmp_path):
    sign_in(client, "handler.sanya@anxin.demo")
    assert client.get("/console/").headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in client.get("/console/").headers
    with variant_app(app, tmp_path, ANXIN_ENV="production") as production:
        assert "max-age=" in production.test_client().get("/").headers["Strict-Transport-Security"]


def test_tracking_keys_stay_out_of_access_logs(caplog):
    line = '127.0.0.1 - - "GET /t/0123456789abcdef0123456789abcdef?new=1 HTTP/1.1" 200 -'
    assert "0123456789abcdef" not in redact(line)
    assert "/t/[redacted]?new=1" in redact(line)
    record = logging.LogRecord("werkzeug", logging.INFO, "", 0, '"%s" %s', (line, 200), None)
    RedactingFilter().filter(record)
    assert "0123456789abcdef" not in record.getMessage()
    assert "invite/[redacted]" in redact("GET /merchant/invite/abc.def-ghi HTTP/1.1")


def test_gunicorn_access_log_is_redacted():
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from complaints.redaction import RedactingGunicornLogger

    logger = RedactingGunicornLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/t/0123456789abcdef0123456789abcdef",
        "PATH_INFO": "/t/0123456789abcdef0123456789abcdef",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": "",
    }
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
    req = SimpleNamespace(headers=[])
    atoms = logger.atoms(resp, req, environ, timedelta(seconds=0))
    assert "0123456789abcdef" not in atoms["r"]
    assert "0123456789abcdef" not in atoms["U"]


def test_readyz_reports_redis_down_with_503(app, tmp_path):
    with variant_app(app, tmp_path, REDIS_URL=dead_redis_url()) as other:
        client = other.test_client()
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["database"] == "ok"
    assert response.json["redis"] == "ConnectionError"


def test_phone_numbers_are_masked_in_log_lines():
    message = "Twilio 21211: The 'To' number +447911123456 is not a valid phone number"
    record = logging.LogRecord(
        "complaints.notices.jobs", logging.WARNING, "", 0, "%s", (message,), None
    )
    RedactingFilter().filter(record)
    assert "+447911123456" not in record.getMessage()
    assert "+44****456" in record.getMessage()


def test_readyz_is_200_with_a_live_redis(app, tmp_path):
    from tests.services import redis_url, require_redis

    require_redis().close()
    with variant_app(app, tmp_path, REDIS_URL=redis_url()) as other:
        response = other.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["redis"] == "ok"
