"""SMS through Twilio's Programmable Messaging API, using the official SDK."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from twilio.rest import Client

from notifications.base import (
    DeliveryReceipt,
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    check_kind,
    require_settings,
)
from notifications.registry import register
from notifications.twilio_client import (
    RewritingHttpClient,
    close_client,
    make_client,
    twilio_errors,
)
from notifications.twilio_webhooks import normalise_status

__all__ = ["RewritingHttpClient", "TwilioSMS"]

# A Messaging Service SID; anything else in TWILIO_FROM is a number or an alphanumeric sender.
_MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")


@register("twilio_sms")
class TwilioSMS:
    """Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM (number or MG… SID);
    optional TWILIO_API_BASE, TWILIO_TIMEOUT (seconds), and TWILIO_STATUS_CALLBACK_URL, a
    template such as https://anxin.example/twilio/status/{reference} used when a message has
    a reference but no status_callback_url of its own.
    """

    name = "sms"
    required_settings = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")

    def __init__(self, settings: Mapping[str, Any], client: Client | None = None) -> None:
        require_settings("twilio_sms", settings, self.required_settings)
        self._sender = str(settings["TWILIO_FROM"])
        self._callback_template = settings.get("TWILIO_STATUS_CALLBACK_URL") or None
        self._client = client or make_client(settings)

    def send(self, message: OutgoingMessage) -> DeliveryReceipt:
        check_kind(self, message)
        fields: dict[str, Any] = {"to": message.to, "body": message.body}
        if _MESSAGING_SERVICE_SID.fullmatch(self._sender):
            fields["messaging_service_sid"] = self._sender
        else:
            fields["from_"] = self._sender
        callback = self._status_callback(message)
        if callback:
            fields["status_callback"] = callback
        with twilio_errors():
            created = self._client.messages.create(**fields)
        return DeliveryReceipt(provider_message_id=created.sid, status=_our_status(created.status))

    def find_sent(self, message: OutgoingMessage, since: datetime) -> DeliveryReceipt | None:
        """The message, if Twilio already has it from an attempt whose outcome we never learnt
        (Messages have no idempotency key: the recipient's recent messages are compared by
        body and sender). Created at or after `since`, less a minute of clock difference."""
        after = since - timedelta(minutes=1)
        try:
            with twilio_errors():
                recent = self._client.messages.list(to=message.to, page_size=50, limit=50)
        except PermanentDeliveryError as exc:
            # Listing pages raises the SDK's plain TwilioException (no status) even for a 429:
            # failing to look is never a reason to give the message up.
            raise TransientDeliveryError(f"could not list sent messages: {exc.reason}") from exc
        for sent in recent:
            created = sent.date_created
            if created is not None and created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            same_sender = self._sender in (sent.from_, sent.messaging_service_sid)
            if sent.body == message.body and same_sender and (created is None or created >= after):
                return DeliveryReceipt(
                    provider_message_id=sent.sid, status=_our_status(sent.status)
                )
        return None

    def close(self) -> None:
        close_client(self._client)

    def __enter__(self) -> TwilioSMS:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _status_callback(self, message: OutgoingMessage) -> str | None:
        if message.status_callback_url:
            return message.status_callback_url
        if not self._callback_template:
            return None
        if "{reference}" not in self._callback_template:
            return self._callback_template
        if not message.reference:
            return None
        return self._callback_template.replace("{reference}", quote(message.reference, safe=""))


def _our_status(twilio_status: str | None) -> str:
    # Twilio accepted the message (2xx); an unfamiliar word must not turn that into a failure.
    try:
        return normalise_status(twilio_status or "queued")
    except ValueError:
        return "queued"
