"""Admin screens: registry lists, enterprise and outlet editing, imports, posters, audit log.

Thin: parse, call a query or service, commit, render. One gate for the blueprint (signed-in
regulator); the routes that change anything also pass `_admin_only`.
"""

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from complaints.admin import access, queries, registry
from complaints.admin.audit import Actor, ChangeFilter, changes_page
from complaints.admin.enterprise_import import EnterpriseImport
from complaints.admin.forms import AdminOutletForm, EnterpriseForm, ImportForm
from complaints.admin.importing import run_import
from complaints.admin.outlet_import import OutletImport
from complaints.admin.posters import PosterSelection, write_posters
from complaints.extensions import db
from complaints.merchants.qrcodes import POSTER_SIZES
from complaints.merchants.services import enterprise_by_uscc, outlet_by_code
from complaints.merchants.uscc import normalise_uscc

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _regulators_only():
    if not access.may_view_registry(current_user):
        abort(403)


def _admin_only() -> None:
    if not access.is_admin(current_user):
        abort(403)


def _locale() -> str:
    return str(get_locale() or "zh")


def _actor() -> Actor:
    return Actor.of(current_user)


def _cursor():
    after = request.args.get("after") or None
    if after:
        try:
            queries.decode_cursor(after)
        except queries.BadCursor:
            abort(400, description=_("This page link is damaged. Go back to the first page."))
    return after


@bp.get("/")
def index():
    return render_template("admin/index.html", is_admin=access.is_admin(current_user))


@bp.get("/enterprises")
def enterprises():
    within = access.area_of(current_user)
    q = request.args.get("q", "").strip()[:64]
    division = request.args.get("division", "")
    page = queries.enterprise_page(q, division, within, _cursor())
    return render_template(
        "admin/enterprises.html",
        page=page,
        q=q,
        division=division,
        divisions=queries.division_choices(_locale(), within),
        is_admin=access.is_admin(current_user),
    )


@bp.get("/outlets")
def outlets():
    within = access.area_of(current_user)
    q = request.args.get("q", "").strip()[:64]
    division = request.args.get("division", "")
    enterprise = None
    if request.args.get("uscc"):
        enterprise = enterprise_by_uscc(request.args["uscc"]) or abort(404)
    page = queries.outlet_page(
        q, division, enterprise.id if enterprise else None, within, _cursor()
    )
    return render_template(
        "admin/outlets.html",
        page=page,
        q=q,
        division=division,
        enterprise=enterprise,
        divisions=queries.division_choices(_locale(), within),
        sizes=list(POSTER_SIZES),
        is_admin=access.is_admin(current_user),
    )


def _enterprise_form(obj=None) -> EnterpriseForm:
    form = EnterpriseForm(obj=obj)
    form.division_code.choices = queries.division_choices(_locale())
    return form


@bp.route("/enterprises/new", methods=["GET", "POST"])
def new_enterprise():
    _admin_only()
    form = _enterprise_form()
    if form.validate_on_submit():
        try:
            values = {"uscc": form.uscc.parsed, **form.values()}
            enterprise = registry.create_enterprise(values, _actor(), form.reason.data.strip())
            db.session.commit()
        except registry.RegistryError as refused:
            db.session.rollback()
            getattr(form, refused.field).errors.append(str(refused.message))
        else:
            flash(_("Enterprise saved."), "success")
            return redirect(url_for("admin.outlets", uscc=enterprise.uscc), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/enterprise_form.html", form=form, enterprise=None), status


@bp.route("/enterprises/<uscc>/edit", methods=["GET", "POST"])
def edit_enterprise(uscc: str):
    _admin_only()
    enterprise = enterprise_by_uscc(uscc) or abort(404)
    form = _enterprise_form(obj=enterprise if request.method == "GET" else None)
    form.uscc.data = enterprise.uscc  # the key: a different code is a different enterprise
    if form.validate_on_submit():
        if registry.update_enterprise(
            enterprise, form.values(), _actor(), form.reason.data.strip()
        ):
            db.session.commit()
            flash(_("Enterprise saved."), "success")
        else:
            flash(_("Nothing changed."), "info")
        return redirect(url_for("admin.outlets", uscc=enterprise.uscc), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/enterprise_form.html", form=form, enterprise=enterprise), status


def _outlet_form(obj=None) -> AdminOutletForm:
    form = AdminOutletForm(obj=obj)
    form.division_code.choices = queries.division_choices(_locale(), for_outlets=True)
    if obj is not None and request.method == "GET":
        form.uscc.data = obj.enterprise.uscc
        form.category.data = obj.category.value
        form.lat.data = "" if obj.latitude is None else str(obj.latitude)
        form.long.data = "" if obj.longitude is None else str(obj.longitude)
        form.reason.data = ""
    return form


@bp.route("/outlets/new", methods=["GET", "POST"])
def new_outlet():
    _admin_only()
    form = _outlet_form()
    if request.method == "GET" and request.args.get("uscc"):
        form.uscc.data = request.args["uscc"]
    if form.validate_on_submit():
        enterprise = enterprise_by_uscc(form.uscc.data)
        if enterprise is None:
            form.uscc.errors.append(_("No enterprise has this code: add the enterprise first."))
        else:
            try:
                outlet = registry.create_outlet(
                    enterprise, form.values(), _actor(), form.reason.data.strip()
                )
                db.session.commit()
            except registry.RegistryError as refused:
                db.session.rollback()
                getattr(form, refused.field).errors.append(str(refused.message))
            else:
                flash(_("Outlet %(code)s created.", code=outlet.code), "success")
                return redirect(url_for("admin.outlets", uscc=enterprise.uscc), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/outlet_form.html", form=form, outlet=None), status


@bp.route("/outlets/<code>/edit", methods=["GET", "POST"])
def edit_outlet(code: str):
    _admin_only()
    outlet = outlet_by_code(code) or abort(404)
    form = _outlet_form(obj=outlet if request.method == "GET" else None)
    form.uscc.data = outlet.enterprise.uscc  # moving an outlet to another merchant: not here
    if form.validate_on_submit():
        try:
            changed = registry.update_outlet(
                outlet, form.values(), _actor(), form.reason.data.strip()
            )
            db.session.commit()
        except registry.RegistryError as refused:
            db.session.rollback()
            getattr(form, refused.field).errors.append(str(refused.message))
        else:
            flash(_("Outlet saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("admin.outlets", uscc=outlet.enterprise.uscc), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/outlet_form.html", form=form, outlet=outlet), status


@bp.route("/import", methods=["GET", "POST"])
def import_file():
    _admin_only()
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        kind = EnterpriseImport() if form.kind.data == "enterprises" else OutletImport()
        upload = form.file.data
        report = run_import(
            kind,
            upload.stream,
            upload.filename or "upload.csv",
            _actor(),
            reason=form.reason.data.strip(),
            dry_run=form.dry_run.data,
            all_or_nothing=form.all_or_nothing.data,
        )
    status = 422 if request.method == "POST" and (report is None or not report.ok) else 200
    return render_template("admin/import.html", form=form, report=report), status


@bp.get("/posters.pdf")
def posters():
    size = request.args.get("size", "a5")
    layout = request.args.get("layout", "posters")
    if size not in POSTER_SIZES or layout not in ("posters", "stickers"):
        abort(400, description=_("size must be a4, a5 or a6; layout posters or stickers."))
    uscc = request.args.get("uscc") or None
    division = request.args.get("division") or None
    if not access.is_admin(current_user) and not (uscc or division):
        division = current_user.agency.division_code
    selection = PosterSelection(
        uscc=normalise_uscc(uscc) if uscc else None,
        division=division,
        within_divisions=access.area_of(current_user),
    )
    return pdf_response(selection, size, layout, "anxin-posters")


def pdf_response(selection: PosterSelection, size: str, layout: str, stem: str):
    # About 3.5 kB a poster: a city's few thousand outlets fit in memory; a province's
    # hundreds of thousands are a job for `flask outlets posters`, which writes to a file.
    buffer = io.BytesIO()
    if write_posters(selection, buffer, size=size, layout=layout) == 0:
        abort(404, description=_("No outlet matches: there is nothing to print."))
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{stem}-{layout}-{size}.pdf",
    )


@bp.get("/changes")
def changes():
    _admin_only()
    filters = ChangeFilter(
        subject_type=request.args.get("type", "")[:32],
        subject_key=request.args.get("key", "").strip()[:64],
        actor=request.args.get("actor", "").strip()[:255],
    )
    before = request.args.get("before", type=int)
    rows, next_before = changes_page(filters, before)
    return render_template(
        "admin/changes.html", rows=rows, next_before=next_before, filters=filters
    )


# Routes on the same blueprint, kept in their own modules; importing attaches them.
from complaints.admin import agency_views, policy_views, staff_views  # noqa: E402, F401
