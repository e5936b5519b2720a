"""Admin screens for agencies and routing rules. On the admin blueprint, behind its gate."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from complaints.admin import agencies as service
from complaints.admin import queries
from complaints.admin.forms import ANY, AgencyForm, PreviewForm, RemoveRuleForm, RoutingRuleForm
from complaints.admin.registry import RegistryError
from complaints.admin.views import _actor, _admin_only, _locale, bp
from complaints.agencies.models import Agency, RoutingRule
from complaints.categories import Category
from complaints.extensions import db


def _agency_choices() -> list[SelectChoice]:
    agencies = db.session.scalars(select(Agency).order_by(Agency.division_code, Agency.slug))
    return [SelectChoice(a.slug, a.name(_locale())) for a in agencies]


@bp.get("/agencies")
def agencies():
    _admin_only()
    rows = db.session.scalars(select(Agency).order_by(Agency.division_code, Agency.slug))
    return render_template("admin/agencies.html", rows=list(rows))


def _agency_form(obj=None) -> AgencyForm:
    form = AgencyForm(obj=obj if request.method == "GET" else None)
    form.division_code.choices = queries.division_choices(_locale())
    return form


@bp.route("/agencies/new", methods=["GET", "POST"])
@bp.route("/agencies/<slug>/edit", methods=["GET", "POST"])
def agency_form(slug: str | None = None):
    _admin_only()
    agency = None
    if slug is not None:
        agency = db.session.scalar(select(Agency).where(Agency.slug == slug)) or abort(404)
    form = _agency_form(agency)
    if agency is not None:
        form.slug.data = agency.slug  # the key other records and accounts refer to
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        try:
            if agency is None:
                service.create_agency(form.slug.data, form.values(), _actor(), reason)
            else:
                service.update_agency(agency, form.values(), _actor(), reason)
            db.session.commit()
        except RegistryError as refused:
            db.session.rollback()
            getattr(form, refused.field).errors.append(str(refused.message))
        else:
            flash(_("Agency saved."), "success")
            return redirect(url_for("admin.agencies"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/agency_form.html", form=form, agency=agency), status


def _rule_form() -> RoutingRuleForm:
    form = RoutingRuleForm()
    form.division_code.choices = [ANY, *queries.division_choices(_locale())]
    form.agency.choices = _agency_choices()
    return form


def _render_routing(rule_form=None, status=200):
    preview_form = PreviewForm(request.args)
    preview_form.division.choices = queries.division_choices(_locale())
    result = None
    if request.args.get("division") and preview_form.validate():
        result = service.preview(preview_form.division.data, Category(preview_form.category.data))
    rules = db.session.scalars(
        select(RoutingRule).order_by(RoutingRule.division_code, RoutingRule.category)
    )
    return render_template(
        "admin/routing.html",
        rules=list(rules),
        rule_form=rule_form or _rule_form(),
        remove_form=RemoveRuleForm(),
        preview_form=preview_form,
        result=result,
        unrouted=service.unrouted_divisions(),
    ), status


@bp.get("/routing")
def routing():
    _admin_only()
    return _render_routing()


@bp.post("/routing/rules")
def add_rule():
    _admin_only()
    form = _rule_form()
    if not form.validate_on_submit():
        return _render_routing(form, 422)
    agency = db.session.scalar(select(Agency).where(Agency.slug == form.agency.data))
    service.add_rule(
        form.division_code.data or None,
        Category(form.category.data) if form.category.data else None,
        agency,
        (form.note.data or "").strip(),
        _actor(),
        form.reason.data.strip(),
    )
    db.session.commit()
    flash(_("Routing rule added."), "success")
    return redirect(url_for("admin.routing"), code=303)


@bp.post("/routing/rules/<int:rule_id>/remove")
def remove_rule(rule_id: int):
    _admin_only()
    rule = db.session.get(RoutingRule, rule_id) or abort(404)
    form = RemoveRuleForm()
    if not form.validate_on_submit():
        flash(_("Say why the rule is removed."), "error")
        return redirect(url_for("admin.routing"), code=303)
    service.remove_rule(rule, _actor(), form.reason.data.strip())
    db.session.commit()
    flash(_("Routing rule removed."), "success")
    return redirect(url_for("admin.routing"), code=303)
