"""A merchant owner adds and edits its own outlets; its staff download all posters at once.

The same services and form rules as the admin screens (complaints.admin), scoped here to the
signed-in account's enterprise through `queries.outlet_for_merchant`.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from complaints.admin import registry
from complaints.admin.audit import Actor
from complaints.admin.forms import OutletForm
from complaints.admin.posters import PosterSelection
from complaints.admin.queries import division_choices
from complaints.admin.views import pdf_response
from complaints.extensions import db
from complaints.merchants.qrcodes import POSTER_SIZES
from complaints.portal import queries
from complaints.portal.blueprints import merchant_bp, owner_only


def _form(outlet=None) -> OutletForm:
    form = OutletForm(obj=outlet if request.method == "GET" else None)
    form.division_code.choices = division_choices(str(get_locale() or "zh"), for_outlets=True)
    if outlet is not None and request.method == "GET":
        form.category.data = outlet.category.value
        form.lat.data = "" if outlet.latitude is None else str(outlet.latitude)
        form.long.data = "" if outlet.longitude is None else str(outlet.longitude)
    return form


def _save(form, outlet):
    account = current_user
    reason = form.reason.data.strip()
    try:
        if outlet is None:
            outlet = registry.create_outlet(
                account.enterprise, form.values(), Actor.of(account), reason
            )
        else:
            registry.update_outlet(outlet, form.values(), Actor.of(account), reason)
        db.session.commit()
    except registry.RegistryError as refused:
        db.session.rollback()
        getattr(form, refused.field).errors.append(str(refused.message))
        return None
    flash(_("Outlet saved."), "success")
    return redirect(url_for(".outlets", _anchor=f"outlet-{outlet.code}"), code=303)


@merchant_bp.route("/outlets/new", methods=["GET", "POST"])
def new_outlet():
    owner_only()
    form = _form()
    if form.validate_on_submit() and (done := _save(form, None)):
        return done
    status = 422 if request.method == "POST" else 200
    return render_template("portal/outlet_form.html", form=form, outlet=None), status


@merchant_bp.route("/outlets/<code>/edit", methods=["GET", "POST"])
def edit_outlet(code: str):
    owner_only()
    outlet = queries.outlet_for_merchant(code, current_user)
    form = _form(outlet)
    if form.validate_on_submit() and (done := _save(form, outlet)):
        return done
    status = 422 if request.method == "POST" else 200
    return render_template("portal/outlet_form.html", form=form, outlet=outlet), status


@merchant_bp.get("/outlets/posters.pdf")
def posters():
    size = request.args.get("size", "a5")
    layout = request.args.get("layout", "posters")
    if size not in POSTER_SIZES or layout not in ("posters", "stickers"):
        abort(400, description=_("size must be a4, a5 or a6; layout posters or stickers."))
    selection = PosterSelection(enterprise_id=current_user.enterprise_id)
    return pdf_response(selection, size, layout, f"anxin-{current_user.enterprise.uscc}")
