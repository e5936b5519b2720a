"""A local SMTP server (aiosmtpd) that records what it receives and refuses on request.

    def test_mail(fake_smtp):
        channel = SMTPEmail(fake_smtp.settings())
        ...
        assert fake_smtp.messages[0].subject == "投诉已受理"

`fake_smtp.reject("a@b.example", 550)` refuses that recipient (every recipient without an
address); 4xx codes model a greylisting or full-mailbox server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["FakeSMTP", "ReceivedEmail", "fake_smtp"]

DEFAULT_SENDER = "安心 Anxin <noreply@anxin.example>"
_REPLIES = {
    421: "421 4.3.2 Service not available, closing channel",
    450: "450 4.2.1 Mailbox temporarily unavailable",
    451: "451 4.7.1 Greylisted, please try again later",
    452: "452 4.2.2 Mailbox full",
    550: "550 5.1.1 No such user here",
    551: "551 5.1.6 User not local",
    552: "552 5.2.2 Mailbox full",
    553: "553 5.1.3 Mailbox name not allowed",
    554: "554 5.7.1 Rejected by policy",
}


@dataclass
class ReceivedEmail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def subject(self) -> str | None:
        return self.message["Subject"]

    @property
    def to(self) -> str | None:
        return self.message["To"]

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        # An 8bit body keeps the wire's CRLF line ends; readers and assertions want "\n".
        return part.get_content().replace("\r\n", "\n") if part is not None else ""


class _Handler:
    def __init__(self, fake: FakeSMTP) -> None:
        self.fake = fake

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        refusal = self.fake._refusal_for(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        self.fake._record(
            ReceivedEmail(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                raw=raw,
                message=message_from_bytes(raw, policy=policy.default),
            )
        )
        return "250 2.0.0 Message accepted for delivery"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # Bound to port 0, the real port is only known once the loop has opened the socket;
        # the stock method would try to connect to port 0.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class FakeSMTP:
    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        """With a username, the server offers AUTH (without TLS) and checks the password."""
        self.host = "127.0.0.1"
        self.username, self.password = username, password
        self.messages: list[ReceivedEmail] = []
        self.logins: list[tuple[str, bool]] = []
        self._refusals: dict[str | None, str] = {}
        self._lock = threading.Lock()
        self._controller: _Controller | None = None

    def start(self) -> FakeSMTP:
        extra: dict[str, Any] = {}
        if self.username is not None:
            extra = {"authenticator": self._authenticate, "auth_require_tls": False}
        # A fixed server name: aiosmtpd would otherwise call socket.getfqdn(), a DNS lookup.
        self._controller = _Controller(
            _Handler(self), hostname=self.host, port=0, server_hostname="fake-smtp.test", **extra
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> FakeSMTP:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._controller is not None, "fake SMTP is not running"
        return self._controller.port

    def settings(self, **overrides: str) -> dict[str, str]:
        """SMTP_* settings for SMTPEmail (or app config) pointing at this server."""
        settings = {
            "SMTP_HOST": self.host,
            "SMTP_PORT": str(self.port),
            "SMTP_FROM": DEFAULT_SENDER,
            "SMTP_STARTTLS": "0",
            "SMTP_TIMEOUT": "5",
            "SMTP_LOCAL_HOSTNAME": "anxin.test",
        }
        if self.username is not None:
            settings.update(SMTP_USERNAME=self.username, SMTP_PASSWORD=self.password or "")
        settings.update(overrides)
        return settings

    def reject(self, address: str | None = None, code: int = 550, text: str | None = None) -> None:
        """Refuse RCPT TO for `address` (or for everyone) with `code` until `accept()`."""
        reply = f"{code} {text}" if text else _REPLIES.get(code, f"{code} Refused")
        with self._lock:
            self._refusals[address.lower() if address else None] = reply

    def accept(self) -> None:
        with self._lock:
            self._refusals.clear()

    def reset(self) -> None:
        with self._lock:
            self._refusals.clear()
            self.messages.clear()
            self.logins.clear()

    def _refusal_for(self, address: str) -> str | None:
        with self._lock:
            return self._refusals.get(address.lower()) or self._refusals.get(None)

    def _record(self, email: ReceivedEmail) -> None:
        with self._lock:
            self.messages.append(email)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8")
        ok = login == self.username and auth_data.password.decode("utf-8") == self.password
        with self._lock:
            self.logins.append((login, ok))
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def fake_smtp() -> Iterator[FakeSMTP]:
    """A running FakeSMTP; `fake_smtp.settings()` gives the SMTP_* settings for it."""
    with FakeSMTP() as fake:
        yield fake
