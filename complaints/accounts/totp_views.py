"""The second sign-in step: a gate in front of every page, the code prompt and the set-up.

The password sign-in (accounts.views) is untouched: once it logs an account in, this gate
sends an enrolled account to the code prompt, and an account whose role requires 2FA to the
set-up, until done. The pass is kept in the session for that account only and dropped at every
sign-in and sign-out.
"""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, user_logged_in, user_logged_out
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from complaints.accounts import totp
from complaints.accounts.views import _landing, _safe_next
from complaints.database import utcnow
from complaints.extensions import db, limiter
from complaints.forms import Form
from complaints.merchants.qrcodes import qr_svg

bp = Blueprint("totp", __name__)

PASSED = "totp_passed_for"
# Pages an account may reach before its second step: the step itself, leaving, and assets.
OPEN_ENDPOINTS = frozenset(
    {"totp.challenge", "totp.setup", "accounts.logout", "accounts.login", "static", "asset"}
)


class CodeForm(Form):
    code = StringField(
        _l("Code from the authenticator app, or a recovery code"),
        validators=[DataRequired(_l("Enter the code.")), Length(max=20)],
    )


def _required_roles() -> frozenset[str]:
    return totp.parse_roles(current_app.config.get("TOTP_REQUIRED_ROLES", ""))


@bp.before_app_request
def second_factor_gate():
    if not current_user.is_authenticated or request.endpoint in OPEN_ENDPOINTS:
        return None
    if request.endpoint is None or session.get(PASSED) == current_user.id:
        return None
    if totp.is_enrolled(current_user):
        return redirect(url_for("totp.challenge", next=_safe_next(request.full_path)))
    if totp.required_for(current_user, _required_roles()):
        return redirect(url_for("totp.setup"))
    return None


def _forget_pass(*_args, **_kwargs) -> None:
    session.pop(PASSED, None)


user_logged_in.connect(_forget_pass)
user_logged_out.connect(_forget_pass)


@bp.route("/login/code", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per 15 minutes", methods=["POST"])
def challenge():
    form = CodeForm()
    if form.validate_on_submit():
        if totp.verify(current_user, form.code.data, utcnow()):
            db.session.commit()
            session[PASSED] = current_user.id
            return redirect(
                _safe_next(request.args.get("next")) or _landing(current_user), code=303
            )
        db.session.rollback()
        form.code.errors.append(_("This code is wrong or was already used."))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/totp_challenge.html", form=form), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def setup():
    if totp.is_enrolled(current_user) and session.get(PASSED) == current_user.id:
        return _manage()
    if totp.is_enrolled(current_user):
        return redirect(url_for("totp.challenge"))
    form = CodeForm()
    row = (
        totp.start_enrolment(current_user)
        if request.method == "GET"
        else totp.enrolment(current_user)
    )
    if request.method == "GET":
        db.session.commit()
    if row is not None and form.validate_on_submit():
        codes = totp.confirm_enrolment(row, form.code.data, utcnow())
        if codes:
            db.session.commit()
            session[PASSED] = current_user.id
            flash(_("Two-factor sign-in is on."), "success")
            return render_template("accounts/totp_recovery.html", codes=codes)
        db.session.rollback()
        form.code.errors.append(
            _("This code is wrong. Check the time on your phone and try again.")
        )
    uri = totp.provisioning_uri(current_user, row) if row else ""
    return render_template(
        "accounts/totp_setup.html",
        enrolled=False,
        form=form,
        secret=row.secret if row else "",
        qr=Markup(qr_svg(uri).decode().split("?>", 1)[-1]) if uri else "",  # noqa: S704 (our SVG)
        required=totp.required_for(current_user, _required_roles()),
    ), (422 if form.is_submitted() else 200)


def _manage(renew_form=None, off_form=None, status: int = 200):
    """The page of an account with two-factor sign-in on: codes left, new codes, off."""
    return render_template(
        "accounts/totp_setup.html",
        enrolled=True,
        left=totp.recovery_codes_left(current_user),
        renew_form=renew_form or CodeForm(prefix="renew", formdata=None),
        off_form=off_form or CodeForm(prefix="off", formdata=None),
        required=totp.required_for(current_user, _required_roles()),
    ), status


def _enrolled_and_passed() -> bool:
    return totp.is_enrolled(current_user) and session.get(PASSED) == current_user.id


@bp.post("/account/two-factor/recovery-codes")
@login_required
@limiter.limit("10 per 15 minutes")
def renew_recovery_codes():
    if not _enrolled_and_passed():
        return redirect(url_for("totp.setup"), code=303)
    form = CodeForm(prefix="renew")
    if form.validate_on_submit():
        codes = totp.renew_recovery_codes(current_user, form.code.data, utcnow())
        if codes:
            db.session.commit()
            return render_template("accounts/totp_recovery.html", codes=codes)
        db.session.rollback()
        form.code.errors.append(_("Enter a current code from your authenticator app."))
    return _manage(renew_form=form, status=422)


@bp.post("/account/two-factor/off")
@login_required
@limiter.limit("10 per 15 minutes")
def turn_off():
    if not _enrolled_and_passed():
        return redirect(url_for("totp.setup"), code=303)
    if totp.required_for(current_user, _required_roles()):
        flash(_("Your role requires two-factor sign-in: it stays on."), "error")
        return redirect(url_for("totp.setup"), code=303)
    form = CodeForm(prefix="off")
    if form.validate_on_submit():
        if totp.verify(current_user, form.code.data, utcnow()):
            totp.remove(current_user)
            db.session.commit()
            flash(_("Two-factor sign-in is off."), "success")
            return redirect(url_for("totp.setup"), code=303)
        db.session.rollback()
        form.code.errors.append(_("This code is wrong or was already used."))
    return _manage(off_form=form, status=422)
