"""/console/analytics: the agency's (or the province's) picture, every chart with its table.

Supervisors and admins only (AccountRole.sees_analytics); the province view for admins
(AccountRole.sees_province). Thin: parse the filters, read the tables, render or send CSV.
"""

import csv
import io
from datetime import timedelta

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from complaints.analytics import queries
from complaints.analytics.forms import AnalyticsFilterForm
from complaints.analytics.rollups import local_day
from complaints.categories import Category
from complaints.console.queries import divisions_of
from complaints.database import utcnow
from complaints.exports.streams import csv_safe
from complaints.replica import reads_from_replica

bp = Blueprint("analytics", __name__, url_prefix="/console/analytics")
DEFAULT_DAYS = 30


@bp.before_request
@login_required
def _supervisors_only():
    if not current_user.role.sees_analytics or current_user.agency_id is None:
        abort(403)


def _locale() -> str:
    return str(get_locale() or "zh")


def _form() -> AnalyticsFilterForm:
    form = AnalyticsFilterForm(request.args)
    any_choice = SelectChoice("", _("Any"))
    form.category.choices = [any_choice] + [SelectChoice(c.value, c.label) for c in Category]
    form.division.choices = [any_choice] + [
        SelectChoice(d.code, d.name(_locale())) for d in divisions_of(current_user.agency)
    ]
    if not current_user.role.sees_province:
        form.scope.choices = form.scope.choices[:1]
    return form


def _read(form):
    today = local_day(utcnow())
    end = form.end.data or today
    start = form.start.data or end - timedelta(days=DEFAULT_DAYS - 1)
    filters = queries.Filters(
        start=start,
        end=end,
        category=Category(form.category.data) if form.category.data else None,
        division=form.division.data or None,
    )
    scope = queries.scope_for(current_user, form.scope.data == "province")
    return scope, filters


@bp.get("/")
@reads_from_replica
def page():
    form = _form()
    if not form.validate():
        return render_template("analytics/page.html", form=form, tables=[], args={}), 400
    scope, filters = _read(form)
    tables = queries.dashboard(scope, filters, _locale())
    args = {k: v for k, v in request.args.items() if v and k != "lang"}
    return render_template(
        "analytics/page.html", form=form, tables=tables, filters=filters, args=args
    )


@bp.get("/<key>.csv")
@reads_from_replica
def chart_csv(key: str):
    form = _form()
    if not form.validate():
        fields = ", ".join(
            f"{f.label.text}: {' '.join(map(str, f.errors))}" for f in form if f.errors
        )
        abort(400, description=_("Check the filters: %(fields)s", fields=fields))
    scope, filters = _read(form)
    table = queries.chart(key, scope, filters, _locale())
    if table is None:
        abort(404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(c) for c in table.columns])
    for row in table.rows:
        writer.writerow(csv_safe(v) for v in row)
    name = f"{key}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
