"""The code form on the tracking page (templates/_verify_phone.html) and "find my complaint".
Thin: parse, call, redirect."""

import math

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from complaints.cases.services import case_for_tracking_key
from complaints.database import utcnow
from complaints.extensions import db, limiter
from complaints.outbox.services import after_commit
from complaints.verification import recovery, services
from complaints.verification.forms import FindCaseForm, RecoveryCodeForm
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
    SendResult.TOO_SOON: _l("A code was sent less than a minute ago. Wait for it, then ask again."),
    SendResult.RATE_LIMITED: _l(
        "Several codes were sent to this number just now. Wait a few minutes, then ask again."
    ),
    SendResult.ALREADY_VERIFIED: _l("Your phone number is already confirmed."),
}

FOUND_MESSAGE = _l(
    "Here is your complaint again. This is a new link: keep it. Your old link still works too."
)
WRONG_CODE = _l("That code is not right, or the case number and phone number do not match.")
RECOVERY_MESSAGES = {
    CheckResult.LOCKED: CHECK_MESSAGES[CheckResult.LOCKED],
    CheckResult.EXPIRED: CHECK_MESSAGES[CheckResult.EXPIRED],
    CheckResult.UNAVAILABLE: CHECK_MESSAGES[CheckResult.UNAVAILABLE],
}


@bp.app_template_global("resend_wait_seconds")
def resend_wait_seconds(case) -> int:
    """Seconds until "Send a new code" may be pressed again; 0 when it may be now."""
    available_at = services.resend_available_at(case)
    if available_at is None:
        return 0
    return max(0, math.ceil((available_at - utcnow()).total_seconds()))


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


@bp.route(recovery.FIND_PATH, methods=["GET", "POST"])
@limiter.limit(_send_limit, methods=["POST"])
def find_case():
    form = FindCaseForm()
    if not form.validate_on_submit():
        return render_template("find_case.html", form=form, step="ask"), (
            422 if form.errors else 200
        )
    recovery.send_recovery_code(form.number.data, form.phone_e164, now=utcnow())
    db.session.commit()
    after_commit()
    code_form = RecoveryCodeForm(formdata=None, number=form.number.data, phone=form.phone.data)
    return render_template("find_case.html", form=code_form, step="code")


@bp.post(recovery.FIND_PATH + "/code")
@limiter.limit(_check_limit)
def find_case_code():
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        result, tracking_key = recovery.redeem_recovery_code(
            form.number.data, form.phone_e164, form.code.data, now=utcnow()
        )
        db.session.commit()
        if tracking_key:
            flash(str(FOUND_MESSAGE), FLASH_CATEGORY)
            return redirect(url_for("cases.track", tracking_key=tracking_key), code=303)
        form.code.errors = [*form.code.errors, str(RECOVERY_MESSAGES.get(result, WRONG_CODE))]
    return render_template("find_case.html", form=form, step="code"), 422


def _back_to_case(tracking_key: str):
    return redirect(url_for("cases.track", tracking_key=tracking_key) + "#verify-phone", code=303)
