"""/console/alerts: the agency's risk alerts, the cases behind each, acknowledge and close.

Any regulator of the agency may read and work them (the duty officer is whoever is on duty).
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import Length

from complaints.alerts import presenters, services
from complaints.alerts.models import AlertStatus
from complaints.cases.models import Case
from complaints.console.presenters import STATE_LABELS
from complaints.database import utcnow
from complaints.extensions import db
from complaints.forms import Form

bp = Blueprint("alerts", __name__, url_prefix="/console/alerts")


class NoteForm(Form):
    note = TextAreaField(_l("Note"), validators=[Length(max=services.MAX_NOTE)])


@bp.before_request
@login_required
def _regulators_only():
    if not current_user.role.is_regulator or current_user.agency_id is None:
        abort(403)


@bp.get("/")
def index():
    return render_template(
        "alerts/index.html",
        open_alerts=services.open_alerts(current_user.agency_id),
        closed=services.recent_closed(current_user.agency_id),
        labels=presenters,
    )


def _render(alert, form=None, status=200):
    cases = []
    if alert.case_ids:
        cases = list(
            db.session.scalars(
                select(Case).where(Case.id.in_(alert.case_ids)).order_by(Case.id.desc())
            )
        )
    return render_template(
        "alerts/detail.html",
        alert=alert,
        cases=cases,
        form=form or NoteForm(formdata=None),
        labels=presenters,
        state_labels=STATE_LABELS,
        statuses=AlertStatus,
    ), status


@bp.get("/<int:alert_id>")
def detail(alert_id: int):
    alert = services.alert_for(alert_id, current_user) or abort(404)
    return _render(alert)


@bp.post("/<int:alert_id>/<action>")
def work(alert_id: int, action: str):
    alert = services.alert_for(alert_id, current_user) or abort(404)
    steps = {"acknowledge": services.acknowledge, "close": services.close}
    if action not in steps:
        abort(404)
    form = NoteForm()
    if not form.validate_on_submit():
        return _render(alert, form, status=422)
    try:
        steps[action](alert, current_user, form.note.data or "", utcnow())
    except services.AlertRefused as refused:
        db.session.rollback()
        form.note.errors = [*form.note.errors, refused.message]
        return _render(services.alert_for(alert_id, current_user), form, status=422)
    db.session.commit()
    flash(_("Alert updated: %(status)s", status=presenters.STATUS_LABELS[alert.status]), "success")
    return redirect(url_for("alerts.detail", alert_id=alert.id), code=303)
