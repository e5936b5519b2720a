"""The base of every form of the app: Flask-WTF's, with WTForms' own messages translated from a
catalogue parsed once per process and language.

Flask-WTF loads the `wtforms` catalogue (a .mo file) anew in every request that needs one of
WTForms' messages, and a form needs one just to be built: 0.25 ms of a filing's 4.6 ms of CPU,
about a twentieth, spent parsing the same file (the one-process profile in bench/RESULTS.md).
"""

import functools

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@functools.cache
def wtforms_translations(locale: str) -> support.Translations | support.NullTranslations:
    """WTForms' catalogue for a language; read-only once loaded, so threads may share it."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return None  # WTForms' English messages, as Flask-WTF does
            locale = get_locale()  # None outside a request, as Flask-WTF checks
            return wtforms_translations(str(locale)) if locale is not None else None
