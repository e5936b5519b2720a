"""Helpers for the HTTP requests Twilio sends us: signature check, TwiML reply, status words.

The Flask views live in the application; these functions only need strings and mappings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

# Twilio's MessageStatus values folded into the four statuses we keep per message.
# "sending" is still inside Twilio, so it stays queued; "sent" means a carrier accepted it.
# receiving/received describe inbound messages: received means it reached us.
_STATUS_MAP = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "receiving": "queued",
    "sent": "sent",
    "partially_delivered": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "received": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}

OUR_STATUSES = ("queued", "sent", "delivered", "failed")


def is_valid_twilio_request(
    auth_token: str, url: str, params: Mapping[str, Any] | None, signature: str | None
) -> bool:
    """True when `signature` (the X-Twilio-Signature header) matches url + form params.

    `url` must be the public URL Twilio called, built from configuration: behind a TLS
    terminating proxy the request's own URL says http:// and would never match. Pass Flask's
    `request.form` MultiDict itself so repeated keys are signed the way Twilio signs them.
    """
    if not auth_token or not signature:
        return False
    return RequestValidator(auth_token).validate(url, params or {}, signature)


def messaging_reply(text: str | None = None) -> str:
    """TwiML answering an inbound SMS; with no text, an empty <Response/> sends no reply."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)


def normalise_status(twilio_status: str) -> str:
    """Map a Twilio MessageStatus to queued / sent / delivered / failed.

    Raises ValueError for a status Twilio may add in future, so the caller can log it and
    leave the stored status alone instead of guessing.
    """
    key = (twilio_status or "").strip().lower()
    try:
        return _STATUS_MAP[key]
    except KeyError:
        raise ValueError(f"unknown Twilio message status {twilio_status!r}") from None
