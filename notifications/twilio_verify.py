"""Phone-number verification codes through Twilio Verify.

Twilio generates, sends, localises and expires the code, so nothing secret is stored on our
side. Verify is interactive (someone is waiting for the code), so callers usually show the
error instead of queueing a retry; the errors are still classified the same way as for SMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twilio.base import values
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from notifications.base import PermanentDeliveryError, require_settings
from notifications.twilio_client import close_client, make_client, twilio_errors


class TwilioVerify:
    """Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_VERIFY_SERVICE_SID;
    optional TWILIO_API_BASE and TWILIO_TIMEOUT as for TwilioSMS."""

    required_settings = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_VERIFY_SERVICE_SID")

    def __init__(self, settings: Mapping[str, Any], client: Client | None = None) -> None:
        require_settings("twilio_verify", settings, self.required_settings)
        self._client = client or make_client(settings)
        self._service = self._client.verify.v2.services(settings["TWILIO_VERIFY_SERVICE_SID"])

    def start(self, phone: str, locale: str | None = None, channel: str = "sms") -> str:
        """Ask Twilio to send a code to `phone`; returns the verification SID (VE…).

        `locale` is one of Verify's language codes (en, zh, zh-HK, ja, ko, ru, ...); without it
        Twilio picks the language from the number's country.
        """
        with twilio_errors():
            verification = self._service.verifications.create(
                to=phone, channel=channel, locale=locale or values.unset
            )
        return verification.sid

    def check(self, phone: str, code: str) -> bool:
        """True when `code` is the one most recently sent to `phone` and still valid."""
        try:
            with twilio_errors():
                result = self._service.verification_checks.create(to=phone, code=code)
        except PermanentDeliveryError as exc:
            # Twilio deletes a verification once it is approved, expired or exhausted and then
            # answers 404 (20404): for the person typing a code that simply means "not valid".
            cause = exc.__cause__
            if isinstance(cause, TwilioRestException) and cause.status == 404:
                return False
            raise
        return result.status == "approved"

    def close(self) -> None:
        close_client(self._client)

    def __enter__(self) -> TwilioVerify:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
