"""The code form on the tracking page (templates/_verify_phone.html). Thin: parse, call, redirect."""

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from complaints.cases.services import case_for_tracking_key
from complaints.database import utcnow
from complaints.extensions import db, limiter
from complaints.outbox.services import after_commit
from complaints.verification import services
from complaints.verification.services import CheckResult, SendResult

bp = Blueprint("verification", __name__)

FLASH_CATEGORY = "verify"
CHECK_MESSAGES = {
    CheckResult.VERIFIED: _l("Thank you: your phone number is confirmed."),
    CheckResult.ALREADY_VERIFIED: _l("Your phone number is already confirmed."),
    CheckResult.WRONG: _l("That code is not right. Check the text message and try again."),
    CheckResult.LOCKED: _l("Too many wrong codes. Ask for a new code."),
    CheckResult.EXPIRED: _l("That code has expired. Ask for a new code."),
    CheckResult.NO_CODE: _l("No code was sent yet. Ask for a code."),
    CheckResult.UNAVAILABLE: _l("We could not check the code just now. Please try again."),
}
SEND_MESSAGES = {
    SendResult.SENT: _l("A new code is on its way by text message."),
    SendResult.RATE_LIMITED: _l(
        "Several codes were sent to this number just now. Wait a few minutes, then ask again."
    ),
    SendResult.ALREADY_VERIFIED: _l("Your phone number is already confirmed."),
}


def _check_limit() -> str:
    return current_app.config["VERIFY_CHECK_RATE_LIMIT"]


def _send_limit() -> str:
    return current_app.config["VERIFY_SEND_RATE_LIMIT"]


@bp.post("/t/<tracking_key>/verify")
@limiter.limit(_check_limit)
def verify(tracking_key: str):
    case = case_for_tracking_key(tracking_key) or abort(404)
    result = services.check_code(case, request.form.get("code", ""), now=utcnow())
    db.session.commit()
    after_commit()  # a confirmed number routes the case, which tells the parties
    flash(str(CHECK_MESSAGES[result]), FLASH_CATEGORY)
    return _back_to_case(tracking_key)


@bp.post("/t/<tracking_key>/verify/new-code")
@limiter.limit(_send_limit)
def send_new_code(tracking_key: str):
    case = case_for_tracking_key(tracking_key) or abort(404)
    result = services.send_new_code(case, now=utcnow())
    db.session.commit()
    after_commit()
    flash(str(SEND_MESSAGES[result]), FLASH_CATEGORY)
    return _back_to_case(tracking_key)


def _back_to_case(tracking_key: str):
    return redirect(url_for("cases.track", tracking_key=tracking_key) + "#verify-phone", code=303)
