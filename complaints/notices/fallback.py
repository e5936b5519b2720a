"""E-mail instead of SMS for a tourist whose foreign number texts cannot reach.

When Twilio refuses a text to a number outside China for good (its error code says the number
or its country cannot be reached by SMS) and the tourist gave an e-mail address, the same
message goes by e-mail, once. A code goes too: it is still the tourist's own code, and the
e-mail body is redacted after delivery like the text's.
"""

from flask_babel import force_locale
from flask_babel import gettext as _

from complaints.cases.models import Case
from complaints.extensions import db
from complaints.notices.models import Audience, Notification

# Twilio: permission for the region not enabled, not reachable by SMS, not a mobile number,
# unreachable handset, unknown number, landline, carrier filtering.
UNREACHABLE_BY_SMS = frozenset({"21408", "21612", "21614", "30003", "30005", "30006", "30007"})
FALLBACK_SUFFIX = "#email"


def email_instead(notification: Notification) -> Notification | None:
    """Queue the e-mail twin of a failed tourist text; None when it does not apply."""
    from complaints.notices.services import queue_notification

    if (
        notification.channel != "sms"
        or notification.audience is not Audience.TOURIST
        or str(notification.error_code or "") not in UNREACHABLE_BY_SMS
        or notification.recipient.startswith("+86")
        or notification.event_key.endswith(FALLBACK_SUFFIX)
    ):
        return None
    case = db.session.get(Case, notification.case_id)
    if case is None or not case.tourist_email:
        return None
    with force_locale(notification.language):
        subject = _("About your complaint %(number)s", number=case.number)
    return queue_notification(
        case,
        event_key=(notification.event_key + FALLBACK_SUFFIX)[:64],
        audience=Audience.TOURIST,
        channel="email",
        recipient=case.tourist_email,
        language=notification.language,
        body=notification.body,
        subject=subject,
        secret_fragment=notification.secret_fragment,
        expires_at=notification.expires_at,
    )
