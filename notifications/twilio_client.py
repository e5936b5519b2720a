"""What TwilioSMS and TwilioVerify share: building the SDK client and reading its errors.

TWILIO_API_BASE points every SDK request at another server (the fake in tests, or a
self-hosted egress proxy). The SDK talks to several hosts (api.twilio.com for messages,
verify.twilio.com for Verify, plus edge/region variants), so rather than overriding one
domain's base_url we rewrite scheme and host of each request, keep the path, and pass the host
the SDK meant in X-Forwarded-Host so the receiving side can tell the products apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from notifications.base import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
    number,
)

ORIGINAL_HOST_HEADER = "X-Forwarded-Host"
DEFAULT_TIMEOUT_SECONDS = 15.0

# Verify's "too many attempts" arrive as HTTP 429, but the limit is per verification and lasts
# minutes: a background retry cannot help the person waiting for the code.
_NEVER_RETRY_CODES = frozenset({60202, 60203})

_CODE_HINTS = {
    20003: "Twilio rejected the credentials (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)",
    21211: "the number is not a valid phone number",
    21408: "the account may not send SMS to this region",
    21606: "TWILIO_FROM is not an SMS-capable number of this account",
    21610: "the recipient has unsubscribed (replied STOP)",
    21612: "Twilio cannot route a message to this number",
    21614: "the number is not a mobile number",
    60202: "too many wrong codes for this verification",
    60203: "too many codes sent to this number; wait before asking again",
}


class RewritingHttpClient(TwilioHttpClient):
    """A TwilioHttpClient that sends every request to `api_base` instead of *.twilio.com."""

    def __init__(self, api_base: str, **kwargs: Any) -> None:
        parts = urlsplit(api_base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"TWILIO_API_BASE must be an http(s) URL, not {api_base!r}")
        super().__init__(**kwargs)
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self._prefix = parts.path.rstrip("/")

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        original = urlsplit(url)
        target = urlunsplit(
            (self._scheme, self._netloc, self._prefix + original.path, original.query, "")
        )
        headers = {**(headers or {}), ORIGINAL_HOST_HEADER: original.netloc}
        return super().request(
            method,
            target,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def make_client(settings: Mapping[str, Any]) -> Client:
    # The SDK's default is no timeout at all: one hung connection would pin an RQ worker forever.
    timeout = number(settings, "TWILIO_TIMEOUT", DEFAULT_TIMEOUT_SECONDS)
    api_base = settings.get("TWILIO_API_BASE")
    http_client = (
        RewritingHttpClient(api_base, timeout=timeout)
        if api_base
        else TwilioHttpClient(timeout=timeout)
    )
    return Client(
        settings["TWILIO_ACCOUNT_SID"], settings["TWILIO_AUTH_TOKEN"], http_client=http_client
    )


def close_client(client: Client) -> None:
    session = getattr(client.http_client, "session", None)
    if session is not None:
        session.close()


def classify_twilio_error(exc: TwilioException) -> DeliveryError:
    status = getattr(exc, "status", None)
    raw_code = getattr(exc, "code", None)
    # For a non-JSON error body the SDK copies the HTTP status into `code`; that is no Twilio code.
    code = raw_code if raw_code not in (None, status) else None
    detail = (
        getattr(exc, "msg", None)
        or getattr(exc, "detail", None)
        or getattr(exc, "title", None)
        or exc.__class__.__name__
    )
    hint = _CODE_HINTS.get(code) if isinstance(code, int) else None
    reason = f"Twilio answered HTTP {status}: {hint + ' — ' if hint else ''}{detail}"
    if code in _NEVER_RETRY_CODES:
        return PermanentDeliveryError(reason, code)
    if not isinstance(status, int) or status == 429 or status >= 500:
        return TransientDeliveryError(reason, code)
    return PermanentDeliveryError(reason, code)


@contextmanager
def twilio_errors() -> Iterator[None]:
    """Turn SDK and network exceptions into the retry-or-not decision callers act on."""
    try:
        yield
    except TwilioRestException as exc:
        raise classify_twilio_error(exc) from exc
    except TwilioException as exc:
        # TwilioServiceException (RFC 9457 bodies) shares no base with TwilioRestException.
        if hasattr(exc, "status"):
            raise classify_twilio_error(exc) from exc
        raise PermanentDeliveryError(f"Twilio SDK error: {exc}") from exc
    except requests.RequestException as exc:
        raise TransientDeliveryError(
            f"could not reach Twilio: {exc.__class__.__name__}: {exc}", outcome_unknown=True
        ) from exc
    except json.JSONDecodeError as exc:
        # A proxy's HTML error page under a 2xx status: nothing says the request took effect.
        raise TransientDeliveryError(
            f"unreadable reply from Twilio: {exc}", outcome_unknown=True
        ) from exc
