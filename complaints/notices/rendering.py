"""Turning a template under templates/notices/ into the words one recipient reads."""

import re
from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale

SMS_PREFIX = "【安心】"  # PRC SMS rules require the sender's signature in brackets


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str


def language_or_default(language: str | None) -> str:
    languages = current_app.config["LANGUAGES"]
    return language if language in languages else languages[0]


def render_message(path: str, channel: str, language: str, **context) -> Rendered:
    """Rendered in the recipient's language: `{{ _("...") }}` in the template translates.

    An email template's first line is its subject; an SMS gets the sender's signature.
    """
    with force_locale(language):
        text = render_template(path, language=language, **context)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    if channel == "email":
        # Optional parts of a template leave blank lines behind: one blank line between
        # paragraphs is enough.
        body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines[1:]).strip())
        return Rendered(subject=lines[0], body=body)
    # Lines in an SMS template only keep the source readable; the phone shows one paragraph.
    return Rendered(subject=None, body=SMS_PREFIX + " ".join(line for line in lines if line))
