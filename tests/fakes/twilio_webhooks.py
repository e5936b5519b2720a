"""Build and post webhooks exactly as Twilio would: form fields plus X-Twilio-Signature.

`target` is either a URL string (posted over HTTP, e.g. to a werkzeug server in a thread) or a
test client with a `.post(path, data=, headers=)` method (Flask's), in which case `url` is the
public URL the application will check the signature against.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from twilio.request_validator import RequestValidator

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token"
DEFAULT_FROM = "+15005550006"  # Twilio's "valid sender" magic number
DEFAULT_TOURIST_PHONE = "+8613800138000"

# What Twilio puts in ErrorCode when the test does not say.
_DEFAULT_ERROR_CODES = {"undelivered": "30003", "failed": "30008"}


@dataclass
class SignedWebhook:
    url: str
    params: dict[str, str]
    signature: str
    response: Any = field(default=None, compare=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Twilio-Signature": self.signature}

    @property
    def path(self) -> str:
        """Path and query of `url`, what a Flask test client needs."""
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def sign_webhook(url: str, params: dict[str, str], auth_token: str) -> SignedWebhook:
    signature = RequestValidator(auth_token).compute_signature(url, params)
    return SignedWebhook(url=url, params=dict(params), signature=signature)


def post_webhook(target: Any, webhook: SignedWebhook) -> SignedWebhook:
    if isinstance(target, str):
        webhook.response = requests.post(
            target, data=webhook.params, headers=webhook.headers, timeout=10
        )
    else:
        webhook.response = target.post(webhook.path, data=webhook.params, headers=webhook.headers)
    return webhook


def status_callback_params(
    message_sid: str,
    status: str,
    *,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    to: str = DEFAULT_TOURIST_PHONE,
    from_: str | None = DEFAULT_FROM,
    messaging_service_sid: str | None = None,
    error_code: str | int | None = None,
) -> dict[str, str]:
    params = {
        "SmsSid": message_sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": to,
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "ApiVersion": "2010-04-01",
    }
    if from_:
        params["From"] = from_
    if messaging_service_sid:
        params["MessagingServiceSid"] = messaging_service_sid
    if error_code is None:
        error_code = _DEFAULT_ERROR_CODES.get(status)
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    return params


def send_status_callback(
    url_or_client: Any,
    message_sid: str,
    status: str,
    auth_token: str = DEFAULT_AUTH_TOKEN,
    *,
    url: str | None = None,
    **fields: Any,
) -> SignedWebhook:
    """Post a signed delivery-status callback; returns url, params, signature and response.

    With a test client, `url` (the public callback URL) is required. Extra keyword arguments
    (account_sid, to, from_, messaging_service_sid, error_code) go into the form.
    """
    url = _resolve_url(url_or_client, url)
    params = status_callback_params(message_sid, status, **fields)
    return post_webhook(url_or_client, sign_webhook(url, params, auth_token))


def inbound_sms_params(
    from_: str,
    body: str,
    *,
    to: str = DEFAULT_FROM,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    message_sid: str | None = None,
) -> dict[str, str]:
    sid = message_sid or new_sid("SM")
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


def send_inbound_sms(
    url_or_client: Any,
    from_: str,
    body: str,
    auth_token: str = DEFAULT_AUTH_TOKEN,
    *,
    url: str | None = None,
    **fields: Any,
) -> SignedWebhook:
    """Post a signed inbound SMS (what Twilio sends when someone texts our number)."""
    url = _resolve_url(url_or_client, url)
    params = inbound_sms_params(from_, body, **fields)
    return post_webhook(url_or_client, sign_webhook(url, params, auth_token))


def _resolve_url(url_or_client: Any, url: str | None) -> str:
    if isinstance(url_or_client, str):
        return url or url_or_client
    if not url:
        raise ValueError("posting through a test client needs the public `url` that is signed")
    return url
