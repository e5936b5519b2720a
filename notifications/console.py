"""Development backends: print the message instead of delivering it.

They keep nothing in memory, so a long-running demo server does not grow; tests that need to
inspect what was sent use the fake Twilio and SMTP servers, or a stream of their own.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from notifications.base import DeliveryReceipt, OutgoingMessage, check_kind
from notifications.registry import register


class _ConsoleChannel:
    name = "sms"

    def __init__(self, settings: Mapping[str, Any] | None = None, stream: TextIO | None = None):
        self._stream = stream

    def send(self, message: OutgoingMessage) -> DeliveryReceipt:
        check_kind(self, message)
        # Resolved at send time so that pytest's capsys and redirected stdout both see it.
        stream = self._stream or sys.stdout
        header = f"[{self.name}] to {message.to}"
        if message.reference:
            header += f" ref={message.reference}"
        lines = [header]
        if message.subject:
            lines.append(f"Subject: {message.subject}")
        lines.extend([message.body, "-" * 40])
        stream.write("\n".join(lines) + "\n")
        stream.flush()
        return DeliveryReceipt(provider_message_id=None, status="sent")

    def close(self) -> None:
        pass


@register("console_sms")
class ConsoleSMS(_ConsoleChannel):
    name = "sms"


@register("console_email")
class ConsoleEmail(_ConsoleChannel):
    name = "email"
