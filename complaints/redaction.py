"""Secrets kept out of access logs: tracking keys, invitation and unlock tokens are the
credentials of those pages, and a log line is read by more people than the database.

`RedactingFilter` serves the development server's `werkzeug` logger; gunicorn takes
`--logger-class complaints.redaction.RedactingGunicornLogger` (README, production).
"""

import logging
import re

SECRET_PATHS = re.compile(r"(/t/|/merchant/invite/|/login/unlock/)[^/?\s\"]+")
REPLACEMENT = r"\1[redacted]"


def redact(text: str) -> str:
    return SECRET_PATHS.sub(REPLACEMENT, text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactingFilter())


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
