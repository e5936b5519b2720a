"""Code-based supervision on a phone: the outlet's dossier and the inspection form.

Inspectors only (AccountRole.is_inspector), any outlet in the province (inspection teams are
sent across districts); the scan page sends a signed-in inspector here.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from complaints.alerts.models import Alert, AlertStatus
from complaints.alerts.presenters import describe, rule_label
from complaints.cases.evidence import EvidenceRejected, send_evidence_file
from complaints.cases.models import Case
from complaints.compensation.models import RecoveryOrder, RecoveryState
from complaints.console.presenters import STATE_LABELS, deadline_view
from complaints.credit.presenters import GRADE_COLOURS, portal_context
from complaints.credit.queries import public_standing
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Outlet
from complaints.outbox.services import after_commit
from complaints.supervision import services
from complaints.supervision.checklists import checklist_for
from complaints.supervision.forms import RESULT_LABELS, InspectionForm
from complaints.supervision.models import Inspection, InspectionPhoto, InspectionResult
from complaints.timers.services import open_deadlines_for
from workflows.states import OPEN_STATES

bp = Blueprint("supervision", __name__, url_prefix="/supervision")
OPEN_RECOVERIES = (RecoveryState.OPEN, RecoveryState.REPAYMENT_RECORDED, RecoveryState.OVERDUE)


@bp.before_request
@login_required
def _inspectors_only():
    if not current_user.role.is_inspector or current_user.agency_id is None:
        abort(403)


@bp.get("/")
def home():
    """Where an inspector lands: scan a code with the phone's camera, or type the outlet code."""
    code = (request.args.get("code") or "").strip().upper()
    if code:
        return redirect(url_for("supervision.outlet", code=code), code=303)
    return render_template("supervision/home.html")


def _outlet(code: str) -> Outlet:
    return db.session.scalar(select(Outlet).where(Outlet.code == code)) or abort(404)


@bp.get("/outlets/<code>")
def outlet(code: str):
    place = _outlet(code)
    now = utcnow()
    enterprise_id = place.enterprise_id
    cases = db.session.scalars(
        select(Case)
        .where(Case.enterprise_id == enterprise_id, Case.state.in_(OPEN_STATES))
        .order_by(Case.created_at.desc())
        .limit(50)
    ).all()
    deadlines = open_deadlines_for(c.id for c in cases)
    open_cases = [(c, deadline_view(deadlines.get(c.id), now)) for c in cases]
    inspections = db.session.scalars(
        select(Inspection)
        .where(Inspection.enterprise_id == enterprise_id)
        .order_by(Inspection.created_at.desc())
        .limit(20)
    ).all()
    receivables = db.session.scalars(
        select(RecoveryOrder).where(
            RecoveryOrder.enterprise_id == enterprise_id, RecoveryOrder.state.in_(OPEN_RECOVERIES)
        )
    ).all()
    alerts = db.session.scalars(
        select(Alert).where(
            Alert.enterprise_id == enterprise_id, Alert.status != AlertStatus.CLOSED
        )
    ).all()
    standing = public_standing(enterprise_id, now)
    return render_template(
        "supervision/outlet.html",
        outlet=place,
        enterprise=place.enterprise,
        standing=standing,
        colours=GRADE_COLOURS.get(standing.grade),
        open_cases=open_cases,
        inspections=inspections,
        receivables=receivables,
        receivable_fen=sum(r.amount_fen for r in receivables),
        alerts=alerts,
        state_labels=STATE_LABELS,
        result_labels=RESULT_LABELS,
        rule_label=rule_label,
        describe=describe,
        **portal_context(enterprise_id, now),
    )


def _render_form(place, form, status=200, errors=()):
    return render_template(
        "supervision/inspect.html",
        outlet=place,
        form=form,
        checklist=checklist_for(place.category),
        ticked=set(request.form.getlist("checklist")) if request.method == "POST" else set(),
        errors=errors,
    ), status


@bp.get("/outlets/<code>/inspect")
def inspect_form(code: str):
    return _render_form(_outlet(code), InspectionForm())


@bp.post("/outlets/<code>/inspect")
def inspect(code: str):
    place = _outlet(code)
    form = InspectionForm()
    if not form.validate_on_submit():
        return _render_form(place, form, status=422)
    ticked = set(request.form.getlist("checklist"))
    data = services.InspectionInput(
        checklist={key: key in ticked for key in checklist_for(place.category)},
        findings=form.findings.data.strip(),
        result=InspectionResult(form.result.data),
        rectify_by=form.rectify_by.data,
        open_case=form.open_case.data,
        contact_phone=form.contact_phone.data if form.open_case.data else None,
    )
    try:
        inspection = services.record_inspection(
            place, current_user, data, request.files.getlist(form.photos.name), utcnow()
        )
    except EvidenceRejected as rejected:
        db.session.rollback()
        return _render_form(place, form, status=422, errors=[str(rejected)])
    db.session.commit()
    after_commit()
    flash(_("Inspection recorded."), "success")
    return redirect(
        url_for("supervision.outlet", code=place.code, _anchor=f"inspection-{inspection.id}"),
        code=303,
    )


@bp.post("/inspections/<int:inspection_id>/rectified")
def rectified(inspection_id: int):
    inspection = db.session.get(Inspection, inspection_id) or abort(404)
    form = InspectionForm(formdata=None)
    if not form.validate_on_submit() and form.csrf_token.errors:
        abort(400, description=_("The form expired. Reload the page and try again."))
    if services.mark_rectified(inspection, utcnow()):
        db.session.commit()
        flash(_("Rectification confirmed."), "success")
    return redirect(url_for("supervision.outlet", code=inspection.outlet.code), code=303)


@bp.get("/photos/<int:photo_id>")
def photo(photo_id: int):
    item = db.session.get(InspectionPhoto, photo_id) or abort(404)
    return send_evidence_file(item.stored_name, item.content_type)
