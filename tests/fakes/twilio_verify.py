"""The fake's model of Twilio Verify: one pending code per phone number.

Follows Twilio's documented behaviour: a new verification to the same number replaces the code;
a correct check approves and deletes the verification, so a later check answers 404 (20404);
five wrong checks, or five sends within the window, answer 429 (60202 / 60203).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.twilio_errors import TwilioError, not_found
from tests.fakes.twilio_webhooks import new_sid

MAX_CHECKS = 5
MAX_SENDS = 5
CHANNELS = ("sms", "call", "whatsapp", "email")


@dataclass
class Verification:
    sid: str
    to: str
    channel: str
    locale: str | None
    code: str
    created: datetime
    checks: int = 0
    status: str = "pending"


@dataclass
class VerifyState:
    account_sid: str
    service_sid: str
    pending: dict[str, Verification] = field(default_factory=dict)
    started: list[Verification] = field(default_factory=list)  # every send, for assertions
    sends: dict[str, int] = field(default_factory=dict)

    def code_for(self, phone: str) -> str | None:
        verification = self.pending.get(phone)
        return verification.code if verification else None

    def start(self, form: dict[str, str]) -> dict[str, Any]:
        to, channel = form.get("To", ""), form.get("Channel", "")
        if not to:
            raise TwilioError(400, 60200, "Invalid parameter: To")
        if channel not in CHANNELS:
            raise TwilioError(400, 60200, "Invalid parameter: Channel")
        if self.sends.get(to, 0) >= MAX_SENDS:
            raise TwilioError(429, 60203, "Max send attempts reached")
        self.sends[to] = self.sends.get(to, 0) + 1
        previous = self.pending.get(to)
        verification = Verification(
            sid=previous.sid if previous else new_sid("VE"),
            to=to,
            channel=channel,
            locale=form.get("Locale") or None,
            code=f"{secrets.randbelow(10**6):06d}",
            created=datetime.now(UTC),
        )
        self.pending[to] = verification
        self.started.append(verification)
        return self._as_json(verification)

    def check(self, form: dict[str, str], path: str) -> dict[str, Any]:
        verification = self._find(form)
        if verification is None:
            raise not_found(path)
        if verification.checks >= MAX_CHECKS:
            raise TwilioError(429, 60202, "Max check attempts reached")
        verification.checks += 1
        if form.get("Code") == verification.code:
            verification.status = "approved"
            del self.pending[verification.to]
        return self._as_json(verification)

    def _find(self, form: dict[str, str]) -> Verification | None:
        if form.get("VerificationSid"):
            return next(
                (v for v in self.pending.values() if v.sid == form["VerificationSid"]), None
            )
        return self.pending.get(form.get("To", ""))

    def _as_json(self, verification: Verification) -> dict[str, Any]:
        stamp = verification.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "sid": verification.sid,
            "service_sid": self.service_sid,
            "account_sid": self.account_sid,
            "to": verification.to,
            "channel": verification.channel,
            "status": verification.status,
            "valid": verification.status == "approved",
            "lookup": {},
            "amount": None,
            "payee": None,
            "send_code_attempts": [
                {"time": stamp, "channel": verification.channel, "attempt_sid": new_sid("VL")}
            ],
            "date_created": stamp,
            "date_updated": stamp,
            "url": (
                f"https://verify.twilio.com/v2/Services/{self.service_sid}"
                f"/Verifications/{verification.sid}"
            ),
        }
