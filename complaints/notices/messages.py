"""What each audience is told about each case event, in the recipient's language."""

from flask_babel import force_locale
from flask_babel import gettext as _

SMS_PREFIX = "【安心】"  # PRC SMS rules require the sender's signature in brackets


def tourist_case_received(*, number: str, merchant: str, tracking_url: str, language: str) -> str:
    with force_locale(language):
        return SMS_PREFIX + _(
            "Complaint %(number)s about %(merchant)s received. Follow it here: %(url)s",
            number=number,
            merchant=merchant,
            url=tracking_url,
        )
