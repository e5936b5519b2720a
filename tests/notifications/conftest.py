"""Fixtures for the notifications tests: the fake Twilio and SMTP servers."""

from tests.fakes.smtp_server import fake_smtp as fake_smtp
from tests.fakes.twilio_server import fake_twilio as fake_twilio
