"""Admin screens for regulator staff, and the public page where an invitee sets a password."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from complaints.accounts import totp
from complaints.accounts.models import Account, AccountRole
from complaints.admin import staff as service
from complaints.admin.agency_views import _agency_choices
from complaints.admin.forms import InviteStaffForm, RemoveRuleForm, StaffRoleForm
from complaints.admin.registry import RegistryError
from complaints.admin.views import _actor, _admin_only, bp
from complaints.agencies.models import Agency
from complaints.extensions import db, limiter
from complaints.outbox.services import after_commit
from complaints.portal import staff as invitations
from complaints.portal.forms import SetPasswordForm
from complaints.portal.services import PortalRefused

public_bp = Blueprint("staff_invites", __name__)


def _agency(slug: str) -> Agency:
    return db.session.scalar(select(Agency).where(Agency.slug == slug)) or abort(400)


def _render(invite_form=None, status=200):
    form = invite_form or InviteStaffForm(formdata=None)
    form.agency.choices = _agency_choices()
    rows = [
        (account, totp.is_enrolled(account), invitations.awaiting_password(account))
        for account in service.regulator_accounts()
    ]
    role_forms = {}
    for account, *_flags in rows:
        role_form = StaffRoleForm(
            formdata=None, role=account.role.value, agency=account.agency.slug
        )
        role_form.agency.choices = form.agency.choices
        role_forms[account.id] = role_form
    return render_template(
        "admin/staff.html",
        form=form,
        rows=rows,
        role_forms=role_forms,
        reason_form=RemoveRuleForm(formdata=None),
    ), status


@bp.get("/staff")
def staff():
    _admin_only()
    return _render()


@bp.post("/staff/invite")
def invite_staff():
    _admin_only()
    form = InviteStaffForm()
    form.agency.choices = _agency_choices()
    if not form.validate_on_submit():
        return _render(form, 422)
    try:
        account = service.invite_regulator(
            form.email.data,
            form.name.data,
            AccountRole(form.role.data),
            _agency(form.agency.data),
            _actor(),
            form.reason.data.strip(),
        )
        db.session.commit()
    except RegistryError as refused:
        db.session.rollback()
        getattr(form, refused.field).errors.append(str(refused.message))
        return _render(form, 422)
    after_commit()
    flash(_("Invitation e-mailed to %(email)s.", email=account.email), "success")
    return redirect(url_for("admin.staff"), code=303)


def _account(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None or account.agency_id is None:
        abort(404)
    return account


@bp.post("/staff/<int:account_id>/role")
def staff_role(account_id: int):
    _admin_only()
    account = _account(account_id)
    form = StaffRoleForm()
    form.agency.choices = _agency_choices()
    if not form.validate_on_submit():
        flash(_("Say why the role changes."), "error")
        return redirect(url_for("admin.staff"), code=303)
    service.change_role(
        account, AccountRole(form.role.data), _agency(form.agency.data), _actor(), form.reason.data
    )
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("admin.staff"), code=303)


def _with_reason(account_id: int) -> tuple[Account, str | None]:
    """The staff account acted on and the admin's reason (None, said on the page, if missing)."""
    _admin_only()
    account = _account(account_id)
    form = RemoveRuleForm()
    if not form.validate_on_submit():
        flash(_("Say why."), "error")
        return account, None
    return account, form.reason.data.strip()


@bp.post("/staff/<int:account_id>/<any(disable, enable):action>")
def staff_active(account_id: int, action: str):
    account, reason = _with_reason(account_id)
    if reason is None:
        return redirect(url_for("admin.staff"), code=303)
    try:
        service.set_active(account, action == "enable", _actor(), reason)
        db.session.commit()
    except RegistryError as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
        return redirect(url_for("admin.staff"), code=303)
    flash(_("Saved."), "success")
    return redirect(url_for("admin.staff"), code=303)


@bp.post("/staff/<int:account_id>/two-factor/reset")
def staff_reset_two_factor(account_id: int):
    account, reason = _with_reason(account_id)
    if reason is not None and service.reset_two_factor(account, _actor(), reason):
        db.session.commit()
        flash(
            _("Two-factor sign-in reset for %(email)s.", email=account.email),
            "success",
        )
    return redirect(url_for("admin.staff"), code=303)


@public_bp.route("/staff/invite/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def accept(token: str):
    account = invitations.account_for_invite(token, current_app.config["SECRET_KEY"])
    if account is None:
        return render_template("admin/accept_invite.html", account=None, form=None), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            invitations.set_first_password(account, form.password.data)
            db.session.commit()
        except PortalRefused as refused:
            db.session.rollback()
            form.password.errors = [refused.message]
        else:
            flash(
                _("Your password is set. Sign in with your email and the new password."), "success"
            )
            return redirect(url_for("accounts.login"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("admin/accept_invite.html", account=account, form=form), status
