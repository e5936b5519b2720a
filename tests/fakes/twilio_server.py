"""A local fake of the Twilio REST API (Messages and Verify) for the real SDK to talk to.

Point the application at it with `fake.settings()` (TWILIO_API_BASE is the fake's URL; the
SDK's requests are rewritten onto it and carry the original Twilio host in X-Forwarded-Host).

Behaviour copied from Twilio: basic auth as account SID and auth token, form-encoded
requests, 201 with a Twilio-shaped JSON body, error bodies {"code", "message", "more_info",
"status"}, and the magic test numbers (+15005550001 invalid, +15005550004 unsubscribed, ...).
Script failures with `fail_next(...)` or `drop_next()`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.fakes.twilio_errors import MAGIC_NUMBERS, TwilioError, not_found
from tests.fakes.twilio_verify import VerifyState
from tests.fakes.twilio_webhooks import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    SignedWebhook,
    new_sid,
    post_webhook,
    send_inbound_sms,
    send_status_callback,
    sign_webhook,
    status_callback_params,
)

__all__ = [
    "FakeMessage",
    "FakeTwilio",
    "RecordedRequest",
    "SignedWebhook",
    "fake_twilio",
    "send_inbound_sms",
    "send_status_callback",
    "sign_webhook",
]

DEFAULT_VERIFY_SERVICE_SID = "VA" + "0" * 31 + "1"
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_MESSAGES = re.compile(
    r"/2010-04-01/Accounts/(?P<account>AC\w+)/Messages(?:/(?P<sid>SM\w+))?\.json"
)
_VERIFY = re.compile(
    r"/v2/Services/(?P<service>VA\w+)/(?P<resource>Verifications|VerificationCheck)"
)


@dataclass
class RecordedRequest:
    method: str
    path: str
    host: str  # the Twilio host the SDK meant (X-Forwarded-Host), else the Host header
    form: dict[str, str]
    auth: tuple[str, str] | None
    headers: dict[str, str] = field(repr=False)


@dataclass
class FakeMessage:
    sid: str
    account_sid: str
    to: str
    body: str
    from_: str | None
    messaging_service_sid: str | None
    status_callback: str | None
    status: str
    created: datetime

    def as_json(self) -> dict[str, Any]:
        stamp = format_datetime(self.created)
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": self.body,
            "date_created": stamp,
            "date_sent": None,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": self.to,
            "uri": f"{base}.json",
        }


class FakeTwilio:
    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        verify_service_sid: str = DEFAULT_VERIFY_SERVICE_SID,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.verify_service_sid = verify_service_sid
        self.requests: list[RecordedRequest] = []
        self.messages: list[FakeMessage] = []
        self.verify = VerifyState(account_sid, verify_service_sid)
        self._failures: list[TwilioError | None] = []  # None = drop the connection
        self._lose_replies = 0
        self.delay_seconds = 0.0  # each message takes this long, as a real API call does
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "fake Twilio is not running"
        return self._server.server_address[1]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, **overrides: str) -> dict[str, str]:
        """Settings for TwilioSMS / TwilioVerify (or app config) pointing at this fake."""
        settings = {
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM": DEFAULT_FROM,
            "TWILIO_VERIFY_SERVICE_SID": self.verify_service_sid,
            "TWILIO_API_BASE": self.api_base,
            "TWILIO_TIMEOUT": "5",
        }
        settings.update(overrides)
        return settings

    # -- scripting -------------------------------------------------------------------------

    def fail_next(
        self, status: int = 500, code: int | None = None, message: str = "", times: int = 1
    ) -> None:
        """Answer the next `times` requests with this error, e.g. (400, 21211) or (429, 20429)."""
        error = TwilioError(status, code, message or f"Scripted failure {code or status}")
        with self._lock:
            self._failures.extend([error] * times)

    def drop_next(self, times: int = 1) -> None:
        """Close the next `times` connections without answering (a network failure)."""
        with self._lock:
            self._failures.extend([None] * times)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.messages.clear()
            self._failures.clear()
            self._lose_replies = 0
            self.verify = VerifyState(self.account_sid, self.verify_service_sid)

    # -- inspection ------------------------------------------------------------------------

    def message(self, sid: str) -> FakeMessage:
        for message in self.messages:
            if message.sid == sid:
                return message
        raise KeyError(sid)

    def verification_code(self, phone: str) -> str | None:
        """The code the fake "sent" to `phone`, as the person would read it from the SMS."""
        return self.verify.code_for(phone)

    def send_status_callback(
        self,
        message_sid: str,
        status: str,
        client: Any = None,
        *,
        url: str | None = None,
        error_code: str | int | None = None,
    ) -> SignedWebhook:
        """Report `status` for a message the fake accepted, to its StatusCallback URL.

        With `client` (a Flask test client) the form is posted through it; otherwise it is
        posted over HTTP to the callback URL (or `url`). The fake's copy takes the new status.
        """
        message = self.message(message_sid)
        url = url or message.status_callback
        if not url:
            raise ValueError(f"message {message_sid} was sent without a StatusCallback")
        message.status = status
        params = status_callback_params(
            message_sid,
            status,
            account_sid=self.account_sid,
            to=message.to,
            from_=message.from_,
            messaging_service_sid=message.messaging_service_sid,
            error_code=error_code,
        )
        webhook = sign_webhook(url, params, self.auth_token)
        return post_webhook(client if client is not None else url, webhook)

    # -- request handling (called from server threads) -------------------------------------

    def _handle(self, request: RecordedRequest) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            self.requests.append(request)
            scripted = bool(self._failures)
            failure = self._failures.pop(0) if scripted else None
        if scripted:
            if failure is None:
                return None
            raise failure
        if request.auth != (self.account_sid, self.auth_token):
            raise TwilioError(401, 20003, "Authenticate")
        if match := _MESSAGES.fullmatch(request.path):
            self._expect_host(request, "api.")
            if match["account"] != self.account_sid:
                raise TwilioError(401, 20003, "Authenticate")
            if request.method == "POST" and not match["sid"]:
                if self.delay_seconds:
                    time.sleep(self.delay_seconds)
                created = self._create_message(request.form)
                with self._lock:
                    lost = self._lose_replies > 0
                    self._lose_replies -= lost
                return None if lost else (201, created.as_json())
            if request.method == "GET" and match["sid"]:
                return 200, self._fetch_message(match["sid"]).as_json()
            if request.method == "GET":
                return 200, self._list_messages(request)
        elif match := _VERIFY.fullmatch(request.path):
            self._expect_host(request, "verify.")
            if match["service"] != self.verify_service_sid or request.method != "POST":
                raise not_found(request.path)
            with self._lock:
                if match["resource"] == "Verifications":
                    return 201, self.verify.start(request.form)
                return 200, self.verify.check(request.form, request.path)
        raise not_found(request.path)

    @staticmethod
    def _expect_host(request: RecordedRequest, prefix: str) -> None:
        # Catches a client that sends Verify calls to the messaging host or the reverse.
        if not request.host.startswith(prefix) and not request.host.startswith("127.0.0.1"):
            raise not_found(request.path)

    def _create_message(self, form: dict[str, str]) -> FakeMessage:
        to, body = form.get("To", ""), form.get("Body", "")
        sender, service = form.get("From") or None, form.get("MessagingServiceSid") or None
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if to in MAGIC_NUMBERS:
            code, text = MAGIC_NUMBERS[to]
            raise TwilioError(400, code, text)
        if not _E164.fullmatch(to):
            raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not service:
            raise TwilioError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
        if not body:
            raise TwilioError(400, 21602, "Message body is required.")
        message = FakeMessage(
            sid=new_sid("SM"),
            account_sid=self.account_sid,
            to=to,
            body=body,
            from_=sender,
            messaging_service_sid=service,
            status_callback=form.get("StatusCallback") or None,
            # Through a Messaging Service Twilio first "accepts", then picks a sender.
            status="queued" if sender else "accepted",
            created=datetime.now(UTC),
        )
        with self._lock:
            self.messages.append(message)
        return message

    def lose_next_replies(self, times: int = 1) -> None:
        """Accept the next message(s) but drop the connection before answering, as when the
        sender dies (or the network fails) after Twilio took the message."""
        with self._lock:
            self._lose_replies += times

    def _list_messages(self, request: RecordedRequest) -> dict[str, Any]:
        """GET Messages.json: newest first, filtered by To and From, one page of PageSize."""
        to, sender = request.form.get("To"), request.form.get("From")
        size = int(request.form.get("PageSize") or 50)
        with self._lock:
            found = [
                m
                for m in reversed(self.messages)
                if (to is None or m.to == to) and (sender is None or m.from_ == sender)
            ][:size]
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        return {
            "messages": [message.as_json() for message in found],
            "end": max(len(found) - 1, 0),
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": uri,
        }

    def _fetch_message(self, sid: str) -> FakeMessage:
        try:
            return self.message(sid)
        except KeyError:
            raise not_found(
                f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"
            ) from None


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client must not keep pytest from exiting


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTwilio
    # HTTP/1.0: one request per connection, so no pooled client socket outlives a test.
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; requests are recorded on the fake instead

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        path, _, query = self.path.partition("?")
        form = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        form.update({k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()})
        request = RecordedRequest(
            method=self.command,
            path=path,
            host=self.headers.get("X-Forwarded-Host") or self.headers.get("Host", ""),
            form=form,
            auth=_basic_auth(self.headers.get("Authorization")),
            headers=dict(self.headers.items()),
        )
        try:
            answer = self.fake._handle(request)
        except TwilioError as error:
            answer = error.status, error.body()
        if answer is None:
            self.close_connection = True
            return
        status, payload = answer
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except ValueError:
        return None
    return user, password


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running FakeTwilio; `fake_twilio.settings()` gives the TWILIO_* settings for it."""
    with FakeTwilio() as fake:
        yield fake
