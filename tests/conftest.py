"""Test-wide guards; app fixtures live in tests/app_fixtures.py."""

import ipaddress
import socket

import pytest

_real_connect = socket.socket.connect


def _is_local(address) -> bool:
    if isinstance(address, str):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _forbid_outbound_network(monkeypatch):
    """Any connection beyond loopback fails the test: no real Twilio, SMTP or CDN call can leak."""

    def guarded_connect(sock, address):
        if not _is_local(address):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return _real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


pytest_plugins = ["tests.app_fixtures"]
