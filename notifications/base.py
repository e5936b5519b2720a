"""The one interface every delivery channel speaks, and the errors it may raise.

A channel delivers a message that is already rendered: choosing the words, the language and the
recipient belongs to the application. The error classes carry the single decision the caller
(an RQ job) needs: try again later, or give up and record the failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

CHANNEL_KINDS = ("sms", "email")


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str  # "sms" or "email"
    to: str  # E.164 phone number or email address
    body: str
    subject: str | None = None
    reference: str | None = None  # our message id, so replies and callbacks find their row
    status_callback_url: str | None = None

    def __post_init__(self) -> None:
        if self.channel not in CHANNEL_KINDS:
            raise ValueError(f"unknown channel {self.channel!r}; expected one of {CHANNEL_KINDS}")
        if not self.to:
            raise ValueError("an outgoing message needs a recipient")


@dataclass(frozen=True)
class DeliveryReceipt:
    provider_message_id: str | None
    status: str  # one of queued / sent / delivered / failed


class DeliveryError(Exception):
    """Delivery did not happen. `retryable` tells the job whether to try again."""

    retryable = False

    def __init__(
        self, reason: str, code: str | int | None = None, *, outcome_unknown: bool = False
    ) -> None:
        self.reason = reason
        self.code = None if code is None else str(code)
        # No answer came back (a timeout, a dropped connection): the provider may have taken
        # the message, so a retry must check before sending again.
        self.outcome_unknown = outcome_unknown
        super().__init__(reason, self.code)

    def __str__(self) -> str:
        return self.reason if self.code is None else f"{self.reason} (code {self.code})"


class TransientDeliveryError(DeliveryError):
    """The provider or the network failed for now (429, 5xx, timeout, SMTP 4xx): retry later."""

    retryable = True


class PermanentDeliveryError(DeliveryError):
    """The provider refused this message for good (bad number, STOP, SMTP 5xx): do not retry."""

    retryable = False


@runtime_checkable
class Channel(Protocol):
    name: str  # the kind of message it delivers: "sms" or "email"

    def send(self, message: OutgoingMessage) -> DeliveryReceipt: ...


def require_settings(backend: str, settings: Mapping[str, Any], keys: Iterable[str]) -> None:
    """Fail at start-up with every missing key named, rather than at the first send."""
    missing = [key for key in keys if not settings.get(key)]
    if missing:
        raise ValueError(f"notification backend {backend!r} needs setting(s): {', '.join(missing)}")


def flag(settings: Mapping[str, Any], key: str, default: bool = False) -> bool:
    """Read a yes/no setting that may come from an environment variable or from Python config."""
    value = settings.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"setting {key} must be 1 or 0, not {value!r}")


def number(settings: Mapping[str, Any], key: str, default: float) -> float:
    value = settings.get(key)
    if value is None or value == "":
        return default
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"setting {key} must be a number, not {value!r}") from None
    if result <= 0:
        raise ValueError(f"setting {key} must be positive, not {value!r}")
    return result


def check_kind(channel: Channel, message: OutgoingMessage) -> None:
    # A mismatch is a wiring bug in the caller, so it must not look like a delivery failure.
    if message.channel != channel.name:
        raise ValueError(
            f"{type(channel).__name__} delivers {channel.name}, not {message.channel} messages"
        )
