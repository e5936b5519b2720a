"""The merchant's outlets and codes, and the owner's staff page. Thin, like views.py."""

from flask import flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from complaints.accounts.mail import queue_account_link
from complaints.extensions import db
from complaints.merchants.views import POSTER_SIZES
from complaints.outbox.services import after_commit
from complaints.portal import forms, queries, services, staff
from complaints.portal.blueprints import merchant_bp, owner_only


@merchant_bp.get("/outlets")
def outlets():
    return _render_outlets()


def _render_outlets(failed_code: str | None = None, failed_form=None, status: int = 200):
    enterprise_id = current_user.enterprise_id
    outlets = queries.outlets_of(enterprise_id)
    rows = [
        (outlet, failed_form if outlet.code == failed_code else forms.rotate_form(outlet))
        for outlet in outlets
    ]
    return render_template(
        "portal/outlets.html",
        rows=rows,
        poster_sizes=sorted(POSTER_SIZES),
        rotations=services.code_rotations(enterprise_id),
        outlet_names={outlet.id: outlet.name(str(get_locale())) for outlet in outlets},
        failed_code=failed_code,
    ), status


@merchant_bp.post("/outlets/<code>/rotate")
def rotate(code: str):
    account = current_user
    outlet = queries.outlet_for_merchant(code, account)
    form = forms.rotate_form(outlet)
    if not form.validate_on_submit():
        return _render_outlets(code, form, 422)
    services.rotate_code(outlet, account, form.reason.data)
    db.session.commit()
    flash(
        _(
            "The code of %(outlet)s was replaced. Print the new poster: the old one no longer works.",
            outlet=outlet.name_zh,
        ),
        "success",
    )
    return redirect(url_for(".outlets") + f"#outlet-{outlet.code}", code=303)


@merchant_bp.get("/staff")
def staff_page():
    owner_only()
    return _render_staff(forms.InviteForm())


def _render_staff(form, status: int = 200, invited: str | None = None):
    return render_template(
        "portal/staff.html",
        form=form,
        people=queries.staff_of(current_user.enterprise_id),
        invited=invited,
        awaiting_password=staff.awaiting_password,
        remove_form=forms.EmptyForm(),
    ), status


@merchant_bp.post("/staff")
def invite():
    owner_only()
    form = forms.InviteForm()
    if not form.validate_on_submit():
        return _render_staff(form, 422)
    try:
        account = staff.invite_staff(current_user, form.email.data, form.name.data)
        db.session.commit()
    except services.PortalRefused as refused:
        db.session.rollback()
        form.email.errors = [refused.message]
        return _render_staff(form, 422)
    except IntegrityError:
        db.session.rollback()  # the same email invited twice at once: the first one won
        form.email.errors = [_("An account with this email already exists.")]
        return _render_staff(form, 422)
    # E-mailed to the invitee, never shown to the owner: opening it proves the address, and
    # only then does the account get a password (issue 11.12).
    queue_account_link(account, "invite")
    db.session.commit()
    after_commit()
    return _render_staff(forms.InviteForm(formdata=None), 201, invited=account.email)


@merchant_bp.post("/staff/<int:account_id>/remove")
def remove_staff(account_id: int):
    """The owner removes a colleague: disabled at once, every session of theirs ends."""
    owner_only()
    form = forms.EmptyForm()
    if not form.validate_on_submit():
        return _render_staff(forms.InviteForm(formdata=None), 400)
    try:
        person = staff.remove_staff(current_user, account_id)
        db.session.commit()
    except services.PortalRefused as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
        return redirect(url_for(".staff_page"), code=303)
    flash(_("%(name)s no longer has access.", name=person.name), "success")
    return redirect(url_for(".staff_page"), code=303)
