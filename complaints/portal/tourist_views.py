"""What people without an account do here: the tourist answers an offer, rates the outcome
and writes to the merchant from the tracking page; an invited colleague sets a password.

The tracking page itself is the cases feature's; these POSTs redirect back to it, and the
panel they belong to (templates/_tourist_actions.html) reads `tourist_panel(case)`.
"""

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from complaints.cases.services import case_for_tracking_key
from complaints.database import utcnow
from complaints.extensions import db, limiter
from complaints.outbox.services import after_commit
from complaints.portal import forms, messages, presenters, ratings, services, staff
from complaints.portal.blueprints import public_bp
from workflows.machine import TransitionRefused
from workflows.states import Role

FLASH = "tourist_actions"  # the panel shows only its own messages
TOURIST_RATE_LIMIT = "30 per hour"

public_bp.add_app_template_global(presenters.tourist_panel, "tourist_panel")


def _case(tracking_key: str):
    return case_for_tracking_key(tracking_key) or abort(404)


def _back(tracking_key: str, anchor: str):
    return redirect(url_for("cases.track", tracking_key=tracking_key) + anchor, code=303)


def _flash_errors(form) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), FLASH)


@public_bp.post("/t/<tracking_key>/offer/<answer>")
@limiter.limit(TOURIST_RATE_LIMIT)
def answer_offer(tracking_key: str, answer: str):
    if answer not in ("accept", "reject"):
        abort(404)
    case = _case(tracking_key)
    form = forms.OfferAnswerForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(tracking_key, "#offer")
    now = utcnow()
    try:
        if answer == "accept":
            services.accept_offer(case, form.offer_number, now)
        else:
            services.reject_offer(case, form.offer_number, form.note.data or "", now)
        db.session.commit()
    except services.PortalRefused as refused:
        db.session.rollback()
        flash(str(refused.message), FLASH)
        return _back(tracking_key, "#offer")
    except (TransitionRefused, StaleDataError):
        db.session.rollback()  # the case moved on (deadline, a new offer) while the page was open
        flash(_("The case changed while you were reading. Look at it again."), FLASH)
        return _back(tracking_key, "#offer")
    after_commit()
    if answer == "accept":
        flash(_("You accepted the offer. The complaint is resolved."), FLASH)
    else:
        flash(_("You rejected the offer. The regulator now reviews your complaint."), FLASH)
    return _back(tracking_key, "#offer")


@public_bp.post("/t/<tracking_key>/rating")
@limiter.limit(TOURIST_RATE_LIMIT)
def rate(tracking_key: str):
    case = _case(tracking_key)
    form = forms.RatingForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(tracking_key, "#rating")
    try:
        ratings.rate_case(case, int(form.score.data), form.comment.data or "", utcnow())
        db.session.commit()
    except ratings.RatingRefused as refused:
        db.session.rollback()
        flash(str(refused.message), FLASH)
        return _back(tracking_key, "#rating")
    flash(_("Thank you for rating how your complaint was handled."), FLASH)
    return _back(tracking_key, "#rating")


@public_bp.post("/t/<tracking_key>/messages")
@limiter.limit(TOURIST_RATE_LIMIT)
def tourist_message(tracking_key: str):
    case = _case(tracking_key)
    form = forms.TouristMessageForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(tracking_key, "#messages")
    try:
        messages.post_message(case, Role.TOURIST, form.body.data, now=utcnow())
        db.session.commit()
        after_commit()  # the merchant and the regulator hear of it now
    except messages.MessageRefused as refused:
        db.session.rollback()
        flash(str(refused.message), FLASH)
        return _back(tracking_key, "#messages")
    flash(_("Message sent."), FLASH)
    return _back(tracking_key, "#messages")


# --- a colleague's invitation --------------------------------------------------------------


@public_bp.route("/merchant/invite/<token>", methods=["GET", "POST"])
@limiter.limit(TOURIST_RATE_LIMIT, methods=["POST"])
def accept_invite(token: str):
    account = staff.account_for_invite(token, current_app.config["SECRET_KEY"])
    if account is None:
        return render_template("portal/invite.html", account=None, form=None), 404
    form = forms.SetPasswordForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("portal/invite.html", account=account, form=form), status
    try:
        staff.set_first_password(account, form.password.data)
        db.session.commit()
    except services.PortalRefused as refused:
        db.session.rollback()
        form.password.errors = [refused.message]
        return render_template("portal/invite.html", account=account, form=form), 422
    flash(_("Your password is set. Sign in with your email and the new password."), "success")
    return redirect(url_for("accounts.login"), code=303)
