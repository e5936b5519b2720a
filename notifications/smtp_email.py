"""Email through any SMTP relay, with the standard library only."""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from notifications.base import (
    DeliveryError,
    DeliveryReceipt,
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    check_kind,
    flag,
    number,
    require_settings,
)
from notifications.registry import register

DEFAULT_TIMEOUT_SECONDS = 15.0
_UNSAFE_IN_MESSAGE_ID = re.compile(r"[^A-Za-z0-9._-]")


@register("smtp_email")
class SMTPEmail:
    """Settings: SMTP_HOST, SMTP_FROM (address or "Name <address>"); optional SMTP_PORT
    (default 587 with STARTTLS, else 25), SMTP_STARTTLS ("1"/"0"), SMTP_USERNAME and
    SMTP_PASSWORD, SMTP_TIMEOUT (seconds), SMTP_LOCAL_HOSTNAME (name sent in EHLO).
    """

    name = "email"
    required_settings = ("SMTP_HOST", "SMTP_FROM")

    def __init__(self, settings: Mapping[str, Any]) -> None:
        require_settings("smtp_email", settings, self.required_settings)
        self._host = str(settings["SMTP_HOST"])
        self._starttls = flag(settings, "SMTP_STARTTLS")
        port = settings.get("SMTP_PORT") or (587 if self._starttls else 25)
        try:
            self._port = int(port)
        except (TypeError, ValueError):
            raise ValueError(f"setting SMTP_PORT must be a port number, not {port!r}") from None
        self._username = settings.get("SMTP_USERNAME") or None
        self._password = settings.get("SMTP_PASSWORD") or ""
        self._timeout = number(settings, "SMTP_TIMEOUT", DEFAULT_TIMEOUT_SECONDS)
        self._local_hostname = settings.get("SMTP_LOCAL_HOSTNAME") or None
        self._sender = str(settings["SMTP_FROM"])
        address = parseaddr(self._sender)[1]
        if "@" not in address:
            raise ValueError(f"setting SMTP_FROM must contain an email address, not {address!r}")
        # Message-IDs under our own domain, not the host's name, which is often a container id.
        self._domain = address.rpartition("@")[2]

    def build(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._sender
        email["To"] = message.to
        if message.subject:
            email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        idstring = _UNSAFE_IN_MESSAGE_ID.sub("", message.reference or "") or None
        email["Message-ID"] = make_msgid(idstring=idstring, domain=self._domain)
        # Non-ASCII text gets charset=utf-8 automatically; headers are RFC 2047 encoded.
        email.set_content(message.body)
        return email

    def send(self, message: OutgoingMessage) -> DeliveryReceipt:
        check_kind(self, message)
        try:
            email = self.build(message)
        except ValueError as exc:
            # e.g. a newline in the subject: the same message would fail on every retry.
            raise PermanentDeliveryError(f"cannot build the email: {exc}") from exc
        try:
            self._deliver(email)
        except smtplib.SMTPRecipientsRefused as exc:
            recipient, (code, text) = next(iter(exc.recipients.items()))
            raise _by_smtp_code(code, f"{recipient} refused: {_text(text)}") from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
            raise TransientDeliveryError(f"SMTP connection to {self._where} lost: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_smtp_code(exc.smtp_code, _text(exc.smtp_error)) from exc
        except smtplib.SMTPException as exc:
            # What is left is a mismatch with the server's abilities (no STARTTLS, no AUTH,
            # no SMTPUTF8): configuration, which a retry does not change.
            raise PermanentDeliveryError(f"SMTP server {self._where}: {exc}") from exc
        except ssl.SSLCertVerificationError as exc:
            raise PermanentDeliveryError(f"SMTP server {self._where}: {exc}") from exc
        except OSError as exc:
            raise TransientDeliveryError(f"cannot reach SMTP server {self._where}: {exc}") from exc
        return DeliveryReceipt(provider_message_id=email["Message-ID"], status="sent")

    def close(self) -> None:
        # One connection per message: jobs are rare and a pooled connection would go stale.
        pass

    @property
    def _where(self) -> str:
        return f"{self._host}:{self._port}"

    def _deliver(self, email: EmailMessage) -> None:
        with smtplib.SMTP(
            self._host, self._port, local_hostname=self._local_hostname, timeout=self._timeout
        ) as smtp:
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self._username:
                smtp.login(self._username, self._password)
            smtp.send_message(email)


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _by_smtp_code(code: int, text: str) -> DeliveryError:
    # RFC 5321: 4yz is a transient negative reply, 5yz a permanent one.
    if 500 <= code < 600:
        return PermanentDeliveryError(f"SMTP {code}: {text}", code)
    return TransientDeliveryError(f"SMTP {code}: {text}", code)
