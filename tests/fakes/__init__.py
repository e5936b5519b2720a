"""Local stand-ins for the services the application talks to (Twilio, SMTP).

They are real servers on 127.0.0.1, so the production code paths (the Twilio SDK, smtplib)
run unchanged against them and the test-wide network guard stays satisfied.
"""

import socket


def closed_port() -> int:
    """A loopback port nothing listens on, for "server down" tests."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
