"""Secrets and personal data kept out of logs: tracking keys, invitation and unlock tokens are
the credentials of those pages, and a log line is read by more people than the database;
tourists' phone numbers are masked wherever a provider's error message repeats them.

`RedactingFilter` serves the development server's `werkzeug` logger; gunicorn takes
`--logger-class complaints.redaction.RedactingGunicornLogger` (README, production).
"""

import logging
import re

SECRET_PATHS = re.compile(r"(/t/|/merchant/invite/|/login/unlock/)[^/?\s\"]+")
REPLACEMENT = r"\1[redacted]"
# Phone numbers in provider errors ("The 'To' number +4479... is not valid"): kept to the
# first two digits (the country) and last three, enough to match a complaint from the tourist, no more.
PHONE_NUMBERS = re.compile(r"\+(\d{2})\d{4,11}(\d{3})\b")


def redact(text: str) -> str:
    return PHONE_NUMBERS.sub(r"+\1****\2", SECRET_PATHS.sub(REPLACEMENT, text))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    """On the werkzeug logger (access lines) and on the root handlers, which every module's
    records pass through: secrets and full phone numbers never reach a log file."""
    for target in (logging.getLogger("werkzeug"), *logging.getLogger().handlers):
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())


try:  # gunicorn is a production dependency; the class exists wherever it is installed
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = None

if _GunicornLogger is not None:

    class RedactingGunicornLogger(_GunicornLogger):
        """gunicorn's access log with the secret path segments replaced."""

        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "U", "f", "{raw_uri}e"):
                if isinstance(atoms.get(key), str):
                    atoms[key] = redact(atoms[key])
            return atoms
