"""Twilio's webhooks. Authenticated by X-Twilio-Signature, not by a session, so no CSRF token.

The signature covers the URL Twilio called, which is our configured public URL: behind TLS
termination request.url says http:// and would never match.
"""

import logging

from flask import Blueprint, Response, current_app, request

from complaints.database import utcnow
from complaints.extensions import csrf, db
from complaints.webhooks import services
from notifications.twilio_webhooks import is_valid_twilio_request, messaging_reply

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks/twilio")
csrf.exempt(bp)


@bp.before_request
def require_twilio_signature():
    token = current_app.config["NOTIFICATION_SETTINGS"].get("TWILIO_AUTH_TOKEN")
    query = request.query_string.decode()
    url = current_app.config["PUBLIC_BASE_URL"] + request.path + (f"?{query}" if query else "")
    signature = request.headers.get("X-Twilio-Signature")
    if not is_valid_twilio_request(token, url, request.form, signature):
        log.warning("refused an unsigned or mis-signed Twilio webhook to %s", request.path)
        return _text("Forbidden: X-Twilio-Signature does not match.", 403)
    return None


@bp.post("/status")
def delivery_status():
    sid = request.form.get("MessageSid", "")
    status = request.form.get("MessageStatus", "")
    try:
        notification = services.apply_status_callback(sid, status, request.form.get("ErrorCode"))
    except ValueError as exc:
        return _text(f"Bad request: {exc}.", 400)
    db.session.commit()
    if notification is None:
        log.info("status callback for unknown message %s ignored", sid)
    return _text("", 200)


@bp.post("/inbound")
def inbound_sms():
    answer = services.answer_inbound(
        request.form.get("From", ""), request.form.get("Body", ""), now=utcnow()
    )
    db.session.commit()
    return Response(messaging_reply(answer.text), mimetype="application/xml")


def _text(body: str, status: int) -> Response:
    return Response(body, status=status, mimetype="text/plain")
